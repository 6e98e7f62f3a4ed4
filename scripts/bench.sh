#!/usr/bin/env bash
# Whole-process timings of imggen: one render, and render/check over generated profile sets of
# 10, 100, 1,000 and 10,000 profiles (variations of the built-ins across the knobs).
# Prints the same table every run: profiles, command, median wall ms, per-profile µs, peak RSS.
# BENCH_SIZES overrides the sizes (e.g. "10 100"); BENCH_RUNS the runs per measurement.
set -euo pipefail
cd "$(dirname "$0")/.." || exit 1
cargo build --release --quiet
imggen=$(pwd)/target/release/imggen
runs=${BENCH_RUNS:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }

measure() { python3 scripts/bench/measure.py "$@"; }

printf '%-9s %-28s %12s %16s %10s\n' profiles command "median ms" "per profile µs" "peak MB"
mkdir -p "$work/one"
read -r ms mb < <(measure 50 "$work/one" "$imggen" render --profile corporate-hardened --out out)
printf '%-9s %-28s %12s %16s %10s\n' 1 "render (one, cold process)" "$ms" "-" "$mb"
read -r ms mb < <(measure 50 "$work/one" "$imggen" check --profile corporate-hardened --out out)
printf '%-9s %-28s %12s %16s %10s\n' 1 "check (one, cold process)" "$ms" "-" "$mb"
for n in ${BENCH_SIZES:-10 100 1000 10000}; do
    dir=$work/set-$n
    python3 scripts/bench/gen_profiles.py "$dir" "$n"
    total=$((n + $("$imggen" list profiles | grep -vc '^gen-' || true)))
    (cd "$dir" && "$imggen" render --all --out out >/dev/null)
    read -r ms mb < <(measure "$runs" "$dir" "$imggen" check --all --out out)
    per=$(python3 -c "print(f'{$ms * 1000 / $total:.0f}')")
    printf '%-9s %-28s %12s %16s %10s\n' "$total" "check --all" "$ms" "$per" "$mb"
    read -r ms mb < <(measure "$runs" "$dir" "$imggen" render --all --out out)
    per=$(python3 -c "print(f'{$ms * 1000 / $total:.0f}')")
    printf '%-9s %-28s %12s %16s %10s\n' "$total" "render --all (up to date)" "$ms" "$per" "$mb"
done
