# Local stand-in for postgres:17.5-bookworm: PostgreSQL 17 from Debian 13 (trixie), the first
# Debian release that ships it (with postgresql-plpython3-17, which the PL/Python knob installs),
# and an entrypoint of imggen's own (standin-entrypoint.sh) that honours the documented
# POSTGRES_* variables and runs /docker-entrypoint-initdb.d/.
FROM imggen-e2e/trixie-base
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-17 \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /docker-entrypoint-initdb.d /var/lib/postgresql/data /var/run/postgresql \
    && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql
COPY standin-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENV PATH=/usr/lib/postgresql/17/bin:$PATH \
    PGDATA=/var/lib/postgresql/data
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
