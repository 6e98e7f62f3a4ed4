#!/usr/bin/env bash
# A throwaway MIT Kerberos realm on 127.0.0.1 (Debian's krb5-kdc), sourced, not run.
#
# kdc_ticket DIR CACHE: creates the realm IMGGEN.TEST in DIR, starts its KDC, kinit's a test
# principal into the ticket cache file CACHE, stops the KDC. What it printed is in
# DIR/setup.log; non-zero when any step failed. Needs scripts/lib.sh (free_port).
kdc_ticket() {
    local kdc=$1 cache=$2 port password status kdc_pid
    mkdir -p "$kdc" "$(dirname "$cache")"
    port=$(free_port)
    cat >"$kdc/krb5.conf" <<CONF
[libdefaults]
    default_realm = IMGGEN.TEST
    dns_lookup_kdc = false
[realms]
    IMGGEN.TEST = {
        kdc = 127.0.0.1:$port
    }
CONF
    cat >"$kdc/kdc.conf" <<CONF
[kdcdefaults]
    kdc_ports = $port
    kdc_tcp_ports = $port
[realms]
    IMGGEN.TEST = {
        database_name = $kdc/principal
        key_stash_file = $kdc/stash
        acl_file = $kdc/kadm5.acl
    }
CONF
    touch "$kdc/kadm5.acl"
    password=$(head -c 18 /dev/urandom | base64)
    (
        export KRB5_CONFIG=$kdc/krb5.conf KRB5_KDC_PROFILE=$kdc/kdc.conf
        kdb5_util create -s -r IMGGEN.TEST -P "$(head -c 18 /dev/urandom | base64)" >"$kdc/setup.log" 2>&1 &&
            kadmin.local -q "addprinc -pw $password tester@IMGGEN.TEST" >>"$kdc/setup.log" 2>&1 || exit 1
        krb5kdc -n >"$kdc/kdc.log" 2>&1 &
        kdc_pid=$!
        sleep 1
        printf '%s\n' "$password" | kinit -c "FILE:$cache" tester@IMGGEN.TEST >>"$kdc/setup.log" 2>&1
        status=$?
        kill "$kdc_pid" 2>/dev/null
        wait "$kdc_pid" 2>/dev/null
        exit $status
    )
}
