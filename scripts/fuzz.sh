#!/usr/bin/env bash
# Fuzzes profile parsing, layering, validation and rendering (fuzz/fuzz_targets/pipeline.rs)
# for a bounded time: FUZZ_SECONDS (default 60). Needs cargo-fuzz; uses the stable toolchain
# with RUSTC_BOOTSTRAP=1, since no nightly can be fetched here. Seeds: the built-in and knob
# profiles. Exits non-zero when libFuzzer finds a crash (saved under fuzz/artifacts/).
set -euo pipefail
cd "$(dirname "$0")/.." || exit 1
seconds=${FUZZ_SECONDS:-60}
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
cp profiles/*.toml tests/knobs/*.toml "$corpus/"
cd fuzz
RUSTC_BOOTSTRAP=1 cargo fuzz run pipeline "$corpus" -- -max_total_time="$seconds" -max_len=4096
