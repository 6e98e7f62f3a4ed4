# `make ci` runs what CI runs.
.PHONY: ci test snapshots render

ci:
	bash .ci/run

test:
	cargo test

# Rewrite snapshots/ from the current profiles and packs; review the diff before committing.
snapshots:
	IMGGEN_UPDATE_SNAPSHOTS=1 cargo test --test integration snapshots

render:
	cargo run --release -- render
