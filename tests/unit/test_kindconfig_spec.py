"""harness.providers.containers.kindconfig.from_spec: the kind configuration of a ClusterSpec."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.bootstrap.patches import KUBEADM_PATCH_FILES, KUBEADM_PATCHES_DIR, host_patches_dir
from harness.providers.containers import kindconfig
from harness.spec import Failover, failover_patches, feature_gate_patches, spec_from_kwargs
from harness.spec.failover import KUBEADM_API

pytestmark = pytest.mark.unit

CGROUP_V1_PATCH = {"kind": "KubeletConfiguration", "failCgroupV1": False}
USER_PATCH = {"kind": "KubeletConfiguration", "maxPods": 50}


def kind_config(cgroup_v1: bool | None = False, **spec: Any) -> dict[str, Any]:
    """kind config of a spec; ``etcd_fsync`` defaults to True here so that the etcd patch, tested on
    its own, does not show up in every patch list below."""
    spec.setdefault("etcd_fsync", True)
    doc = yaml.safe_load(kindconfig.from_spec(spec_from_kwargs(**spec), cgroup_v1=cgroup_v1))
    assert (doc["kind"], doc["apiVersion"]) == ("Cluster", "kind.x-k8s.io/v1alpha4")
    return dict(doc)


def patches(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [yaml.safe_load(p) for p in doc.get("kubeadmConfigPatches", [])]


def parsed(texts: list[str]) -> list[dict[str, Any]]:
    return [yaml.safe_load(t) for t in texts]


def test_default_spec() -> None:
    doc = kind_config()
    assert [n["role"] for n in doc["nodes"]] == ["control-plane", "worker", "worker"]
    assert doc["networking"] == {"podSubnet": "10.244.0.0/16", "serviceSubnet": "10.96.0.0/16",
                                 "kubeProxyMode": "iptables"}  # fmt: skip
    assert "kubeadmConfigPatches" not in doc


def test_etcd_without_fsync_by_default() -> None:
    etcd = {"local": {"extraArgs": [{"name": "unsafe-no-fsync", "value": "true"}]}}
    assert patches(kind_config(etcd_fsync=False)) == [{"apiVersion": KUBEADM_API, "kind": "ClusterConfiguration",
                                                       "etcd": etcd}]  # fmt: skip
    assert "kubeadmConfigPatches" not in kind_config(etcd_fsync=True)


@pytest.mark.parametrize(("control_planes", "workers"), [(1, 0), (3, 0), (3, 5)])
def test_topology(control_planes: int, workers: int) -> None:
    doc = kind_config(control_planes=control_planes, workers=workers)
    assert [n["role"] for n in doc["nodes"]] == ["control-plane"] * control_planes + ["worker"] * workers


def test_networking() -> None:
    doc = kind_config(pod_subnet="10.200.0.0/16", service_subnet="10.100.0.0/16", kube_proxy_mode="nftables")
    assert doc["networking"] == {"podSubnet": "10.200.0.0/16", "serviceSubnet": "10.100.0.0/16",
                                 "kubeProxyMode": "nftables"}  # fmt: skip


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    path = tmp_path / "cni.yaml"
    path.write_text("kind: List\n")
    return path


@pytest.mark.parametrize("cni", ["none", "manifest"])
def test_default_cni_disabled_unless_default(cni: str, manifest: Path) -> None:
    extra = {"cni_manifest": str(manifest)} if cni == "manifest" else {}
    assert kind_config(cni=cni, **extra)["networking"]["disableDefaultCNI"] is True


def test_default_cni_kept() -> None:
    assert "disableDefaultCNI" not in kind_config(cni="default")["networking"]


def test_cgroup_v1_patch() -> None:
    assert patches(kind_config(cgroup_v1=True)) == [CGROUP_V1_PATCH]


@pytest.mark.parametrize("v1_host", [True, False])
def test_cgroup_version_from_host(monkeypatch: pytest.MonkeyPatch, v1_host: bool) -> None:
    monkeypatch.setattr(kindconfig, "cgroup_v1_host", lambda: v1_host)
    assert (CGROUP_V1_PATCH in patches(kind_config(cgroup_v1=None))) is v1_host


def test_dns_domain_becomes_cluster_configuration_patch() -> None:
    assert patches(kind_config(dns_domain="example.test")) == [
        {"kind": "ClusterConfiguration", "networking": {"dnsDomain": "example.test"}}
    ]


def test_default_dns_domain_needs_no_patch() -> None:
    assert patches(kind_config(dns_domain="cluster.local")) == []


def test_kubelet_extra_args_patch_init_and_join() -> None:
    args = [{"name": "max-pods", "value": "50"}, {"name": "v", "value": "4"}]
    assert patches(kind_config(kubelet_extra_args={"max-pods": 50, "v": "4"})) == [
        {"kind": kind, "nodeRegistration": {"kubeletExtraArgs": args}}
        for kind in ("InitConfiguration", "JoinConfiguration")
    ]


def test_fast_failover_patches_included() -> None:
    assert patches(kind_config(failover="fast")) == parsed(failover_patches(Failover(profile="fast")))


def test_user_patches_included() -> None:
    assert patches(kind_config(kubeadm_patches=[USER_PATCH])) == [USER_PATCH]


def test_all_patches_together() -> None:
    """cgroup v1 first; the spec's own patches (failover, feature gates, user) keep their order."""
    gates = {"InPlacePodVerticalScaling": True}
    doc = kind_config(cgroup_v1=True, failover="fast", feature_gates=gates, kubeadm_patches=[USER_PATCH],
                      dns_domain="example.test", kubelet_extra_args={"v": "4"})  # fmt: skip
    spec_patches = [*parsed(failover_patches(Failover(profile="fast")) + feature_gate_patches(gates)), USER_PATCH]
    got = patches(doc)
    assert got[0] == CGROUP_V1_PATCH
    assert [p for p in got if p in spec_patches] == spec_patches
    extra = [p["kind"] for p in got[1:] if p not in spec_patches]
    assert extra == ["ClusterConfiguration", "InitConfiguration", "JoinConfiguration"]  # DNS, kubelet args


def test_patches_dir_mounted_on_control_planes_and_ecdsa_before_user_patches(tmp_path: Path) -> None:
    spec = spec_from_kwargs(control_planes=2, workers=1, kubeadm_patches=[USER_PATCH], etcd_fsync=True)
    doc = yaml.safe_load(kindconfig.from_spec(spec, cgroup_v1=False, patches_dir=tmp_path))
    mount = {"hostPath": str(tmp_path), "containerPath": KUBEADM_PATCHES_DIR, "readOnly": True}
    assert [n.get("extraMounts") for n in doc["nodes"]] == [[mount], [mount], None]
    ecdsa = {"kind": "ClusterConfiguration", "encryptionAlgorithm": "ECDSA-P256"}
    assert patches(doc) == [{"kind": "InitConfiguration", "patches": {"directory": KUBEADM_PATCHES_DIR}}, ecdsa,
                            USER_PATCH]  # fmt: skip


def test_host_patches_dir_is_named_by_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBE_HARNESS_CACHE", str(tmp_path))
    first = host_patches_dir()
    assert {p.name: p.read_text() for p in first.iterdir()} == KUBEADM_PATCH_FILES
    assert host_patches_dir() == first  # made once
    monkeypatch.setitem(KUBEADM_PATCH_FILES, "x.yaml", "a: 1\n")
    second = host_patches_dir()
    assert second != first and (second / "x.yaml").read_text() == "a: 1\n"
    assert sorted(p.name for p in (tmp_path / "kubeadm-patches").iterdir()) == sorted([first.name, second.name])
