# Local stand-in for the Astronomer runtime (quay.io/astronomer/astro-runtime): Debian bookworm's
# Python 3.11 with pip in the system environment, run as the `astro` user (uid 50000) like the
# upstream image.
FROM imggen-e2e/bookworm-base
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        python3 python3-pip ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && rm -f /usr/lib/python3.11/EXTERNALLY-MANAGED \
    && ln -s /usr/bin/python3 /usr/local/bin/python \
    && useradd --uid 50000 --user-group --create-home astro
USER astro
CMD ["python3"]
