#!/usr/bin/env bash
# How the e2e scripts report (sourced, not run): one line per check, its output when it fails,
# the counts, and a summary table by part and image.
#
# result STATUS PART IMAGE TEST [DETAIL]   a check's outcome (DETAIL shown when it failed)
# check PART IMAGE TEST COMMAND...          runs COMMAND, its output the detail
# skip PART IMAGE REASON                     a check that cannot run here, and why
# report_end                                 the table and `N passed, M failed, K skipped`;
#                                            its status is whether nothing failed

passed=0
failed=0
skipped=0
outcomes=() # "PART IMAGE ok|FAIL|skip", for the summary table
line() { printf '%-5s %-22s %-20s %s\n' "$@"; }
result() {
    outcomes+=("$2 $3 $([ "$1" = 0 ] && echo ok || echo FAIL)")
    if [ "$1" = 0 ]; then
        passed=$((passed + 1))
        line ok "$2" "$3" "$4"
    else
        failed=$((failed + 1))
        line FAIL "$2" "$3" "$4"
        [ -n "${5:-}" ] && printf '%s\n' "$5" | tail -n 25 | sed 's/^/      /'
    fi
}
check() {
    local part=$1 image=$2 test=$3 out
    shift 3
    out=$("$@" 2>&1)
    result $? "$part" "$image" "$test" "$out"
}
skip() {
    outcomes+=("$1 $2 skip")
    skipped=$((skipped + 1))
    line skip "$1" "$2" "$3"
}
report_end() {
    echo
    echo "summary: checks per part and image"
    printf '%s\n' "${outcomes[@]}" | awk '
        { key = $1 " " $2; if (!(key in seen)) { seen[key] = 1; order[++n] = key } count[key, $3]++ }
        END {
            printf "%-28s %-24s %4s %4s %4s\n", "part", "image", "ok", "FAIL", "skip"
            for (i = 1; i <= n; i++) {
                split(order[i], part, " ")
                printf "%-28s %-24s %4d %4d %4d\n", part[1], part[2], count[order[i], "ok"], count[order[i], "FAIL"], count[order[i], "skip"]
            }
        }'
    echo "$passed passed, $failed failed, $skipped skipped"
    [ "$failed" = 0 ]
}
