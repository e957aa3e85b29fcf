"""Render the kind cluster configuration the harness hands to ``kind create cluster --config``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from harness import yamlio
from harness.bootstrap.patches import KUBEADM_PATCHES_DIR
from harness.errors import UsageError
from harness.spec.ca import CA_CERT, CA_KEY

ECDSA_PATCH = "kind: ClusterConfiguration\nencryptionAlgorithm: ECDSA-P256\n"


def cgroup_v1_host() -> bool:
    return not Path("/sys/fs/cgroup/cgroup.controllers").exists()


def render(
    control_planes: int = 1,
    workers: int = 2,
    pod_subnet: str | None = None,
    service_subnet: str | None = None,
    cgroup_v1: bool | None = None,
    disable_default_cni: bool = False,
    kube_proxy_mode: str | None = None,
) -> str:
    """kind v1alpha4 config; on cgroup v1 hosts kubelet gets ``failCgroupV1: false`` cluster-wide.

    The KubeletConfiguration patch must be cluster-level: ``kubeadm join`` reads kubelet settings
    from the ``kubelet-config`` ConfigMap written at init, not from per-node documents.
    """
    if control_planes < 1:
        raise UsageError(f"control_planes={control_planes}: a cluster needs at least 1", fix="set control_planes >= 1")
    if workers < 0:
        raise UsageError(f"workers={workers}: cannot be negative", fix="set workers >= 0")
    if kube_proxy_mode not in (None, "iptables", "nftables", "none"):
        raise UsageError(
            f"kube_proxy_mode={kube_proxy_mode!r}", fix="use iptables, nftables or none (IPVS is absent here)"
        )
    doc: dict[str, object] = {"kind": "Cluster", "apiVersion": "kind.x-k8s.io/v1alpha4"}
    networking: dict[str, object] = {k: v for k, v in (("podSubnet", pod_subnet), ("serviceSubnet", service_subnet),
                                    ("kubeProxyMode", kube_proxy_mode)) if v}  # fmt: skip
    if disable_default_cni:
        networking["disableDefaultCNI"] = True
    if networking:
        doc["networking"] = networking
    if cgroup_v1_host() if cgroup_v1 is None else cgroup_v1:
        doc["kubeadmConfigPatches"] = ["kind: KubeletConfiguration\nfailCgroupV1: false\n"]
    doc["nodes"] = [{"role": "control-plane"}] * control_planes + [{"role": "worker"}] * workers
    return yamlio.dump(doc, sort_keys=False)


def from_spec(spec: Any, cgroup_v1: bool | None = None, patches_dir: Path | None = None) -> str:
    """kind config for a ClusterSpec: topology, networking, kubeadm patches, kubelet extra args.

    ``patches_dir``: a host directory of kubeadm patch targets (harness.bootstrap.patches), mounted
    read-only on the control planes where ``kubeadm init --patches`` reads it. With it (the kind
    provider) come the harness's other bring-up defaults: ECDSA P-256 keys and certificates, as the
    kubeadm provider makes them (kubeadm's default RSA-2048 keys cost ~1 s of ``kubeadm init``).
    """
    net = spec.networking
    text = render(spec.control_planes, spec.workers, net.pod_subnet, net.service_subnet, cgroup_v1,
                  disable_default_cni=net.cni != "default", kube_proxy_mode=net.kube_proxy_mode)  # fmt: skip
    doc = yaml.safe_load(text)
    patches = list(doc.get("kubeadmConfigPatches", []))
    if net.dns_domain != "cluster.local":
        patches.append(f"kind: ClusterConfiguration\nnetworking:\n  dnsDomain: {net.dns_domain}\n")
    if spec.kubelet_extra_args:
        args = [{"name": k, "value": v} for k, v in spec.kubelet_extra_args.items()]
        for kind in ("InitConfiguration", "JoinConfiguration"):
            patches.append(yamlio.dump({"kind": kind, "nodeRegistration": {"kubeletExtraArgs": args}}))
    if patches_dir:
        mount = {"hostPath": str(patches_dir), "containerPath": KUBEADM_PATCHES_DIR, "readOnly": True}
        doc["nodes"] = [{**n, "extraMounts": [mount]} if n["role"] == "control-plane" else n for n in doc["nodes"]]
        patches.append(f"kind: InitConfiguration\npatches:\n  directory: {KUBEADM_PATCHES_DIR}\n")
        patches.append(ECDSA_PATCH)
    if spec.ca is not None:  # the first control plane's kubeadm init finds them and signs with them
        own = [{"hostPath": str(spec.ca.cert), "containerPath": CA_CERT, "readOnly": True},
               {"hostPath": str(spec.ca.key), "containerPath": CA_KEY, "readOnly": True}]  # fmt: skip
        first = doc["nodes"][0]
        doc["nodes"][0] = {**first, "extraMounts": [*first.get("extraMounts", []), *own]}
    patches += list(spec.all_kubeadm_patches())  # the spec's patches (user's last) have the last word
    if patches:
        doc["kubeadmConfigPatches"] = patches
    return yamlio.dump(doc, sort_keys=False)
