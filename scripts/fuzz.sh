#!/usr/bin/env bash
# Fuzzes, each for a bounded time (FUZZ_SECONDS, default 60): profile parsing, layering,
# validation and rendering (fuzz/fuzz_targets/pipeline.rs); and the manifest's strict reader
# against the TOML parser (fuzz/fuzz_targets/manifest.rs). Needs cargo-fuzz; uses the stable
# toolchain with RUSTC_BOOTSTRAP=1, since no nightly can be fetched here. Seeds: the built-in
# and knob profiles, and the snapshots' manifests. Exits non-zero when libFuzzer finds a crash
# (saved under fuzz/artifacts/).
set -euo pipefail
cd "$(dirname "$0")/.." || exit 1
seconds=${FUZZ_SECONDS:-60}
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
mkdir -p "$corpus/pipeline" "$corpus/manifest"
cp profiles/*.toml tests/knobs/*.toml "$corpus/pipeline/"
find snapshots -name .imggen-manifest.toml | while read -r manifest; do
    cp "$manifest" "$corpus/manifest/$(echo "$manifest" | tr / _)"
done
cd fuzz
for target in pipeline manifest; do
    RUSTC_BOOTSTRAP=1 cargo fuzz run "$target" "$corpus/$target" -- -max_total_time="$seconds" -max_len=4096
done
