#!/usr/bin/env bash
# The output folder's whole write, remove and read suite where Linux has no `openat2` (kernels
# before 5.6, e.g. RHEL 8, and sandboxes that filter the call): the integration tests of
# render, check, packs, faults and vendor run with every `openat2` of every process failing
# (strace's fault injection, ENOSYS), so imggen takes its walk of one `openat` per component.
# Fails unless the tests pass and `openat2` was really refused.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
install_missing strace=strace || exit 1
bin=$(cargo test --test integration --no-run 2>&1 | sed -n 's/.*Executable tests\/lib.rs (\(.*\))$/\1/p')
[ -x "$bin" ] || { echo "no integration test binary found"; exit 1; }
log=$(mktemp)
trap 'rm -f "$log"' EXIT
strace -f -qq -o "$log" -e trace=openat2 -e inject=openat2:error=ENOSYS \
    "$bin" --quiet render:: check:: packs:: faults:: vendor::
status=$?
injected=$(grep -c 'INJECTED' "$log")
echo "openat2 refused $injected times"
[ "$status" = 0 ] && [ "$injected" -gt 0 ]
