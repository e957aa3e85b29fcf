#!/bin/sh
# kube-harness: run one command in the box rootfs with /proc, /sys, /dev and the apt cache.
# Run inside a private mount namespace (unshare --mount --fork): every mount below vanishes with
# it, so nothing of the host stays bound into a directory that is later deleted.
#   chroot.sh ROOTFS APT_ARCHIVES COMMAND [ARG]...
set -eu
root=$1
archives=$2
shift 2
mount --make-rprivate /
mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys"
mount --rbind /dev "$root/dev"
mount -t tmpfs tmpfs "$root/run"
mount -t tmpfs tmpfs "$root/tmp"
mkdir -p "$root/var/cache/apt/archives" "$archives/partial"
mount --bind "$archives" "$root/var/cache/apt/archives"
exec chroot "$root" "$@"
