# shellcheck shell=bash
# Debian chroots made with debootstrap, for runs on another Debian release or on a bare system.
# Sourced by scripts/test-openssl11 and scripts/test-bare-debian (bash); needs root.
#
#   chroot_bootstrap SUITE DIR   debootstrap (minbase) into DIR unless DIR holds a finished one
#   chroot_mount DIR             /proc, /sys, a private /dev/pts and /dev/shm inside DIR
#   chroot_umount DIR            ends the processes whose root is DIR, then unmounts all of DIR
#   chroot_run DIR CMD...        CMD inside DIR as root, with a plain environment
#   chroot_copy_project DEST     the checkout's files (tracked and new, not ignored) into DEST
#
# The host's /dev is never bind-mounted: debootstrap leaves the few device nodes a run needs, so
# removing a chroot can never reach the host's devices. Callers set `trap 'chroot_umount DIR' EXIT`.

CHROOT_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

chroot_mounts_under() {   # mount points at or under $1, deepest first
    awk -v d="$1" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/self/mounts | sort -r
}

chroot_bootstrap() {
    local suite=$1 dir=$2
    [ -f "$dir/.apiv2-bootstrapped" ] && return 0
    if [ -n "$(chroot_mounts_under "$dir")" ]; then
        echo "debian-chroot: $dir has mounts, not removing it" >&2; return 1
    fi
    rm -rf "$dir"
    mkdir -p "$dir"
    echo "debian-chroot: debootstrap $suite into $dir"
    debootstrap --variant=minbase "$suite" "$dir" "$CHROOT_MIRROR" >"$dir.debootstrap.log" 2>&1 \
        || { tail -n 20 "$dir.debootstrap.log" >&2; return 1; }
    # What every installed Debian has and a bare debootstrap lacks: a hosts file for localhost.
    [ -f "$dir/etc/hosts" ] || printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n' \
        >"$dir/etc/hosts"
    # A TLS-intercepting egress proxy on this machine signs with its own CA, which the host trusts
    # from /usr/local/share/ca-certificates; the chroot trusts what the host trusts.
    if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
        mkdir -p "$dir/usr/local/share/ca-certificates"
        cp /usr/local/share/ca-certificates/*.crt "$dir/usr/local/share/ca-certificates/"
    fi
    # As in Debian's container images: packages installed here start no daemons (a chroot shares
    # the host's network, so nginx's package would listen on the host's port 80).
    printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"
    chmod 755 "$dir/usr/sbin/policy-rc.d"
    touch "$dir/.apiv2-bootstrapped"
}

chroot_mount() {
    local dir=$1
    mountpoint -q "$dir/proc" || mount -t proc proc "$dir/proc"
    mountpoint -q "$dir/sys" || mount -t sysfs -o ro sysfs "$dir/sys"
    mkdir -p "$dir/dev/pts" "$dir/dev/shm"
    mountpoint -q "$dir/dev/pts" || mount -t devpts -o newinstance,ptmxmode=0666 devpts "$dir/dev/pts"
    mountpoint -q "$dir/dev/shm" || mount -t tmpfs -o mode=1777 shm "$dir/dev/shm"
    cp /etc/resolv.conf "$dir/etc/resolv.conf" 2>/dev/null || true
}

chroot_umount() {
    local dir=$1 pid root m tries
    [ -d "$dir" ] || return 0
    dir=$(cd "$dir" && pwd -P)
    # Whatever a failed run left running inside (servers a spec started): only processes whose
    # root is this chroot, by their ids.
    for tries in 1 2 3; do
        local left=""
        for pid in /proc/[0-9]*; do
            root=$(readlink "$pid/root" 2>/dev/null) || continue
            case $root in "$dir"|"$dir"/*) left="$left ${pid#/proc/}" ;; esac
        done
        [ -z "$left" ] && break
        # shellcheck disable=SC2086
        if [ "$tries" -lt 3 ]; then kill $left 2>/dev/null; else kill -9 $left 2>/dev/null; fi
        sleep 1
    done
    for m in $(chroot_mounts_under "$dir"); do
        umount "$m" 2>/dev/null || umount -l "$m" || echo "debian-chroot: cannot unmount $m" >&2
    done
}

chroot_run() {
    local dir=$1; shift
    env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        TERM="${TERM:-dumb}" LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive chroot "$dir" "$@" &
    wait $!   # unlike a foreground command, lets INT/TERM run the caller's traps at once
}

chroot_copy_project() {
    local dest=$1 top
    top=$(git rev-parse --show-toplevel)
    rm -rf "$dest" && mkdir -p "$dest"
    # --ignore-failed-read: a tracked file deleted in the working tree is simply left out.
    (cd "$top" && git ls-files -z --cached --others --exclude-standard \
        | tar -cf - --null --ignore-failed-read -T - 2>/dev/null) | tar -xf - -C "$dest"
}
