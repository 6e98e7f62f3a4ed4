#!/usr/bin/env bash
# Registries for real: two of Debian's docker-registry on 127.0.0.1, one plain (standing in for
# the upstream registries) and one "corporate" (TLS signed by a throwaway CA, htpasswd login).
#   1. the stand-in images are pushed to the upstream one under their upstream names;
#   2. `imggen mirror --from UPSTREAM` fills the corporate one (a second run copies nothing);
#   3. `imggen lock` pins the bases (digests compared with `skopeo inspect`), render pins FROM;
#   4. `imggen build --push --pin` pulls the base by digest, pushes, pins `.env`;
#   5. a base re-pushed under its tag makes `lock --check` exit 1; `--update` moves the pin;
#   6. an unreachable registry, a bad login, an untrusted CA and a missing tag each exit 2 and
#      leave imggen.lock as it was;
#   7. logins behind credential helpers (credHelpers, credsStore) for lock, mirror and build;
#   8. a login `skopeo login` stored where the containers tools keep theirs (in
#      $XDG_RUNTIME_DIR, and in /run/containers/UID without it);
#   9. logins for two namespaces of one registry, each image taking its own.
# Needs the stand-ins scripts/e2e-build.sh builds (run it first). One line per check; ends with
# `N passed, M failed`; non-zero exit on any failure.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
export STORAGE_DRIVER=vfs BUILDAH_ISOLATION=chroot

# shellcheck source=scripts/lib.sh
. scripts/lib.sh

install_missing docker-registry=docker-registry skopeo=skopeo htpasswd=apache2-utils buildah=buildah \
    openssl=openssl || exit 1
build_imggen || exit 1

passed=0
failed=0
result() { # result STATUS TEST [DETAIL]
    if [ "$1" = 0 ]; then
        passed=$((passed + 1))
        printf 'ok    %s\n' "$2"
    else
        failed=$((failed + 1))
        printf 'FAIL  %s\n' "$2"
        [ -n "${3:-}" ] && printf '%s\n' "$3" | tail -n 20 | sed 's/^/      /'
    fi
}
check() { # check TEST COMMAND...
    local test=$1 out
    shift
    out=$("$@" 2>&1)
    result $? "$test" "$out"
}
fails_with() { # fails_with TEXT STATUS COMMAND...: exits STATUS and says TEXT on stderr
    local text=$1 want=$2 out status
    shift 2
    out=$("$@" 2>&1)
    status=$?
    [ "$status" = "$want" ] && grep -qF -- "$text" <<<"$out" && return 0
    printf 'exit %s (wanted %s); output:\n%s\n' "$status" "$want" "$out"
    return 1
}

# The stand-ins, under the names of the images debian-layered names (the Alpine image by name
# only: the bookworm base stands in, mirror copies bytes, it never runs them).
declare -A standins=(
    [library/python:3.11-slim-bookworm]=docker.io/library/python:3.11-slim-bookworm
    [library/postgres:17.5-bookworm]=docker.io/library/postgres:17.5-bookworm
    [openmetadata/server:1.10.1]=docker.getcollate.io/openmetadata/server:1.10.1
    [opensearchproject/opensearch:2.19.2]=localhost/opensearchproject/opensearch:2.19.2
    [library/alpine:3.19]=imggen-e2e/bookworm-base
    # The platform's other images (its test containers' base, MockServer, the Astronomer
    # runtime): imggen mirrors every image the platform pulls; these are only bytes to copy.
    [library/alpine:latest]=imggen-e2e/bookworm-base
    [mockserver/mockserver:latest]=imggen-e2e/bookworm-base
    [astronomer/astro-runtime:11.10.0]=quay.io/astronomer/astro-runtime:11.10.0
)
for image in "${standins[@]}"; do
    buildah inspect --type image "$image" >/dev/null 2>&1 \
        || { echo "missing stand-in $image: run scripts/e2e-build.sh first"; exit 1; }
done

work=$(mktemp -d)
pids=()
corp=
root_auth=/run/containers/$(id -u)/auth.json
root_auth_made=
# forget_names PREFIX: removes the image names starting with PREFIX from buildah's storage
# (`rmi` of a name an image has beside others only removes the name).
forget_names() {
    buildah images --json 2>/dev/null | python3 -c '
import json, sys
for image in json.load(sys.stdin):
    for name in image.get("names") or []:
        if name.startswith(sys.argv[1]):
            print(name)' "$1" | xargs -r buildah rmi >/dev/null 2>&1
}
cleanup() {
    local pid
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
    if [ -n "$corp" ]; then
        rm -rf "/etc/containers/certs.d/127.0.0.1:$corp"
        # What this run pulled and built: names under a port no later run uses.
        forget_names "127.0.0.1:$corp/"
        if [ -n "$root_auth_made" ]; then
            rm -f "$root_auth" && rmdir "$(dirname "$root_auth")" 2>/dev/null
        elif [ -f "$root_auth" ]; then
            env -u REGISTRY_AUTH_FILE -u XDG_RUNTIME_DIR skopeo logout "127.0.0.1:$corp" >/dev/null 2>&1
        fi
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# --- two registries --------------------------------------------------------------------------
test_pki "$work/pki" >"$work/pki.log" 2>&1 || { cat "$work/pki.log"; exit 1; }
password=$(openssl rand -hex 12)
htpasswd -Bbn e2e "$password" >"$work/htpasswd" 2>/dev/null || exit 1
up=$(free_port)
corp=$(free_port)
registry() { # registry NAME PORT [EXTRA-YAML]: starts docker-registry with its own storage
    printf 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n%slog:\n  level: warn\n' \
        "$work/$1-data" "$2" "${3:-}" >"$work/$1.yml"
    docker-registry serve "$work/$1.yml" >"$work/$1.log" 2>&1 &
    pids+=($!)
}
registry upstream "$up"
registry corporate "$corp" "  tls:
    certificate: $work/pki/server.crt
    key: $work/pki/server.key
auth:
  htpasswd:
    realm: imggen-e2e
    path: $work/htpasswd
"
for _ in $(seq 50); do
    curl -s -o /dev/null "http://127.0.0.1:$up/v2/" &&
        curl -s -o /dev/null --cacert "$work/pki/test-ca.crt" "https://127.0.0.1:$corp/v2/" && break
    sleep 0.2
done
# buildah and skopeo trust the corporate registry as Docker does: a CA file in certs.d. The
# login is in a Docker config file, which imggen, buildah and skopeo all read.
mkdir -p "/etc/containers/certs.d/127.0.0.1:$corp"
cp "$work/pki/test-ca.crt" "/etc/containers/certs.d/127.0.0.1:$corp/ca.crt"
printf '{"auths":{"127.0.0.1:%s":{"auth":"%s"}}}\n' "$corp" "$(printf 'e2e:%s' "$password" | base64 -w0)" >"$work/auth.json"
export REGISTRY_AUTH_FILE=$work/auth.json

for name in "${!standins[@]}"; do
    buildah push -q --tls-verify=false "${standins[$name]}" "docker://127.0.0.1:$up/$name" >"$work/push.log" 2>&1 \
        || { cat "$work/push.log"; exit 1; }
done
echo "pushed ${#standins[@]} stand-ins to the upstream registry 127.0.0.1:$up"

# --- the project: debian-layered through the corporate registry ------------------------------
project=$work/project
mkdir -p "$project/certs"
cp "$work/pki/test-ca.crt" "$project/certs/"
cat >"$project/registry.toml" <<EOF
# debian-layered, every image through the corporate registry; its CA is the test CA.
extends = "debian-layered"
[corporate]
registry = "127.0.0.1:$corp"
ca_certificates = ["certs/test-ca.crt"]
[python]
tag = "127.0.0.1:$corp/platform/python:e2e"
EOF
cd "$project" || exit 1
digest_of() { # digest_of REFERENCE [SKOPEO-FLAG...]
    local reference=$1
    shift
    skopeo inspect "$@" --format '{{.Digest}}' "docker://$reference" 2>/dev/null
}
lock_hash() { sha256sum imggen.lock 2>/dev/null | cut -c1-64; }

# 2. mirror
check "mirror --dry-run plans 8 copies and copies nothing" \
    sh -c "'$imggen' mirror -p registry.toml --from 127.0.0.1:$up --dry-run | tail -n 1 | grep -qx '8 images to copy, 0 present (dry run: nothing copied)' && ! skopeo inspect docker://127.0.0.1:$corp/library/alpine:3.19 >/dev/null 2>&1"
check "mirror --from upstream --to the profile's registry copies 8 images" \
    sh -c "'$imggen' mirror -p registry.toml --from 127.0.0.1:$up | tail -n 1 | grep -qx '8 images copied, 0 already present'"
for name in "${!standins[@]}"; do
    want=$(digest_of "127.0.0.1:$up/$name" --tls-verify=false)
    got=$(digest_of "127.0.0.1:$corp/$name")
    [ -n "$want" ] && [ "$want" = "$got" ]
    result $? "mirrored $name by digest (${want:7:12})" "upstream $want, corporate $got"
done
check "a second mirror copies nothing (idempotent)" \
    sh -c "'$imggen' mirror -p registry.toml --from 127.0.0.1:$up | tail -n 1 | grep -qx '0 images copied, 8 already present'"

# 3. lock and render
check "imggen lock writes imggen.lock" "$imggen" lock -p registry.toml
for name in library/python:3.11-slim-bookworm library/postgres:17.5-bookworm; do
    want=$(digest_of "127.0.0.1:$corp/$name")
    got=$(python3 -c 'import sys, tomllib; print(tomllib.load(open("imggen.lock", "rb"))["base"][sys.argv[1]]["digest"])' "127.0.0.1:$corp/$name")
    [ -n "$want" ] && [ "$want" = "$got" ]
    result $? "lock pins $name to skopeo inspect's digest" "skopeo $want, lock $got"
done
python_digest=$(digest_of "127.0.0.1:$corp/library/python:3.11-slim-bookworm")
check "render writes FROM name:tag@digest from the lock" \
    sh -c "'$imggen' render -p registry.toml >/dev/null && grep -qx 'FROM 127.0.0.1:$corp/library/python:3.11-slim-bookworm@$python_digest' generated/python-runtime/Dockerfile"
check "lock --check exits 0 while the tags have not moved" "$imggen" lock -p registry.toml --check

# 4. build by digest, push, pin
"$imggen" build -p registry.toml --engine buildah --only python-runtime --push --pin >"$work/build.log" 2>&1
result $? "build --push --pin (the base pulled by digest from the corporate registry)" "$(cat "$work/build.log")"
check "buildah pulled the base by its locked digest" \
    buildah inspect --type image "127.0.0.1:$corp/library/python@$python_digest"
pushed=$(digest_of "127.0.0.1:$corp/platform/python:e2e")
check "build prints the digest the registry stored (${pushed:7:12})" \
    grep -qx "pushed 127.0.0.1:$corp/platform/python:e2e@$pushed" "$work/build.log"
check ".env names the pushed image by digest" \
    grep -qx "IMAGE_PYTHON=127.0.0.1:$corp/platform/python:e2e@$pushed" generated/.env
check "imggen check: the pinned folder is up to date" "$imggen" check

# 5. a tag that moved
buildah push -q "imggen-e2e/bookworm-base" "docker://127.0.0.1:$corp/library/python:3.11-slim-bookworm" >"$work/repush.log" 2>&1
moved=$(digest_of "127.0.0.1:$corp/library/python:3.11-slim-bookworm")
check "lock --check exits 1 after the base is re-pushed under its tag" \
    fails_with "MOVED (locked ${python_digest:0:19})" 1 "$imggen" lock -p registry.toml --check
check "lock --update python moves the pin to the new digest" \
    sh -c "'$imggen' lock -p registry.toml --update python >/dev/null && grep -qF 'digest = \"$moved\"' imggen.lock && '$imggen' lock -p registry.toml --check >/dev/null"

# 6. failures: exit 2, imggen.lock untouched
before=$(lock_hash)
check "an unreachable registry: exit 2, named" \
    fails_with "cannot reach the registry" 2 "$imggen" lock -p registry.toml --set "corporate.registry=127.0.0.1:$(free_port)" --update
printf '{"auths":{"127.0.0.1:%s":{"auth":"%s"}}}\n' "$corp" "$(printf 'e2e:wrong' | base64 -w0)" >"$work/bad-auth.json"
check "a bad login: exit 2, the user named" \
    fails_with "refused the login of \`e2e\`" 2 env REGISTRY_AUTH_FILE="$work/bad-auth.json" "$imggen" lock -p registry.toml --update
check "no login: exit 2, docker login suggested" \
    fails_with "run \`docker login 127.0.0.1:$corp\`" 2 env REGISTRY_AUTH_FILE="$work/none.json" HOME="$work/nohome" "$imggen" lock -p registry.toml --update
check "the registry's CA not in the profile: exit 2, the CA knob suggested" \
    fails_with "corporate.ca_certificates" 2 "$imggen" lock -p debian-layered --set "corporate.registry=127.0.0.1:$corp" --update
check "a missing tag: exit 2, named" \
    fails_with "no such image or tag" 2 "$imggen" lock -p registry.toml --set images.postgres=postgres:17.99-bookworm
check "... and imggen.lock is as it was after each" test "$(lock_hash)" = "$before"

# 7. logins behind a credential helper, as Docker Desktop, ECR and GCR keep them: the Docker
# config names the helper and holds no password; imggen runs docker-credential-NAME from PATH.
mkdir -p "$work/helpers" "$work/helper-store" "$work/helper-per-registry" "$work/helper-absent"
cat >"$work/helpers/docker-credential-imggen-e2e" <<EOF
#!/bin/sh
# Docker's helper protocol: \`get\`, the server on standard input, JSON on standard output.
[ "\$1" = get ] || exit 3
read -r server
echo "\$server" >>"$work/helpers/asked"
if [ "\$server" = "127.0.0.1:$corp" ]; then
    printf '{"ServerURL":"%s","Username":"e2e","Secret":"%s"}\n' "\$server" "$password"
else
    echo "credentials not found in native keychain"
    exit 1
fi
EOF
chmod +x "$work/helpers/docker-credential-imggen-e2e"
echo '{"credsStore":"imggen-e2e"}' >"$work/helper-store/config.json"
printf '{"credHelpers":{"127.0.0.1:%s":"imggen-e2e"}}\n' "$corp" >"$work/helper-per-registry/config.json"
echo '{"credsStore":"imggen-e2e-absent"}' >"$work/helper-absent/config.json"
with_config() { # with_config FOLDER COMMAND...: the Docker config in FOLDER, the helper on PATH
    local folder=$1
    shift
    env -u REGISTRY_AUTH_FILE DOCKER_CONFIG="$folder" PATH="$work/helpers:$PATH" "$@"
}
check "credsStore: lock --update logs in through the helper" \
    with_config "$work/helper-store" "$imggen" lock -p registry.toml --update
check "... which was asked for the corporate registry only, and once" \
    test "$(cat "$work/helpers/asked")" = "127.0.0.1:$corp"
check "credHelpers (per registry): lock --check logs in through the helper" \
    with_config "$work/helper-per-registry" "$imggen" lock -p registry.toml --check
mirror_into() { # mirror_into PATH TEST RUNNER...: mirror into a new PATH of the corporate registry
    local path=$1 test=$2
    shift 2
    "$@" "$imggen" mirror -p registry.toml --from "127.0.0.1:$up" --to "127.0.0.1:$corp/$path" \
        >"$work/mirror-$path.log" 2>&1
    result $? "$test" "$(cat "$work/mirror-$path.log")"
    check "... 8 images copied" grep -qx '8 images copied, 0 already present' "$work/mirror-$path.log"
}
# mirror's copies are skopeo's, which imggen hands the login the helper gave (a new path in the
# corporate registry, so every image is copied again).
for config in helper-per-registry helper-store; do
    mirror_into "$config" "$config: mirror copies into the corporate registry through the helper" \
        with_config "$work/$config"
    want=$(digest_of "127.0.0.1:$up/library/postgres:17.5-bookworm" --tls-verify=false)
    got=$(digest_of "127.0.0.1:$corp/$config/library/postgres:17.5-bookworm")
    [ -n "$want" ] && [ "$want" = "$got" ]
    result $? "... by digest (postgres ${want:7:12})" "upstream $want, copied $got"
done
leftovers=$(find "${TMPDIR:-/tmp}" -maxdepth 1 -name 'imggen-mirror-*' 2>/dev/null)
check "... and no login is left behind in the temporary folder" test -z "$leftovers"
# build: buildah runs no credsStore helper either, so imggen hands it the login the helper gave
# for the base it pulls (removed here first, so it is pulled again) and the tag it pushes.
"$imggen" render -p registry.toml >/dev/null 2>&1
forget_names "127.0.0.1:$corp/library/python"
with_config "$work/helper-store" "$imggen" build -p registry.toml --engine buildah --only python-runtime --push \
    >"$work/build-store.log" 2>&1
result $? "credsStore: build --push (buildah) pulls the base and pushes through the helper" "$(cat "$work/build-store.log")"
pushed=$(digest_of "127.0.0.1:$corp/platform/python:e2e")
check "... and prints the digest the registry stored (${pushed:7:12})" \
    grep -qx "pushed 127.0.0.1:$corp/platform/python:e2e@$pushed" "$work/build-store.log"
leftovers=$(find "${TMPDIR:-/tmp}" -maxdepth 1 -name 'imggen-build-*' 2>/dev/null)
check "... and the login file it was handed is gone" test -z "$leftovers"
check "a helper that is not installed: exit 2, the helper named" \
    fails_with "docker-credential-imggen-e2e-absent" 2 with_config "$work/helper-absent" "$imggen" lock -p registry.toml --update
check "... and imggen.lock still holds the same pins" test "$(lock_hash)" = "$before"

# 8. a login the containers tools stored: `skopeo login` writes it where `podman login` and
# `buildah login` do, $XDG_RUNTIME_DIR/containers/auth.json; no Docker config anywhere.
xdg=$work/xdg-runtime
mkdir -p "$xdg"
podman_style() { env -u REGISTRY_AUTH_FILE -u DOCKER_CONFIG XDG_RUNTIME_DIR="$xdg" HOME="$work/nohome" "$@"; }
printf '%s\n' "$password" | podman_style skopeo login --username e2e --password-stdin "127.0.0.1:$corp" >"$work/skopeo-login.log" 2>&1
result $? "skopeo login stores the corporate login in \$XDG_RUNTIME_DIR/containers/auth.json" "$(cat "$work/skopeo-login.log")"
check "... where lock --check finds it" podman_style "$imggen" lock -p registry.toml --check
mirror_into podman-login "... and mirror copies with it" podman_style
# As root with no XDG_RUNTIME_DIR (a CI container), the containers tools keep it in
# /run/containers/UID/auth.json; the entry (or the file, if this run made it) is removed again
# when the script ends.
as_root_ci() { env -u REGISTRY_AUTH_FILE -u DOCKER_CONFIG -u XDG_RUNTIME_DIR HOME="$work/nohome" "$@"; }
[ -e "$root_auth" ] || root_auth_made=1
printf '%s\n' "$password" | as_root_ci skopeo login --username e2e --password-stdin "127.0.0.1:$corp" >"$work/root-login.log" 2>&1
result $? "skopeo login with no XDG_RUNTIME_DIR" "$(cat "$work/root-login.log")"
check "... stores the login in $root_auth" grep -qF "127.0.0.1:$corp" "$root_auth"
check "... where lock --check finds it" as_root_ci "$imggen" lock -p registry.toml --check

# 9. logins for namespaces of one registry (as `podman login 127.0.0.1:PORT/ns-a` stores them):
# each image takes its namespace's, for imggen and for skopeo, which is handed it under the
# same key. The other namespace's password is wrong.
basic() { printf '%s' "$1" | base64 -w0; }
printf '{"auths":{"127.0.0.1:%s/ns-a":{"auth":"%s"},"127.0.0.1:%s/zz-wrong":{"auth":"%s"}}}\n' \
    "$corp" "$(basic "e2e:$password")" "$corp" "$(basic "e2e:wrong")" >"$work/ns-auth.json"
mirror_into ns-a "a namespace's login: mirror copies into that namespace with it" \
    env -u DOCKER_CONFIG -u XDG_RUNTIME_DIR REGISTRY_AUTH_FILE="$work/ns-auth.json" HOME="$work/nohome"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
