#!/usr/bin/env bash
# Shared by the scripts in this folder (sourced, not run).

# retry COMMAND...: up to 4 tries with a growing pause, so a mirror hiccup does not fail CI;
# a real failure still fails after the last try.
retry() {
    local n
    for n in 1 2 3 4; do
        "$@" && return 0
        echo "retrying ($n): $*" >&2
        sleep $((n * 5))
    done
    return 1
}
