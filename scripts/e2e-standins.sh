#!/usr/bin/env bash
# Builds the e2e's stand-in images, or finds them cached (scripts/e2e/standins.sh): what
# scripts/e2e-build.sh and scripts/e2e-docker.sh build from. On a fresh machine this takes
# minutes, mostly downloads, so CI starts it first, beside the cargo stages.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
# shellcheck source=scripts/e2e/standins.sh
. scripts/e2e/standins.sh
install_missing buildah=buildah debootstrap=debootstrap || exit 1
began=$SECONDS
standins_ready || exit 1
echo "stand-ins ready ($((SECONDS - began)) s)"
