# Local stand-in for postgres:*-bookworm: Debian's PostgreSQL 15 server with an entrypoint of
# imggen's own (standin-entrypoint.sh) that honours the documented POSTGRES_* variables and
# runs /docker-entrypoint-initdb.d/. It cannot be PostgreSQL 17 or carry the PostgreSQL
# project's apt repository; the e2e script says what it skips because of that.
FROM imggen-e2e/bookworm-base
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-15 \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /docker-entrypoint-initdb.d /var/lib/postgresql/data /var/run/postgresql \
    && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql
COPY standin-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENV PATH=/usr/lib/postgresql/15/bin:$PATH \
    PGDATA=/var/lib/postgresql/data
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
