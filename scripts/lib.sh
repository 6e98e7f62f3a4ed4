#!/usr/bin/env bash
# Shared by the scripts in this folder (sourced, not run).

# retry COMMAND...: up to 4 tries with a growing pause, so a mirror hiccup does not fail CI;
# a real failure still fails after the last try.
retry() {
    local n
    for n in 1 2 3 4; do
        "$@" && return 0
        echo "retrying ($n): $*" >&2
        sleep $((n * 5))
    done
    return 1
}

# install_missing COMMAND=PACKAGE...: installs with apt-get the Debian packages whose command
# (a name on PATH, or a path) is not on this machine (a fresh CI machine has none of them). It
# waits for another install to finish (CI builds the stand-ins beside the other stages).
install_missing() {
    local pair need=() wait=(-o DPkg::Lock::Timeout=600)
    for pair in "$@"; do command -v "${pair%%=*}" >/dev/null || need+=("${pair#*=}"); done
    [ ${#need[@]} -eq 0 ] && return 0
    retry apt-get "${wait[@]}" update -qq &&
        retry env DEBIAN_FRONTEND=noninteractive apt-get "${wait[@]}" install -y -qq "${need[@]}" >/dev/null
}

# test_pki DIR: a throwaway CA (DIR/test-ca.crt, DIR/ca.key) and a server certificate it signed
# for localhost and 127.0.0.1 (DIR/server.crt, DIR/server.key), valid two days.
test_pki() {
    local dir=$1
    mkdir -p "$dir" &&
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=imggen e2e test CA" \
            -addext "basicConstraints=critical,CA:true" -addext "keyUsage=critical,keyCertSign,cRLSign" \
            -keyout "$dir/ca.key" -out "$dir/test-ca.crt" &&
        openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
            -keyout "$dir/server.key" -out "$dir/server.csr" &&
        printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:false\n' >"$dir/server.ext" &&
        openssl x509 -req -in "$dir/server.csr" -CA "$dir/test-ca.crt" -CAkey "$dir/ca.key" \
            -CAcreateserial -days 2 -extfile "$dir/server.ext" -out "$dir/server.crt"
}

# free_port: a TCP port nothing listens on now.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# build_imggen: builds imggen in the dev profile (what `cargo test` already built in CI, so
# nothing is compiled twice; renders take milliseconds either way) and sets $imggen to it, in
# the target folder cargo uses (CARGO_TARGET_DIR when set). Run from the repository root.
build_imggen() {
    cargo build --quiet || return 1
    # shellcheck disable=SC2034 # read by the scripts that source this file
    imggen=${CARGO_TARGET_DIR:-$(pwd)/target}/debug/imggen
}

# copy_checkout DIR: a writable copy of the platform's real checkout (read-only test data in
# ../shared/platform-upstream/checkout) at DIR. Run from the repository root.
copy_checkout() {
    local upstream=../shared/platform-upstream/checkout
    [ -f "$upstream/platform-bootstrap/Makefile" ] || { echo "no platform checkout at $upstream" >&2; return 1; }
    cp -r "$upstream" "$1" && chmod -R u+w "$1"
}
