#!/usr/bin/env bash
# shellcheck disable=SC2154 # $cache and $work are set by the script that sources this file
# A private Docker daemon for one run (sourced, not run): Debian's dockerd with its own data
# root, exec root and socket under $cache/dockerd, Compose v2 as a CLI plugin in a
# DOCKER_CONFIG of the run's own ($work/docker-config), and `docker` on PATH being the daemon's
# own client ($work/bin; the machine's newer /usr/local/bin/docker needs buildx to build).
#
# dockerd_start   clears what an earlier run left, starts the daemon, exports DOCKER_HOST,
#                 DOCKER_CONFIG, DOCKER_BUILDKIT=1 and PATH for it
# dockerd_stop    removes every container, volume and network of the run, stops the daemon,
#                 and removes its folders, mounts, bridge and the one NAT rule it added
# One run at a time per cache folder: a run stops a daemon another left there.
#
# Storage: overlay2 where the kernel has overlayfs (a container starts in a fraction of a
# second), vfs otherwise (each container a full copy of its image: seconds per `docker run`).
# Containers reach the network through one MASQUERADE rule of our own (marked with a comment,
# so a leftover is found): the daemon runs with --iptables=false, as on these machines.

daemon_dir=$cache/dockerd
nat_rule=(POSTROUTING -s 172.16.0.0/12 ! -d 172.16.0.0/12 -m comment --comment imggen-e2e-docker -j MASQUERADE)

# dockerd_leftovers: stops a daemon (and its containerd and shims) an earlier run started and
# left behind (killed before its trap ran), unmounts what it mounted, removes its NAT rule.
dockerd_leftovers() {
    local pid _ mount
    if [ -s "$daemon_dir/pid" ]; then
        pid=$(cat "$daemon_dir/pid")
        if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "dockerd .*$daemon_dir"; then
            echo "stopping the daemon an earlier run left (pid $pid)"
            kill "$pid" 2>/dev/null
            for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
            kill -9 "$pid" 2>/dev/null
        fi
    fi
    # Its containerd and shims name the exec root on their command lines.
    pkill -9 -f -- "$daemon_dir/" 2>/dev/null
    findmnt -rn -o TARGET | grep -F "$daemon_dir/" | sort -r | while IFS= read -r mount; do
        umount -l "$mount" 2>/dev/null
    done
    while iptables -t nat -D "${nat_rule[@]}" 2>/dev/null; do :; done
    rm -rf "$daemon_dir"
    # The bridge a daemon makes stays after it: removed unless another daemon runs here.
    pgrep -x dockerd >/dev/null || ip link delete docker0 2>/dev/null
    return 0
}

dockerd_start() {
    local _
    dockerd_leftovers
    mkdir -p "$daemon_dir" "$work/bin" "$work/docker-config/cli-plugins"
    echo "{}" >"$work/docker-config/config.json"
    local driver=vfs
    grep -qw overlay /proc/filesystems && driver=overlay2
    dockerd --data-root "$daemon_dir/data" --exec-root "$daemon_dir/exec" --pidfile "$daemon_dir/pid" \
        -H "unix://$daemon_dir/sock" --storage-driver "$driver" --iptables=false --ip6tables=false \
        >"$work/dockerd.log" 2>&1 &
    dockerd_pid=$!
    export DOCKER_HOST=unix://$daemon_dir/sock DOCKER_CONFIG=$work/docker-config DOCKER_BUILDKIT=1
    ln -sf /usr/bin/docker "$work/bin/docker"
    ln -sf "$compose" "$work/docker-config/cli-plugins/docker-compose"
    export PATH=$work/bin:$PATH
    for _ in $(seq 120); do
        docker info >/dev/null 2>&1 && break
        kill -0 "$dockerd_pid" 2>/dev/null || break
        sleep 0.5
    done
    if ! docker info >/dev/null 2>&1; then
        echo "the private dockerd did not start:"
        tail -n 30 "$work/dockerd.log"
        return 1
    fi
    iptables -t nat -A "${nat_rule[@]}" || return 1
    echo "dockerd $(docker info --format '{{.ServerVersion}}') ($(docker info --format '{{.Driver}}')) on $DOCKER_HOST; $(docker compose version)"
}

dockerd_stop() {
    local _
    if docker info >/dev/null 2>&1; then
        docker ps -aq | xargs -r docker rm -f -v >/dev/null 2>&1
        docker volume prune -f >/dev/null 2>&1
        docker network prune -f >/dev/null 2>&1
    fi
    if [ -n "${dockerd_pid:-}" ]; then
        kill "$dockerd_pid" 2>/dev/null
        for _ in $(seq 60); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.5; done
    fi
    dockerd_leftovers
}

# docker_load IMAGE TAG...: copies IMAGE from buildah's storage into the daemon under each TAG.
docker_load() {
    local image=$1 first=$2 archive tag
    shift 2
    archive=$work/load-$$-$RANDOM.tar
    buildah push -q "$image" "docker-archive:$archive:$first" >/dev/null || return 1
    docker load -q -i "$archive" >/dev/null || return 1
    rm -f "$archive"
    for tag in "$@"; do docker tag "$first" "$tag" || return 1; done
}
