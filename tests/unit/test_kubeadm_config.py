"""harness.bootstrap.config: the kubeadm v1beta4 config file and kind-style patch merging."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from harness.bootstrap.config import (
    CONTROLLER_MANAGER_CLIENT,
    CRI_SOCKET,
    KUBEADM_API,
    KubeadmInputs,
    apply_patches,
    base_documents,
    merge,
    render,
)
from harness.spec import Failover, failover_patches

pytestmark = pytest.mark.unit

KUBELET_API = "kubelet.config.k8s.io/v1beta1"
PROXY_API = "kubeproxy.config.k8s.io/v1alpha1"
DOCUMENTS = [
    (KUBEADM_API, "ClusterConfiguration"),
    (KUBEADM_API, "InitConfiguration"),
    (KUBELET_API, "KubeletConfiguration"),
    (PROXY_API, "KubeProxyConfiguration"),
]
ADVERTISE = "172.18.0.2"
SANS = ["demo-control-plane", "demo-external-load-balancer", ADVERTISE, "172.18.0.5"]


def inputs(**overrides: Any) -> KubeadmInputs:
    fields: dict[str, Any] = {
        "cluster_name": "demo",
        "kubernetes_version": "v1.37.2",
        "endpoint": "demo-external-load-balancer:6443",
        "advertise_address": ADVERTISE,
        "token": "abcdef.0123456789abcdef",
        "certificate_key": "ab" * 32,
        "cert_sans": SANS,
    }
    return KubeadmInputs(**{**fields, **overrides})


def rendered(**overrides: Any) -> list[dict[str, Any]]:
    return list(yaml.safe_load_all(render(inputs(**overrides))))


def by_kind(**overrides: Any) -> dict[str, dict[str, Any]]:
    return {doc["kind"]: doc for doc in rendered(**overrides)}


def args(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in pairs]


# -- render ----------------------------------------------------------------------------------------


def test_render_gives_four_documents_in_order() -> None:
    text = render(inputs())
    assert text.count("---\n") == 3
    assert [(d["apiVersion"], d["kind"]) for d in rendered()] == DOCUMENTS


def test_cluster_configuration() -> None:
    cluster = by_kind(pod_subnet="10.200.0.0/16", service_subnet="10.100.0.0/16", dns_domain="example.test")[
        "ClusterConfiguration"
    ]
    assert cluster["clusterName"] == "demo"
    assert cluster["kubernetesVersion"] == "v1.37.2"
    assert cluster["controlPlaneEndpoint"] == "demo-external-load-balancer:6443"
    assert cluster["networking"] == {
        "podSubnet": "10.200.0.0/16",
        "serviceSubnet": "10.100.0.0/16",
        "dnsDomain": "example.test",
    }
    assert cluster["apiServer"]["certSANs"] == ["localhost", "127.0.0.1", *SANS]


def test_cluster_configuration_defaults() -> None:
    cluster = by_kind(cert_sans=[])["ClusterConfiguration"]
    assert cluster["networking"] == {"podSubnet": "10.244.0.0/16", "serviceSubnet": "10.96.0.0/16",
                                     "dnsDomain": "cluster.local"}  # fmt: skip
    assert cluster["apiServer"] == {"certSANs": ["localhost", "127.0.0.1"]}
    assert cluster["encryptionAlgorithm"] == "ECDSA-P256"  # fast key generation; a patch restores RSA


def test_init_configuration() -> None:
    init = by_kind()["InitConfiguration"]
    assert init["bootstrapTokens"] == [{"token": "abcdef.0123456789abcdef", "ttl": "24h0m0s"}]
    assert init["certificateKey"] == "ab" * 32
    assert init["localAPIEndpoint"] == {"advertiseAddress": ADVERTISE, "bindPort": 6443}
    assert init["nodeRegistration"]["criSocket"] == CRI_SOCKET


def test_kubelet_extra_args_start_with_node_ip() -> None:
    init = by_kind(kubelet_extra_args={"max-pods": "50", "v": "4"})["InitConfiguration"]
    assert init["nodeRegistration"]["kubeletExtraArgs"] == args(("node-ip", ADVERTISE), ("max-pods", "50"), ("v", "4"))


def test_kubelet_extra_args_default_to_node_ip_only() -> None:
    assert by_kind()["InitConfiguration"]["nodeRegistration"]["kubeletExtraArgs"] == args(("node-ip", ADVERTISE))


@pytest.mark.parametrize("cgroup_v1", [True, False])
def test_kubelet_configuration(cgroup_v1: bool) -> None:
    kubelet = by_kind(cgroup_v1=cgroup_v1)["KubeletConfiguration"]
    assert kubelet["cgroupDriver"] == "systemd"
    assert kubelet["cgroupRoot"] == "/kubelet"
    assert ("failCgroupV1" in kubelet) is cgroup_v1
    if cgroup_v1:
        assert kubelet["failCgroupV1"] is False


@pytest.mark.parametrize(
    ("mode", "conntrack"),
    [("iptables", {"maxPerCore": 0}), ("nftables", {"maxPerCore": 0, "tcpBeLiberal": True})],
)
def test_kube_proxy_configuration(mode: str, conntrack: dict[str, Any]) -> None:
    proxy = by_kind(kube_proxy_mode=mode)["KubeProxyConfiguration"]
    assert proxy["mode"] == mode
    assert proxy["conntrack"] == conntrack


# -- merge -----------------------------------------------------------------------------------------


def test_merge_dicts_deeply() -> None:
    base = {"a": {"b": 1, "c": {"d": 2, "e": 3}}, "f": 4}
    patch = {"a": {"c": {"e": 30, "g": 5}}, "h": 6}
    assert merge(base, patch) == {"a": {"b": 1, "c": {"d": 2, "e": 30, "g": 5}}, "f": 4, "h": 6}


def test_merge_named_lists_by_name_keeping_first_order() -> None:
    base = args(("a", "1"), ("b", "2"), ("c", "3"))
    patch = args(("d", "4"), ("b", "20"))
    assert merge(base, patch) == args(("a", "1"), ("b", "20"), ("c", "3"), ("d", "4"))


def test_merge_named_lists_inside_mappings() -> None:
    base = {"apiServer": {"extraArgs": args(("v", "2")), "certSANs": ["localhost"]}}
    patch = {"apiServer": {"extraArgs": args(("audit-log-path", "-"), ("v", "4"))}}
    assert merge(base, patch) == {
        "apiServer": {"extraArgs": args(("v", "4"), ("audit-log-path", "-")), "certSANs": ["localhost"]}
    }


@pytest.mark.parametrize(
    ("base", "patch"),
    [
        (["localhost", "127.0.0.1"], ["10.0.0.1"]),  # plain lists
        ([{"token": "a"}], [{"token": "b"}]),  # lists of mappings without names
        (args(("v", "2")), []),  # an empty list clears
        (args(("v", "2")), ["v=4"]),  # a different kind of list
        ({"a": 1}, "text"),  # a mapping by a scalar
        ("text", {"a": 1}),  # a scalar by a mapping
        (1, None),
    ],
    ids=["plain", "unnamed", "empty", "mixed", "dict-by-scalar", "scalar-by-dict", "null"],
)
def test_merge_replaces_everything_else(base: Any, patch: Any) -> None:
    assert merge({"k": base}, {"k": patch}) == {"k": patch}


def test_merge_changes_neither_input() -> None:
    base = {"a": {"b": 1}, "args": args(("x", "1"), ("y", "2")), "list": [1, 2]}
    patch = {"a": {"c": 2}, "args": args(("y", "3")), "list": [3]}
    before = copy.deepcopy((base, patch))
    merge(base, patch)
    assert (base, patch) == before


# -- apply_patches ---------------------------------------------------------------------------------


@pytest.fixture
def docs() -> list[dict[str, Any]]:
    return base_documents(inputs())


def changed(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[str]:
    return [b["kind"] for b, a in zip(before, after, strict=True) if a != b]


def test_patch_matches_by_kind(docs: list[dict[str, Any]]) -> None:
    out = apply_patches(docs, ["kind: KubeletConfiguration\nmaxPods: 50\n"])
    assert changed(docs, out) == ["KubeletConfiguration"]
    assert out[2] == {**docs[2], "maxPods": 50}


def test_patch_with_matching_api_version_applies(docs: list[dict[str, Any]]) -> None:
    out = apply_patches(docs, [f"apiVersion: {PROXY_API}\nkind: KubeProxyConfiguration\nmode: nftables\n"])
    assert changed(docs, out) == ["KubeProxyConfiguration"]
    assert (out[3]["apiVersion"], out[3]["kind"], out[3]["mode"]) == (PROXY_API, "KubeProxyConfiguration", "nftables")


@pytest.mark.parametrize(
    "patch",
    [
        "apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\nclusterName: other\n",
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: KubeletConfiguration\nmaxPods: 50\n",
        "kind: JoinConfiguration\ncaCertPath: /x\n",  # no such document is generated
    ],
    ids=["older-api", "wrong-group", "absent-kind"],
)
def test_patch_that_matches_nothing_is_ignored(docs: list[dict[str, Any]], patch: str) -> None:
    assert apply_patches(docs, [patch]) == docs


def test_patches_apply_in_order(docs: list[dict[str, Any]]) -> None:
    out = apply_patches(
        docs, ["kind: KubeletConfiguration\nmaxPods: 50\n", "kind: KubeletConfiguration\nmaxPods: 60\n"]
    )
    assert out[2]["maxPods"] == 60


def test_apply_patches_leaves_the_documents_alone(docs: list[dict[str, Any]]) -> None:
    before = copy.deepcopy(docs)
    apply_patches(docs, ["kind: ClusterConfiguration\nnetworking:\n  dnsDomain: example.test\n"])
    assert docs == before


def test_rendered_patches_keep_generated_fields() -> None:
    patch = "kind: ClusterConfiguration\nnetworking:\n  dnsDomain: example.test\n"
    cluster = by_kind(patches=[patch])["ClusterConfiguration"]
    assert cluster["networking"] == {"podSubnet": "10.244.0.0/16", "serviceSubnet": "10.96.0.0/16",
                                     "dnsDomain": "example.test"}  # fmt: skip
    assert cluster["controlPlaneEndpoint"] == "demo-external-load-balancer:6443"


# -- failover patches end up in the config ---------------------------------------------------------

FAST_APISERVER = args(("default-not-ready-toleration-seconds", "5"), ("default-unreachable-toleration-seconds", "5"))
CLIENT = [{"name": k, "value": v} for k, v in CONTROLLER_MANAGER_CLIENT.items()]
FAST_CONTROLLER_MANAGER = CLIENT + args(("node-monitor-grace-period", "10s"), ("node-monitor-period", "2s"))


def test_fast_failover_becomes_extra_args() -> None:
    cluster = by_kind(patches=failover_patches(Failover(profile="fast")))["ClusterConfiguration"]
    assert cluster["apiServer"] == {"certSANs": ["localhost", "127.0.0.1", *SANS], "extraArgs": FAST_APISERVER}
    assert cluster["controllerManager"] == {"extraArgs": FAST_CONTROLLER_MANAGER}
    kubelet = by_kind(patches=failover_patches(Failover(profile="fast")))["KubeletConfiguration"]
    assert kubelet["nodeLeaseDurationSeconds"] == 10


def test_default_failover_adds_no_extra_args() -> None:
    cluster = by_kind(patches=failover_patches(Failover()))["ClusterConfiguration"]
    assert "extraArgs" not in cluster["apiServer"]
    assert cluster["controllerManager"] == {"extraArgs": CLIENT}


def test_controller_manager_client_limits_raised_and_patchable() -> None:
    assert CONTROLLER_MANAGER_CLIENT == {"kube-api-qps": "100", "kube-api-burst": "200"}
    upstream = "kind: ClusterConfiguration\ncontrollerManager:\n  extraArgs:\n  - {name: kube-api-qps, value: '20'}\n"
    cluster = by_kind(patches=[upstream])["ClusterConfiguration"]
    assert cluster["controllerManager"]["extraArgs"] == args(("kube-api-qps", "20"), ("kube-api-burst", "200"))


def test_later_patch_overrides_failover_arg_by_name() -> None:
    user = "kind: ClusterConfiguration\napiServer:\n  extraArgs:\n" + "".join(
        f"  - name: {n}\n    value: '{v}'\n" for n, v in [("default-unreachable-toleration-seconds", 30), ("v", 2)]
    )
    cluster = by_kind(patches=[*failover_patches(Failover(profile="fast")), user])["ClusterConfiguration"]
    assert cluster["apiServer"]["extraArgs"] == args(
        ("default-not-ready-toleration-seconds", "5"), ("default-unreachable-toleration-seconds", "30"), ("v", "2")
    )
