"""harness.providers.containers.kindconfig: the kind cluster configuration."""

from __future__ import annotations

import pytest
import yaml

from harness.errors import UsageError
from harness.providers.containers import kindconfig

pytestmark = pytest.mark.unit


def render(**kwargs: object) -> dict:
    return yaml.safe_load(kindconfig.render(**kwargs))  # type: ignore[arg-type]


def roles(doc: dict) -> list[str]:
    return [n["role"] for n in doc["nodes"]]


def test_cgroup_v1_gets_cluster_wide_kubelet_patch() -> None:
    doc = render(cgroup_v1=True)
    (patch,) = doc["kubeadmConfigPatches"]
    assert yaml.safe_load(patch) == {"kind": "KubeletConfiguration", "failCgroupV1": False}


def test_cgroup_v2_has_no_patch() -> None:
    assert "kubeadmConfigPatches" not in render(cgroup_v1=False)


@pytest.mark.parametrize("v1_host", [True, False])
def test_cgroup_version_detected_from_host(monkeypatch: pytest.MonkeyPatch, v1_host: bool) -> None:
    monkeypatch.setattr(kindconfig, "cgroup_v1_host", lambda: v1_host)
    assert ("kubeadmConfigPatches" in render()) is v1_host


def test_default_topology() -> None:
    doc = render(cgroup_v1=False)
    assert (doc["kind"], doc["apiVersion"]) == ("Cluster", "kind.x-k8s.io/v1alpha4")
    assert roles(doc) == ["control-plane", "worker", "worker"]
    assert "networking" not in doc


@pytest.mark.parametrize(("control_planes", "workers"), [(1, 0), (3, 0), (3, 4)])
def test_node_counts(control_planes: int, workers: int) -> None:
    doc = render(control_planes=control_planes, workers=workers, cgroup_v1=False)
    assert roles(doc) == ["control-plane"] * control_planes + ["worker"] * workers


def test_networking() -> None:
    doc = render(pod_subnet="10.244.0.0/16", service_subnet="10.96.0.0/16", kube_proxy_mode="nftables",
                 disable_default_cni=True, cgroup_v1=False)  # fmt: skip
    assert doc["networking"] == {
        "podSubnet": "10.244.0.0/16",
        "serviceSubnet": "10.96.0.0/16",
        "kubeProxyMode": "nftables",
        "disableDefaultCNI": True,
    }


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"control_planes": 0}, "control_planes=0"),
        ({"workers": -1}, "workers=-1"),
        ({"kube_proxy_mode": "ipvs"}, "kube_proxy_mode='ipvs'"),
        ({"kube_proxy_mode": "userspace"}, "kube_proxy_mode='userspace'"),
    ],
)
def test_bad_input(kwargs: dict[str, object], problem: str) -> None:
    with pytest.raises(UsageError) as err:
        kindconfig.render(cgroup_v1=False, **kwargs)  # type: ignore[arg-type]
    assert problem in err.value.message
    assert err.value.fix


def test_ipvs_fix_names_the_alternatives() -> None:
    with pytest.raises(UsageError) as err:
        kindconfig.render(kube_proxy_mode="ipvs", cgroup_v1=False)
    assert "iptables" in (err.value.fix or "") and "nftables" in (err.value.fix or "")


def test_generated_config_is_plain_yaml_without_anchors() -> None:
    text = kindconfig.render(control_planes=3, workers=2, cgroup_v1=False)  # one dict object per role, repeated
    assert "&id" not in text and "*id" not in text
    assert roles(yaml.safe_load(text)) == ["control-plane"] * 3 + ["worker"] * 2
