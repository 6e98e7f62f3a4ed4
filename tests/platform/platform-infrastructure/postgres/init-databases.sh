#!/bin/sh
# The platform's own init script: the OpenMetadata database and its owner. It creates them
# without IF NOT EXISTS, so anything that creates them first makes the first start fail.
set -e
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "${POSTGRES_DB:-$POSTGRES_USER}" <<SQL
CREATE USER ${OPENMETADATA_DB_USER:-openmetadata_user} WITH PASSWORD '${OPENMETADATA_DB_PASSWORD}';
CREATE DATABASE openmetadata_db OWNER ${OPENMETADATA_DB_USER:-openmetadata_user};
SQL
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname openmetadata_db <<'SQL'
CREATE EXTENSION IF NOT EXISTS "uuid-ossp";
SQL
