"""Kubernetes versions and the image names kubeadm expects for them (pure logic, unit-tested).

kubeadm names its images from constants in ``cmd/kubeadm/app/constants/constants.go``: the
Kubernetes tag for the four components, ``PauseVersion``, ``CoreDNSVersion`` and the etcd tag
chosen from ``SupportedEtcdVersion`` by minor version. We read those constants from the very
source we build, so the names always match what ``kubeadm config images list`` prints.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.errors import UsageError

REGISTRY = "registry.k8s.io"
MIN_MINOR = 34  # kubeadm v1beta4 only, containerd 2 CRI, and what the Go proxy serves here
VERSION_RE = re.compile(r"^v1\.(\d+)\.(\d+)(-(alpha|beta|rc)\.\d+)?$")


@dataclass(frozen=True)
class KubeVersion:
    text: str
    minor: int
    patch: int

    @property
    def staging(self) -> str:
        """The matching version of the staging modules (k8s.io/api, ...): v1.37.2 -> v0.37.2."""
        return "v0" + self.text[2:]

    def __str__(self) -> str:
        return self.text


def parse_version(text: str) -> KubeVersion:
    """``v1.37.2`` -> KubeVersion; anything else is a UsageError naming the accepted form."""
    if not text.startswith("v") and VERSION_RE.fullmatch("v" + text):
        text = "v" + text
    m = VERSION_RE.fullmatch(text)
    if not m:
        raise UsageError(
            f"unknown Kubernetes version {text!r}",
            fix="give a release tag such as v1.37.2 (form v1.MINOR.PATCH, optionally -rc.N)",
        )
    minor = int(m.group(1))
    if minor < MIN_MINOR:
        raise UsageError(
            f"Kubernetes {text} is older than the harness supports (v1.{MIN_MINOR}.0 and newer)",
            fix=f"use v1.{MIN_MINOR}.0 or newer, e.g. v1.37.2",
        )
    return KubeVersion(text, minor, int(m.group(2)))


@dataclass(frozen=True)
class KubeadmConstants:
    pause: str
    coredns: str
    etcd_default: str
    etcd_by_minor: dict[int, str]

    def etcd_tag(self, minor: int) -> str:
        """kubeadm's choice: the entry for this minor, else the nearest end of the table."""
        if not self.etcd_by_minor:
            return self.etcd_default
        if minor in self.etcd_by_minor:
            return self.etcd_by_minor[minor]
        keys = sorted(self.etcd_by_minor)
        return self.etcd_by_minor[keys[-1] if minor > keys[-1] else keys[0]]


def _const(source: str, name: str) -> str:
    m = re.search(rf'^\s*{name}\s*=\s*"([^"]+)"', source, re.M)
    if not m:
        raise ValueError(f"constant {name} not found in kubeadm constants.go")
    return m.group(1)


def parse_kubeadm_constants(source: str) -> KubeadmConstants:
    """Read pause, CoreDNS and etcd tags from the text of kubeadm's constants.go."""
    table = re.search(r"SupportedEtcdVersion\s*=\s*map\[uint8\]string\{(.*?)\}", source, re.S)
    by_minor = {int(k): v for k, v in re.findall(r'(\d+):\s*"([^"]+)"', table.group(1))} if table else {}
    return KubeadmConstants(
        pause=_const(source, "PauseVersion"),
        coredns=_const(source, "CoreDNSVersion"),
        etcd_default=_const(source, "DefaultEtcdVersion"),
        etcd_by_minor=by_minor,
    )


@dataclass(frozen=True)
class ImageSet:
    """The images one Kubernetes version needs, by role."""

    apiserver: str
    controller_manager: str
    scheduler: str
    proxy: str
    pause: str
    etcd: str
    coredns: str

    def names(self) -> list[str]:
        return [
            self.apiserver, self.controller_manager, self.scheduler, self.proxy,
            self.pause, self.etcd, self.coredns,
        ]  # fmt: skip

    @property
    def etcd_version(self) -> str:
        """etcd's module version for the tag: 3.7.0-0 -> v3.7.0."""
        return "v" + self.etcd.rsplit(":", 1)[1].split("-")[0]

    @property
    def coredns_version(self) -> str:
        return self.coredns.rsplit(":", 1)[1]


def image_set(version: KubeVersion, consts: KubeadmConstants, registry: str = REGISTRY) -> ImageSet:
    tag = version.text.replace("+", "_")
    return ImageSet(
        apiserver=f"{registry}/kube-apiserver:{tag}",
        controller_manager=f"{registry}/kube-controller-manager:{tag}",
        scheduler=f"{registry}/kube-scheduler:{tag}",
        proxy=f"{registry}/kube-proxy:{tag}",
        pause=f"{registry}/pause:{consts.pause}",
        etcd=f"{registry}/etcd:{consts.etcd_tag(version.minor)}",
        coredns=f"{registry}/coredns/coredns:{consts.coredns}",
    )
