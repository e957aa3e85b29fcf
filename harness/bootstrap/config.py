"""kubeadm configuration (v1beta4) for the kubeadm provider, plus patch merging (pure logic).

Patches are YAML documents matched to a configuration document by ``kind`` (and ``apiVersion`` when
the patch names one) and merged into it: mappings merge, v1beta4 ``extraArgs``-style lists of
``{name, value}`` merge by name, any other value replaces.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from harness import yamlio

KUBEADM_API = "kubeadm.k8s.io/v1beta4"
CRI_SOCKET = "unix:///run/containerd/containerd.sock"
# The controller-manager makes a service account and a token for each of its ~50 controllers at
# start (``--use-service-account-credentials``, ~180 API calls); through upstream's client limits
# (20 qps, burst 30) that alone took 5.5 s of every bring-up, with the CPU idle, before cluster-info
# was signed and nodes could join. Steady-state traffic of a test cluster is far below both limits.
# A ``controllerManager.extraArgs`` patch restores upstream's values.
CONTROLLER_MANAGER_CLIENT = {"kube-api-qps": "100", "kube-api-burst": "200"}


@dataclass
class KubeadmInputs:
    cluster_name: str
    kubernetes_version: str
    endpoint: str  # host:port every node reaches the API through (LB or first control plane)
    advertise_address: str
    token: str
    certificate_key: str
    cert_sans: list[str] = field(default_factory=list)
    pod_subnet: str = "10.244.0.0/16"
    service_subnet: str = "10.96.0.0/16"
    dns_domain: str = "cluster.local"
    kube_proxy_mode: str = "iptables"
    cgroup_v1: bool = True
    kubelet_extra_args: dict[str, str] = field(default_factory=dict)
    patches: list[str] = field(default_factory=list)
    patches_dir: str | None = None  # kubeadm's own --patches targets (corednsdeployment, ...)


def _args(values: dict[str, str]) -> list[dict[str, str]]:
    return [{"name": k, "value": v} for k, v in values.items()]


def base_documents(inp: KubeadmInputs) -> list[dict[str, Any]]:
    cluster = {
        "apiVersion": KUBEADM_API, "kind": "ClusterConfiguration", "clusterName": inp.cluster_name,
        "kubernetesVersion": inp.kubernetes_version, "controlPlaneEndpoint": inp.endpoint,
        "networking": {"podSubnet": inp.pod_subnet, "serviceSubnet": inp.service_subnet, "dnsDomain": inp.dns_domain},
        "apiServer": {"certSANs": ["localhost", "127.0.0.1", *inp.cert_sans]}, "encryptionAlgorithm": "ECDSA-P256",
        "controllerManager": {"extraArgs": _args(CONTROLLER_MANAGER_CLIENT)},
    }  # fmt: skip
    init = {
        "apiVersion": KUBEADM_API, "kind": "InitConfiguration",
        "bootstrapTokens": [{"token": inp.token, "ttl": "24h0m0s"}],
        "certificateKey": inp.certificate_key,
        "localAPIEndpoint": {"advertiseAddress": inp.advertise_address, "bindPort": 6443},
        "nodeRegistration": {"criSocket": CRI_SOCKET, "ignorePreflightErrors": ["all"],
                             "kubeletExtraArgs": _args({"node-ip": inp.advertise_address, **inp.kubelet_extra_args})},
    }  # fmt: skip
    if inp.patches_dir:
        init["patches"] = {"directory": inp.patches_dir}
    kubelet = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration",
        "cgroupDriver": "systemd", "cgroupRoot": "/kubelet", "failSwapOn": False,
        "imageGCHighThresholdPercent": 100,
        "evictionHard": {"nodefs.available": "0%", "nodefs.inodesFree": "0%", "imagefs.available": "0%"},
    }  # fmt: skip
    if inp.cgroup_v1:
        kubelet["failCgroupV1"] = False
    proxy: dict[str, Any] = {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1", "kind": "KubeProxyConfiguration",
        "mode": inp.kube_proxy_mode, "iptables": {"minSyncPeriod": "1s"}, "conntrack": {"maxPerCore": 0},
    }  # fmt: skip
    if inp.kube_proxy_mode == "nftables":
        proxy["conntrack"]["tcpBeLiberal"] = True
    return [cluster, init, kubelet, proxy]


def merge(base: Any, patch: Any) -> Any:
    """Merge ``patch`` into ``base`` (returns the result; neither input is changed)."""
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for key, value in patch.items():
            out[key] = merge(base[key], value) if key in base else value
        return out
    if _named_list(base) and _named_list(patch):
        merged = {item["name"]: item for item in base}
        for item in patch:
            merged[item["name"]] = item
        return list(merged.values())
    return patch


def _named_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(i, dict) and "name" in i for i in value)


def apply_patches(docs: list[dict[str, Any]], patches: list[str]) -> list[dict[str, Any]]:
    out = list(docs)
    for text in patches:
        patch = yaml.safe_load(text)
        for i, doc in enumerate(out):
            if doc["kind"] == patch.get("kind") and patch.get("apiVersion", doc["apiVersion"]) == doc["apiVersion"]:
                out[i] = merge(doc, {k: v for k, v in patch.items() if k not in ("kind", "apiVersion")})
    return out


def render(inp: KubeadmInputs) -> str:
    """The config file for ``kubeadm init --config`` (all four documents, patches applied)."""
    docs = apply_patches(base_documents(inp), inp.patches)
    return "---\n".join(yamlio.dump(d, sort_keys=False) for d in docs)


DISCOVERY_FILE = "/etc/kubernetes/discovery.conf"


def discovery_kubeconfig(endpoint: str, ca_data: str) -> str:
    """What kubeadm's file discovery reads: the API address as nodes reach it (``host:port``) and the
    cluster CA (base64 PEM), in a context with an empty user: no credential, the bootstrap token
    only authenticates the TLS bootstrap (``--tls-bootstrap-token``)."""
    return yamlio.dump({
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "kubernetes", "cluster": {"server": f"https://{endpoint}",
                                                        "certificate-authority-data": ca_data}}],
        "users": [{"name": "discovery", "user": {}}],
        "contexts": [{"name": "discovery", "context": {"cluster": "kubernetes", "user": "discovery"}}],
        "current-context": "discovery",
    }, sort_keys=False)  # fmt: skip
