# `make ci` runs what CI runs.
.PHONY: ci test snapshots render validate roundtrip e2e e2e-docker entry-points

ci:
	# fmt, clippy, cargo test, scripts/validate.sh, scripts/entry-points.sh, scripts/roundtrip.sh,
	# the e2e scripts (buildah, a Docker daemon, registries)
	bash .ci/run

test:
	cargo test

# Rewrite snapshots/ from the current profiles and packs; review the diff before committing.
snapshots:
	IMGGEN_UPDATE_SNAPSHOTS=1 cargo test --test integration snapshots

render:
	cargo run --release -- render

validate:
	bash scripts/validate.sh

e2e:
	bash scripts/e2e-build.sh

e2e-docker:
	bash scripts/e2e-docker.sh

roundtrip:
	bash scripts/roundtrip.sh

entry-points:
	bash scripts/entry-points.sh
