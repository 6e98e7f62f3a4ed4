#!/usr/bin/env bash
# The build benchmark: what users wait for is `imggen build`. On buildah (vfs storage, the e2e
# stand-ins as the upstream bases, Debian's archive and PyPI reached as builds reach them here),
# corporate-hardened's Debian images (7), built with the machine's CA certificates and PyPI as
# the pip index, and one pinned pip requirement in the Python runtime:
#
#   cold               every layer built (the profile's images and buildah's layers removed)
#   no change          the same again (every image up to date: the engine is not run)
#   one requirement    the Python runtime's pip requirement moved to another version
#   cold, --jobs 1     one image at a time, against the default (the number of cores)
#   (the cold builds twice each, alternating, the lower figure kept: they vary with the network)
#   and the Python runtime alone: cold, then after one requirement changed.
#
# Each is run once but the cold ones (minutes in all; run by hand, not in CI) and printed as seconds and as a
# ratio to its cold build. With --write, the table also goes to docs/build-bench.md.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
# shellcheck source=scripts/e2e/standins.sh
. scripts/e2e/standins.sh
write=false
[ "${1:-}" = --write ] && write=true
install_missing buildah=buildah debootstrap=debootstrap bc=bc || exit 1
build_imggen || exit 1
standins_ready || exit 1
work=$(mktemp -d)
# Each build's output, kept until the next run for reading where the time went.
logs=$cache/bench-build
rm -rf "$logs" && mkdir -p "$logs"
cleanup() {
    forget
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

only=python-runtime,kerberos-test,postgres,openmetadata-server,opensearch,mockserver,astronomer
mkdir -p "$work/certs"
cp profiles/certs/example-corporate-ca.crt "$work/certs/"
find /usr/local/share/ca-certificates -name '*.crt' -exec cp {} "$work/certs/" \;
mapfile -t certs < <(cd "$work" && find certs -name '*.crt' | sort)
# bench_profile VERSION: corporate-hardened, PyPI and this machine's CAs, six==VERSION.
bench_profile() {
    echo 'extends = "builtin:corporate-hardened"'
    echo '[corporate]'
    printf 'ca_certificates = ['
    printf '"%s", ' "${certs[@]}"
    printf ']\npip_index_url = "https://pypi.org/simple"\npip_trusted_host = "pypi.org"\n'
    printf '[python]\npip_packages = ["six==%s"]\n' "$1"
}
# The images the profile builds, and every layer buildah kept for them: a cold start.
forget() {
    buildah images --format '{{.Name}}:{{.Tag}}' 2>/dev/null | grep '^registry.corp.example/platform/' |
        xargs -r buildah rmi >/dev/null 2>&1
    buildah rmi --prune >/dev/null 2>&1
}
# timed LABEL ARGS...: `imggen build` with ARGS; prints the seconds it took, fails with its log.
timed() {
    local label=$1 began
    shift
    began=$(date +%s.%N)
    if ! "$imggen" build -p "$work/bench.toml" --out "$work/out" --engine buildah "$@" \
        >"$logs/$label.log" 2>&1; then
        echo "imggen build $* failed:" >&2
        tail -n 40 "$logs/$label.log" >&2
        exit 1
    fi
    echo "$(date +%s.%N) - $began" | bc
}
rendered() { "$imggen" render -p "$work/bench.toml" --out "$work/out" --force >/dev/null || exit 1; }

bench_profile 1.16.0 >"$work/bench.toml"
rendered
forget
cold_a=$(timed cold --only "$only")
again=$(timed again --only "$only")
bench_profile 1.17.0 >"$work/bench.toml"
rendered
requirement=$(timed requirement --only "$only")
# Cold builds vary with the network: each kind twice, alternating, the lower figure kept.
forget
serial_a=$(timed serial --only "$only" --jobs 1)
forget
cold_b=$(timed cold-again --only "$only")
forget
serial_b=$(timed serial-again --only "$only" --jobs 1)
lower() { echo "if ($1 < $2) $1 else $2" | bc -l; }
cold=$(lower "$cold_a" "$cold_b")
serial=$(lower "$serial_a" "$serial_b")
bench_profile 1.16.0 >"$work/bench.toml"
rendered
forget
python_cold=$(timed python-cold --only python-runtime)
bench_profile 1.17.0 >"$work/bench.toml"
rendered
python_requirement=$(timed python-requirement --only python-runtime)
current=$(grep -c "is up to date" "$logs/again.log")

row() { printf '%-58s %9.1f %9.2f\n' "$1" "$2" "$(echo "$2 / $3" | bc -l)"; }
table=$(
    printf '%-58s %9s %9s\n' "imggen build, buildah" seconds "of cold"
    row "corporate-hardened, 7 Debian images: cold (--jobs $(nproc))" "$cold" "$cold"
    row "... no change ($current of 7 up to date, the engine not run)" "$again" "$cold"
    row "... one pip requirement of the Python runtime changed" "$requirement" "$cold"
    row "... cold, --jobs 1" "$serial" "$cold"
    row "Python runtime alone: cold" "$python_cold" "$python_cold"
    row "... one pip requirement changed" "$python_requirement" "$python_cold"
)
# The targets (issue #36), met or missed: a ratio and its bound.
target() {
    local ratio verdict=met
    ratio=$(echo "$2 / $3" | bc -l)
    (($(echo "$ratio > $4" | bc -l))) && verdict=MISSED
    printf 'target: %-52s %5.2f <= %4.2f  %s\n' "$1" "$ratio" "$4" "$verdict"
}
targets=$(
    target "no-change rebuild / cold build" "$again" "$cold" 0.05
    target "Python runtime: one requirement changed / cold" "$python_requirement" "$python_cold" 0.30
    target "cold build, default --jobs / --jobs 1" "$cold" "$serial" 0.70
)
table=$(printf '%s\n\n%s\n' "$table" "$targets")
echo "$table"
if $write; then
    {
        echo "# Build benchmark"
        echo
        echo "Generated by \`scripts/bench-build.sh --write\` on $(date -u +%Y-%m-%d), $(nproc) cores,"
        echo "buildah $(buildah --version | awk '{print $3}') (vfs); cold builds the lower of two runs, the others one"
        echo "run each. Do not edit by hand."
        echo
        echo '```'
        echo "$table"
        echo '```'
    } >docs/build-bench.md
    echo "wrote docs/build-bench.md"
fi
