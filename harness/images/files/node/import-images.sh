#!/bin/sh
# kube-harness: import an OCI archive into the containerd of a node rootfs at build time.
# Run inside a private mount namespace (unshare --mount): every mount below vanishes with it.
#   import-images.sh ROOTFS ARCHIVE
set -eu
root=$1
archive=$2
mount --make-rprivate /
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount -t tmpfs tmpfs "$root/run"
mount -t tmpfs tmpfs "$root/tmp"
# containerd's snapshotters look their root up in the mount table: make it a mount point.
mkdir -p "$root/var/lib/containerd"
mount --bind "$root/var/lib/containerd" "$root/var/lib/containerd"
mkdir -p "$root/tmp/import"
mount --bind "$(dirname "$archive")" "$root/tmp/import"
chroot "$root" /usr/bin/containerd --log-level warn >"$root/tmp/import/containerd.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
i=0
until chroot "$root" ctr version >/dev/null 2>&1; do
  i=$((i + 1))
  [ "$i" -lt 300 ] || { echo "containerd did not start:"; cat "$root/tmp/import/containerd.log"; exit 1; }
  sleep 0.1
done
chroot "$root" ctr -n k8s.io images import --local --all-platforms --discard-unpacked-layers \
  --label=io.cri-containerd.pinned=pinned "/tmp/import/$(basename "$archive")"
# The unpacked layer blobs are only released for garbage collection; collect them now (a
# synchronous removal runs the collector) so the image ships snapshots alone.
first=$(chroot "$root" ctr -n k8s.io images ls -q | head -1)
chroot "$root" ctr -n k8s.io images tag "$first" kube-harness.local/gc-trigger:now >/dev/null
chroot "$root" ctr -n k8s.io images rm --sync kube-harness.local/gc-trigger:now >/dev/null
chroot "$root" ctr -n k8s.io images ls -q
kill "$pid"
wait "$pid" 2>/dev/null || true
trap - EXIT
# Node containers mount a fresh volume on /var, and Docker copies the image's /var into it for
# every node. Keep the (read-only) image snapshots in the image itself and leave symlinks under
# /var: containerd only ever uses committed snapshots as overlay lower directories, which may sit
# on the node's own overlay filesystem; new writable snapshots still go to the volume.
snapshots="$root/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots"
mkdir -p "$root/kube-harness/snapshots"
for dir in "$snapshots"/*; do
  [ -d "$dir" ] && [ ! -L "$dir" ] || continue
  id=$(basename "$dir")
  mv "$dir" "$root/kube-harness/snapshots/$id"
  ln -s "/kube-harness/snapshots/$id" "$dir"
done
