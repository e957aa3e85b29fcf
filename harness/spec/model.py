"""ClusterSpec: the user's description of a cluster, validated before any resource exists.

Field names are snake_case in Python and in YAML. Every model forbids unknown fields and is frozen
(derive variants with ``spec.model_copy(update={...})``). Validators raise ``ValueError``; the
loaders in :mod:`harness.spec.load` turn all problems into one ``UsageError``.

``kubeadm_patches`` follow kind's ``kubeadmConfigPatches`` semantics: each document is matched to
the generated kubeadm/kubelet/kube-proxy configuration by ``kind`` (and ``apiVersion`` when given)
and merged into it (JSON merge patch; kind >= v0.32 merges v1beta4 ``extraArgs`` lists by name).
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from harness import yamlio
from harness.errors import UsageError
from harness.images.versions import KubeVersion, parse_version
from harness.spec.ca import OwnCA
from harness.spec.failover import KUBEADM_API, Failover, failover_patches
from harness.spec.rules import (
    FEATURE_GATE_RE,
    FLAG_RE,
    GATED_COMPONENTS,
    IMAGE_RE,
    MAX_SERVICE_HOST_BITS,
    MIN_POD_ADDRESSES,
    MIN_SERVICE_ADDRESSES,
    NAME_MAX,
    NAME_RE,
    NODE_CIDR_PREFIX,
    PATCH_API_VERSIONS,
    POD_NODE_MASK_MAX_DIFF,
    POD_PREFIXES,
    SERVICE_PREFIXES,
    KubeadmPatch,
    Text,
    dns_name,
    flag_value_problem,
    ipv4_cidr,
    plain_text,
)
from harness.spec.vms import VMs

DEFAULT_KUBERNETES_VERSION = "v1.37.2"


class Networking(BaseModel):
    """Pod/service address ranges, cluster DNS domain, kube-proxy mode and the CNI."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pod_subnet: Text = "10.244.0.0/16"
    service_subnet: Text = Field(default="10.96.0.0/16", validate_default=True)  # checked against pod_subnet
    dns_domain: Text = "cluster.local"
    kube_proxy_mode: Literal["iptables", "nftables"] = "iptables"
    cni: Literal["default", "none", "manifest"] = "default"  # default: the node image's flannel
    cni_manifest: Path | None = Field(default=None, validate_default=True)

    @field_validator("pod_subnet")
    @classmethod
    def _pod_subnet(cls, value: str) -> str:
        net = ipv4_cidr(value)
        low, high = POD_PREFIXES
        # kubeadm validation.go ValidateIPNetFromString(podSubnet, MinimumAddressesInPodSubnet)
        if net.num_addresses < MIN_POD_ADDRESSES:
            raise ValueError(
                f"{net} has {net.num_addresses} addresses; kubeadm needs at least {MIN_POD_ADDRESSES} in a pod subnet "
                f"and one node's /{NODE_CIDR_PREFIX}; use /{low} to /{high}"
            )
        # kubeadm validation.go ValidatePodSubnetNodeMask: pod prefix <= node mask, node mask - prefix <= 16
        if net.prefixlen > NODE_CIDR_PREFIX:
            raise ValueError(
                f"{net} is smaller than one node's /{NODE_CIDR_PREFIX} pod range (kubeadm: the pod subnet mask must "
                f"not exceed the node mask {NODE_CIDR_PREFIX}); use /{low} to /{high}"
            )
        if NODE_CIDR_PREFIX - net.prefixlen > POD_NODE_MASK_MAX_DIFF:
            raise ValueError(
                f"{net} is too large: kubeadm refuses a pod subnet mask more than {POD_NODE_MASK_MAX_DIFF} bits "
                f"shorter than the node mask {NODE_CIDR_PREFIX}; use /{low} to /{high}"
            )
        return str(net)

    @field_validator("service_subnet")
    @classmethod
    def _service_subnet(cls, value: str, info: ValidationInfo) -> str:
        net = ipv4_cidr(value)
        low, high = SERVICE_PREFIXES
        # kubeadm validation.go ValidateIPNetFromString(serviceSubnet, MinimumAddressesInServiceSubnet)
        if net.num_addresses < MIN_SERVICE_ADDRESSES:
            raise ValueError(
                f"{net} has {net.num_addresses} addresses; kubeadm needs at least {MIN_SERVICE_ADDRESSES} in a "
                f"service subnet (CoreDNS takes the 10th); use /{low} to /{high}"
            )
        # kubeadm validation.go ValidateServiceSubnetSize; kube-apiserver options/validation.go validateMaxCIDRRange
        if net.max_prefixlen - net.prefixlen > MAX_SERVICE_HOST_BITS:
            raise ValueError(
                f"{net} is too large: kubeadm and kube-apiserver accept IPv4 service ranges of at most "
                f"2^{MAX_SERVICE_HOST_BITS} addresses (/{low}); use /{low} to /{high}"
            )
        pods = info.data.get("pod_subnet")
        if pods is not None and net.overlaps(ipaddress.ip_network(pods)):
            raise ValueError(f"service_subnet {net} overlaps pod_subnet {pods}; pick disjoint ranges")
        return str(net)

    @field_validator("dns_domain")
    @classmethod
    def _dns_domain(cls, value: str) -> str:
        return dns_name(value)

    @field_validator("kube_proxy_mode", mode="before")
    @classmethod
    def _no_ipvs(cls, value: Any) -> Any:
        if isinstance(value, str) and value.lower() == "ipvs":
            raise ValueError("'ipvs' is unavailable: the IPVS kernel modules are absent on these hosts")
        return value

    @field_validator("cni_manifest")
    @classmethod
    def _cni_manifest(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        cni = info.data.get("cni")
        if cni is None:  # cni itself was invalid; that error is reported already
            return value
        if cni != "manifest":
            if value is not None:
                raise ValueError(f"only used with cni: manifest (cni is {cni!r})")
            return None
        if value is None:
            raise ValueError("required when cni is 'manifest': the path of the CNI manifest to apply")
        plain_text(str(value))
        base = (info.context or {}).get("base_dir")
        path = (Path(base) / value if base is not None else value).absolute()  # absolute: valid from any cwd
        if not path.is_file():
            raise ValueError(f"{str(path)!r} is not a file")
        return path


class ClusterSpec(BaseModel):
    """A cluster as the user describes it; see examples/specs/ for documented YAML."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Text | None = None
    control_planes: int = Field(default=1, ge=1, le=7, strict=True)  # even counts: see spec_warnings
    workers: int = Field(default=2, ge=0, le=20, strict=True)
    kubernetes_version: Text = DEFAULT_KUBERNETES_VERSION
    node_image: Text | None = None
    networking: Networking = Field(default_factory=Networking)
    kubeadm_patches: list[KubeadmPatch] = Field(default_factory=list)
    feature_gates: dict[str, bool] = Field(default_factory=dict)
    kubelet_extra_args: dict[str, str] = Field(default_factory=dict)
    failover: Failover = Field(default_factory=Failover)
    etcd_fsync: bool = False
    vms: VMs = Field(default_factory=VMs)  # the vagrant provider only (see harness/spec/vms.py)
    ca: OwnCA | None = None  # a CA of your own, placed before kubeadm init (see harness/spec/ca.py)
    # how joining nodes learn the cluster CA: token (CA hash pinned), file (a discovery kubeconfig
    # copied to the node), unsafe (token, no pin: recorded as insecure); None: the provider's own
    # (token for kubeadm and vagrant; kind joins with unsafeSkipCAVerification in its own config)
    join_discovery: Literal["token", "file", "unsafe"] | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is not None and not NAME_RE.fullmatch(value):
            raise ValueError(
                f"{value!r} is not a DNS-1123 label of at most {NAME_MAX} characters (a-z, 0-9, '-', starting and "
                f"ending with a letter or digit; {len(value)} given): it names containers and paths, and "
                f"'<name>-external-load-balancer' must fit a 63-character hostname"
            )
        return value

    @field_validator("kubernetes_version")
    @classmethod
    def _version(cls, value: str) -> str:
        try:
            return parse_version(value).text
        except UsageError as e:
            raise ValueError(f"{e.message}; {e.fix}" if e.fix else e.message) from None

    @field_validator("node_image")
    @classmethod
    def _node_image(cls, value: str | None) -> str | None:
        if value is not None and (len(value) > 255 or not IMAGE_RE.fullmatch(value)):
            raise ValueError(f"{value!r} is not a container image reference such as kube-harness/node:v1.37.2")
        return value

    @field_validator("networking")
    @classmethod
    def _room_for_nodes(cls, value: Networking, info: ValidationInfo) -> Networking:
        nodes = info.data.get("control_planes", 1) + info.data.get("workers", 0)
        ranges = 2 ** (NODE_CIDR_PREFIX - ipaddress.ip_network(value.pod_subnet).prefixlen)
        if ranges < nodes:
            raise ValueError(
                f"pod_subnet {value.pod_subnet} holds {ranges} node ranges (/{NODE_CIDR_PREFIX}) but the cluster "
                f"has {nodes} nodes; use a larger pod_subnet"
            )
        return value

    @field_validator("feature_gates")
    @classmethod
    def _feature_gates(cls, value: dict[str, bool]) -> dict[str, bool]:
        bad = [k for k in value if not FEATURE_GATE_RE.fullmatch(k)]
        if bad:
            raise ValueError(f"feature gate names are CamelCase Go identifiers (e.g. InPlacePodVerticalScaling): {bad}")
        return value

    @field_validator("kubelet_extra_args", mode="before")
    @classmethod
    def _stringify_args(cls, value: Any) -> Any:
        """YAML writes ``v: 4`` or ``fail-swap-on: false``; kubelet flags take the text."""
        if not isinstance(value, dict):
            return value
        return {k: str(v).lower() if isinstance(v, bool) else str(v) if isinstance(v, int | float) else v
                for k, v in value.items()}  # fmt: skip

    @field_validator("kubelet_extra_args")
    @classmethod
    def _kubelet_args(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [k for k in value if not FLAG_RE.fullmatch(k)]
        if bad:
            raise ValueError(f"kubelet flag names are kebab-case without leading dashes (e.g. max-pods): {bad}")
        values = [f"--{k}={v!r}: {problem}" for k, v in value.items() if (problem := flag_value_problem(v))]
        if values:  # see FLAG_VALUE_FORBIDDEN for why
            raise ValueError(
                f"kubelet flag values are written space-separated into kubeadm-flags.env and /etc/default/kubelet, "
                f"so a value is printable ASCII without whitespace, quotes, backslash, '$' or '`' (empty is fine; "
                f"lists are comma-separated, e.g. node-labels: a=b,c=d): {'; '.join(values)}"
            )
        return value

    @field_validator("failover", mode="before")
    @classmethod
    def _failover_shorthand(cls, value: Any) -> Any:
        """``failover: fast`` means ``failover: {profile: fast}``."""
        return {"profile": value} if isinstance(value, str) else value

    @property
    def node_count(self) -> int:
        return self.control_planes + self.workers

    @property
    def kube_version(self) -> KubeVersion:
        return parse_version(self.kubernetes_version)

    def all_kubeadm_patches(self) -> list[str]:
        """Generated patches (etcd, failover, feature gates) first, then the user's, which thus have the last word."""
        generated = etcd_patches(self.etcd_fsync) + failover_patches(self.failover)
        return generated + feature_gate_patches(self.feature_gates) + list(self.kubeadm_patches)


def etcd_quorum(members: int) -> tuple[int, int]:
    """(quorum, failures tolerated) of an etcd cluster: go.etcd.io/raft/v3 quorum/majority.go VoteResult, len/2+1."""
    quorum = members // 2 + 1
    return quorum, members - quorum


def spec_warnings(spec: ClusterSpec) -> list[str]:
    """What a valid spec asks for that is probably not meant, one line each; callers print them."""
    warnings: list[str] = []
    n = spec.control_planes
    if n % 2 == 0:  # kubeadm's stacked etcd: one member per control plane
        quorum, tolerated = etcd_quorum(n)
        same = "" if n == 2 else f" (or {n - 1} for the same tolerance with one member fewer to agree)"
        warnings.append(
            f"control_planes: {n} gives an etcd quorum of {quorum} and tolerates {tolerated} failed "
            f"member{'' if tolerated == 1 else 's'}, no more than {n - 1}; "
            f"use {n + 1} to tolerate {etcd_quorum(n + 1)[1]}{same}"
        )
    return warnings


def etcd_patches(fsync: bool) -> list[str]:
    """Without ``etcd_fsync``, etcd runs with ``--unsafe-no-fsync``: its writes reach the page cache,
    which outlives etcd, its container and a node restart, and are lost only if the host crashes.
    Each fsync cost a journal commit on the host disk: ~4 % of a core per idle cluster (1-2 lease
    writes a second) and latency on every write of a bring-up."""
    if fsync:
        return []
    cluster = {"apiVersion": KUBEADM_API, "kind": "ClusterConfiguration",
               "etcd": {"local": {"extraArgs": [{"name": "unsafe-no-fsync", "value": "true"}]}}}  # fmt: skip
    return [yamlio.dump(cluster, sort_keys=False)]


def feature_gate_patches(gates: dict[str, bool]) -> list[str]:
    """``feature-gates`` for apiserver, controller-manager and scheduler, and kubelet's ``featureGates``."""
    if not gates:
        return []
    ordered = dict(sorted(gates.items()))
    value = ",".join(f"{k}={str(v).lower()}" for k, v in ordered.items())
    cluster: dict[str, Any] = {"apiVersion": KUBEADM_API, "kind": "ClusterConfiguration"}
    # a fresh list per component: shared objects would come out as YAML anchors and aliases
    cluster.update({c: {"extraArgs": [{"name": "feature-gates", "value": value}]} for c in GATED_COMPONENTS})
    kubelet = {"apiVersion": PATCH_API_VERSIONS["KubeletConfiguration"], "kind": "KubeletConfiguration",
               "featureGates": ordered}  # fmt: skip
    return [yamlio.dump(doc, sort_keys=False) for doc in (cluster, kubelet)]
