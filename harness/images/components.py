"""The pod images a node preloads, described as OCI images built from our own binaries.

Kubernetes components and etcd are single static binaries; kube-proxy and flannel also need
iptables/nft, so they sit on the shared userland layer (a small Debian rootfs). The test image
uses the same layer plus our echo server, so the layer is stored once in the node.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.images.oci import FileEntry, Image, Layer
from harness.images.versions import ImageSet

BIN = "/usr/local/bin"
TEST_IMAGE = "kube-harness.local/testimage:v1"
FLANNEL_IMAGE_REPO = "kube-harness.local/flannel"


@dataclass(frozen=True)
class Inputs:
    """Where the built pieces are: Kubernetes + etcd binaries, CoreDNS, flannel, pause, echo, userland."""

    kube_bin: Path
    coredns: Path
    flanneld: Path
    pause: Path
    echo: Path
    userland_tar: Path


def _bin_layer(*entries: tuple[str, Path]) -> Layer:
    return Layer(files=[FileEntry(path, src) for path, src in entries])


def component_images(images: ImageSet, inp: Inputs, flannel_tag: str) -> list[Image]:
    """Every image the node needs for a cluster with flannel, plus the test image."""
    userland = Layer(tar=inp.userland_tar)
    simple = {
        images.apiserver: "kube-apiserver",
        images.controller_manager: "kube-controller-manager",
        images.scheduler: "kube-scheduler",
        images.etcd: "etcd",
    }
    out = [
        Image(name, [_bin_layer((f"{BIN}/{binary}", inp.kube_bin / binary))], entrypoint=[f"{BIN}/{binary}"])
        for name, binary in simple.items()
    ]
    out += [
        Image(images.proxy, [userland, _bin_layer((f"{BIN}/kube-proxy", inp.kube_bin / "kube-proxy"))],
              entrypoint=[f"{BIN}/kube-proxy"]),
        Image(images.coredns, [_bin_layer(("/coredns", inp.coredns))], entrypoint=["/coredns"]),
        Image(images.pause, [_bin_layer(("/pause", inp.pause))], entrypoint=["/pause"]),
        Image(flannel_image(flannel_tag), [userland, _bin_layer(("/opt/bin/flanneld", inp.flanneld))],
              entrypoint=["/opt/bin/flanneld"]),
        Image(TEST_IMAGE, [userland, _bin_layer((f"{BIN}/echo-server", inp.echo))], entrypoint=[f"{BIN}/echo-server"]),
    ]  # fmt: skip
    return out


def flannel_image(tag: str) -> str:
    return f"{FLANNEL_IMAGE_REPO}:{tag}"
