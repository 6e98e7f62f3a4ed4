# Local stand-in for python:3.11-slim-bookworm: Debian bookworm's Python 3.11 with pip, laid out
# like the upstream image (python, pip on PATH, pip installs into the system environment).
FROM imggen-e2e/bookworm-base
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        python3 python3-pip python3-venv ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && rm -f /usr/lib/python3.11/EXTERNALLY-MANAGED \
    && ln -s /usr/bin/python3 /usr/local/bin/python \
    && ln -s /usr/bin/pip3 /usr/local/bin/pip
CMD ["python3"]
