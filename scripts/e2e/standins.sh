#!/usr/bin/env bash
# The e2e's local stand-ins for the upstream images (sourced, not run), built with buildah into
# its storage and cached there between runs; shared by scripts/e2e-build.sh and
# scripts/e2e-docker.sh. Sets $cache (IMGGEN_E2E_CACHE, a folder that survives runs) and
# buildah's settings (vfs storage, chroot isolation); needs scripts/lib.sh sourced. Run from
# the repository root.
#
#   bookworm base  debootstrap --variant=minbase bookworm, imported with buildah
#   trixie base    the same for Debian 13 (PostgreSQL 17)
#   python         Debian bookworm's Python 3.11 with pip
#   postgres       Debian 13 PostgreSQL 17 + an entrypoint of our own
#   jvm            Debian's OpenJDK 17 runtime (OpenMetadata server, OpenSearch, MockServer)
#   astronomer     Python 3.11 with the Astronomer runtime's user

cache=${IMGGEN_E2E_CACHE:-/var/cache/imggen-e2e}
export STORAGE_DRIVER=vfs BUILDAH_ISOLATION=chroot
mkdir -p "$cache"

has_image() { buildah inspect --type image "$1" >/dev/null 2>&1; }

# STANDIN_TAGS: each stand-in, then the upstream names (and corporate-hardened's registry
# layout) it is tagged under.
STANDIN_TAGS=(
    "python python:3.11-slim-bookworm docker.io/library/python:3.11-slim-bookworm registry.corp.example/mirror/library/python:3.11-slim-bookworm"
    "postgres postgres:17.5-bookworm docker.io/library/postgres:17.5-bookworm registry.corp.example/mirror/library/postgres:17.5-bookworm"
    "jvm docker.getcollate.io/openmetadata/server:1.10.1 registry.corp.example/mirror/openmetadata/server:1.10.1 opensearchproject/opensearch:2.19.2 registry.corp.example/mirror/opensearchproject/opensearch:2.19.2 mockserver/mockserver:5.15.0 registry.corp.example/mirror/mockserver/mockserver:5.15.0"
    "astronomer quay.io/astronomer/astro-runtime:11.10.0 registry.corp.example/mirror/astronomer/astro-runtime:11.10.0"
)

debian_base() { # debian_base SUITE: debootstrap --variant=minbase SUITE as imggen-e2e/SUITE-base
    local suite=$1 tree=$cache/rootfs-$1 ctr
    has_image "imggen-e2e/$suite-base" && return 0
    echo "building the $suite base with debootstrap (cached afterwards)"
    retry sh -c "rm -rf '$tree' && debootstrap --variant=minbase $suite '$tree' http://deb.debian.org/debian >'$cache/debootstrap-$suite.log' 2>&1" || return 1
    tar -C "$tree" -cf "$tree.tar" . || return 1
    ctr=$(buildah from scratch) || return 1
    buildah add "$ctr" "$tree.tar" / >/dev/null || return 1
    buildah config --cmd /bin/sh "$ctr"
    buildah commit -q "$ctr" "imggen-e2e/$suite-base" >/dev/null || return 1
    buildah rm "$ctr" >/dev/null
    rm -rf "$tree" "$tree.tar"
}

# standin_id NAME: the stand-in's cached name, which carries the hash of its Dockerfile and of
# the entrypoint where the Dockerfile copies it (a change rebuilds it).
standin_id() {
    local files=(scripts/e2e/"$1".Dockerfile)
    grep -q standin-entrypoint.sh "${files[0]}" && files+=(scripts/e2e/standin-entrypoint.sh)
    echo "imggen-e2e/$1:$(cat "${files[@]}" | sha256sum | cut -c1-12)"
}

standin() { # standin NAME UPSTREAM-TAG...: builds NAME unless cached, and tags it
    local name=$1 id tag
    shift
    id=$(standin_id "$name")
    if ! has_image "$id"; then
        echo "building the $name stand-in (cached afterwards)"
        retry buildah bud -q --pull=never -t "$id" -f "scripts/e2e/$name.Dockerfile" scripts/e2e \
            >"$cache/$name.log" 2>&1 || { cat "$cache/$name.log"; return 1; }
    fi
    for tag in "$@"; do buildah tag "$id" "$tag" || return 1; done
}

# standins_ready: every stand-in built (or cached) and tagged. The two bases, then the
# stand-ins, each group side by side (on a cold machine mostly downloads); a failure of any
# fails the whole.
standins_ready() {
    local jobs=() job entry failed=0
    debian_base bookworm & jobs+=($!)
    debian_base trixie & jobs+=($!)
    for job in "${jobs[@]}"; do wait "$job" || failed=1; done
    [ $failed = 0 ] || return 1
    jobs=()
    for entry in "${STANDIN_TAGS[@]}"; do
        # shellcheck disable=SC2086 # a name and its tags, split on purpose
        standin $entry & jobs+=($!)
    done
    for job in "${jobs[@]}"; do wait "$job" || failed=1; done
    return $failed
}
