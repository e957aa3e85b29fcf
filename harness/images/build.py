"""``kube-harness image build``: the node image from Go modules and Debian packages, cached.

Validation comes first (version form, Go proxy, Docker, root, given files), so bad input fails
before anything is built. Each piece is cached by its inputs; the node image itself carries its
key in a label, so an unchanged rebuild only checks the label.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import HostError, UsageError
from harness.exec import Cmd
from harness.images import cni, components, gobuild, node, oci, pieces
from harness.images.cache import DigestMemo, hash_tree, key
from harness.images.rootfs import debian_mirror
from harness.images.versions import ImageSet, KubeVersion, image_set, parse_kubeadm_constants, parse_version
from harness.locks import waiting_lock
from harness.paths import cache_root
from harness.progress import Progress

DEFAULT_VERSION = "v1.37.2"
NODE_REPO = "kube-harness/node"
LABEL_KEY = "kube-harness.io/build-key"
LABEL_KIND = "kube-harness.io/image"
CNIS = ("flannel", "none")
KUBEADM_CONSTANTS = "cmd/kubeadm/app/constants/constants.go"


@dataclass
class BuildOptions:
    kubernetes_version: str = DEFAULT_VERSION
    cni: str = "flannel"
    from_source: Path | None = None
    kubeadm_binary: Path | None = None
    kubelet_binary: Path | None = None
    preload: list[Path] = field(default_factory=list)
    tag: str | None = None
    mirror: str | None = None

    @property
    def is_variant(self) -> bool:
        return bool(
            self.from_source or self.kubeadm_binary or self.kubelet_binary or self.preload or self.cni != "flannel"
        )


def validate(opts: BuildOptions) -> KubeVersion:
    """Every check that needs no build: raises UsageError/HostError naming problem and fix."""
    version = parse_version(opts.kubernetes_version)
    if opts.cni not in CNIS:
        raise UsageError(f"unknown CNI {opts.cni!r}", fix=f"use one of: {', '.join(CNIS)}")
    for flag, path in (("--kubeadm-binary", opts.kubeadm_binary), ("--kubelet-binary", opts.kubelet_binary)):
        if path and not (path.is_file() and os.access(path, os.X_OK)):
            raise UsageError(f"{flag} {path}: not an executable file", fix=f"give the path of a built {flag[2:-7]}")
    for tar in opts.preload:
        if not tar.is_file():
            raise UsageError(
                f"--preload {tar}: no such file", fix="give an image archive made by `docker save` or an OCI tar"
            )
    if opts.from_source and not (opts.from_source / "go.mod").is_file():
        raise UsageError(f"--from-source {opts.from_source}: no go.mod there", fix="point at a Kubernetes checkout")
    if os.geteuid() != 0:
        raise HostError("building the node image needs root (mmdebstrap, chroot, mounts)", fix="run as root (sudo)")
    if Cmd(["docker", "info"], timeout=30).run(check=False).rc != 0:
        raise HostError("no Docker engine answers", fix="run `kube-harness host prepare` (or start dockerd)")
    if not opts.from_source:
        gobuild.module_info("k8s.io/kubernetes", version.text)
    return version


def node_tag(opts: BuildOptions, build_key: str) -> str:
    if opts.tag:
        return opts.tag
    suffix = f"-{build_key[:8]}" if opts.is_variant else ""
    return f"{NODE_REPO}:{opts.kubernetes_version}{suffix}"


def existing_key(tag: str) -> str | None:
    res = Cmd(["docker", "image", "inspect", "--format", "{{json .Config.Labels}}", tag]).run(check=False)
    if res.rc != 0:
        return None
    return (json.loads(res.stdout) or {}).get(LABEL_KEY)


@dataclass
class NodeParts:
    """Everything the node image is assembled from (all built or found in the cache)."""

    version: KubeVersion
    images: ImageSet
    inputs: components.Inputs
    flannel_cni: Path
    rootfs: Path
    cni_manifest: str

    def key(self, preload: list[Path]) -> str:
        files = [self.inputs.kube_bin, self.inputs.coredns, self.inputs.flanneld, self.flannel_cni, self.inputs.pause,
                 self.inputs.echo, self.inputs.userland_tar, self.rootfs.parent / "inputs.json"]  # fmt: skip
        memo = DigestMemo()
        build_key = key("node", version=self.version.text, images=self.images.names(), cni=self.cni_manifest,
                        files=hash_tree(node.FILES_DIR), pieces=[memo.digest(p) for p in files],
                        preload=[memo.file(p) for p in preload])  # fmt: skip
        memo.save()
        return build_key


def build_parts(version: KubeVersion, opts: BuildOptions, progress: Progress) -> NodeParts:
    """Every piece, cached by its inputs. The two Debian bootstraps (mostly waiting on the mirror and
    the disk) run in a thread beside the Go compiles (bound by the CPU), so a cold build overlaps them."""
    mirror = opts.mirror or debian_mirror()
    debian = ThreadPoolExecutor(max_workers=1, thread_name_prefix="debian")
    try:
        userland = debian.submit(pieces.userland, mirror, progress)
        rootfs = debian.submit(pieces.node_rootfs, mirror, progress)  # after userland: one mmdebstrap at a time
        source = opts.from_source or Path(gobuild.module_info("k8s.io/kubernetes", version.text)["Dir"])
        images = image_set(version, parse_kubeadm_constants((source / KUBEADM_CONSTANTS).read_text()))
        kube_bin = _override(pieces.kubernetes(version, progress, opts.from_source), opts)
        flanneld, flannel_cni = pieces.flannel(progress)
        inputs = components.Inputs(
            kube_bin=kube_bin, coredns=pieces.coredns(images.coredns_version, progress), flanneld=flanneld,
            pause=pieces.pause(version, source, progress), echo=pieces.echo_server(progress),
            userland_tar=userland.result(),
        )  # fmt: skip
        manifest = cni.manifest(opts.cni, components.flannel_image(pieces.FLANNEL[1]))
        return NodeParts(version, images, inputs, flannel_cni, rootfs.result(), manifest)
    finally:  # after a failure the bootstrap not yet started is dropped; a running one ends first
        debian.shutdown(wait=True, cancel_futures=True)


def build_node_image(opts: BuildOptions, progress: Progress | None = None) -> str:
    """Build (or find up to date) the node image; returns its tag."""
    progress = progress or Progress()
    version = validate(opts)
    with _build_lock(progress):
        return _build(version, opts, progress)


def _build_lock(progress: Progress) -> contextlib.AbstractContextManager[None]:
    """One build at a time per cache (xdist workers, parallel CI jobs): the others wait, then find
    the pieces cached. Without it two builds of one piece empty each other's directory."""

    def waiting(path: str) -> None:
        progress.say(f"..  waiting for another build of this cache to finish (lock {path})")

    return waiting_lock(cache_root() / "build.lock", waiting)


def _build(version: KubeVersion, opts: BuildOptions, progress: Progress) -> str:
    parts = build_parts(version, opts, progress)
    build_key = parts.key(opts.preload)
    tag = node_tag(opts, build_key)
    if existing_key(tag) == build_key:
        progress.say(f"ok  {tag} is up to date (build key {build_key})")
        return tag
    _assemble(tag, build_key, parts, opts, progress)
    return tag


def _override(kube_bin: Path, opts: BuildOptions) -> Path:
    """A copy of the binaries directory with --kubeadm-binary/--kubelet-binary swapped in."""
    if not (opts.kubeadm_binary or opts.kubelet_binary):
        return kube_bin
    out = cache_root() / "work" / "override-bin"
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(kube_bin, out)
    for name, path in (("kubeadm", opts.kubeadm_binary), ("kubelet", opts.kubelet_binary)):
        if path:
            shutil.copy2(path, out / name)
    return out


def _assemble(tag: str, build_key: str, parts: NodeParts, opts: BuildOptions, progress: Progress) -> None:
    work = cache_root() / "work" / f"node-{build_key}"
    shutil.rmtree(work, ignore_errors=True)
    (work / "images").mkdir(parents=True)
    try:
        with progress.step("write pod images (OCI archive)", "pod-images") as log:
            archive = work / "images" / "images.tar"
            pod_images = components.component_images(parts.images, parts.inputs, pieces.FLANNEL[1])
            digests = oci.write_archive(pod_images, archive, compress=False)  # unpacked at import anyway
            log.write_text(json.dumps(digests, indent=2))
        meta = json.dumps({"kubernetes": parts.version.text, "images": sorted(digests), "cni": opts.cni,
                           "build_key": build_key}, indent=2)  # fmt: skip
        content = node.NodeContent(parts.version.text, parts.inputs.kube_bin, parts.flannel_cni, parts.images.pause,
                                   parts.cni_manifest, meta)  # fmt: skip
        with progress.step("assemble node rootfs and import images into containerd", "node-assemble") as log:
            rootdir = work / "rootfs"
            node.copy_rootfs(parts.rootfs, rootdir, log)
            node.install_overlay(rootdir, content)
            node.configure_units(rootdir, log)
            for tar in [archive, *opts.preload]:
                node.import_images(rootdir, _stage(tar, archive.parent), log)
        labels = {LABEL_KEY: build_key, LABEL_KIND: "node", "kube-harness.io/kubernetes": parts.version.text}
        with progress.step(f"docker import {tag}", "docker-import") as log:
            node.docker_import(rootdir, tag, labels, log)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _stage(tar: Path, folder: Path) -> Path:
    """import-images.sh binds the archive's folder into the chroot: keep user archives beside ours."""
    if tar.parent == folder:
        return tar
    dest = folder / tar.name
    shutil.copy2(tar, dest)
    return dest
