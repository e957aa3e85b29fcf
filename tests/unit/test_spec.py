"""harness.spec: ClusterSpec defaults, loading, validation errors, failover profiles and patches."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.errors import UsageError
from harness.spec import (
    ClusterSpec,
    Failover,
    Networking,
    dump_spec,
    etcd_patches,
    failover_patches,
    feature_gate_patches,
    load_spec,
    spec_from_dict,
    spec_from_kwargs,
)

pytestmark = pytest.mark.unit

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "specs"


def problem(text: str | dict) -> str:
    """The UsageError message for an invalid spec (YAML text or a dict)."""
    with pytest.raises(UsageError) as info:
        load_spec(text) if isinstance(text, str) else spec_from_dict(text)
    return info.value.message


# --- defaults and round trips -------------------------------------------------------------------


def test_defaults() -> None:
    spec = ClusterSpec()
    assert (spec.name, spec.control_planes, spec.workers, spec.node_count) == (None, 1, 2, 3)
    assert spec.kubernetes_version == "v1.37.2" and spec.kube_version.minor == 37
    assert spec.node_image is None
    assert spec.networking == Networking()
    assert (spec.networking.pod_subnet, spec.networking.service_subnet) == ("10.244.0.0/16", "10.96.0.0/16")
    assert (spec.networking.kube_proxy_mode, spec.networking.cni) == ("iptables", "default")
    assert spec.kubeadm_patches == [] and spec.feature_gates == {} and spec.kubelet_extra_args == {}
    assert spec.failover.is_default() and not spec.etcd_fsync
    assert spec.all_kubeadm_patches() == etcd_patches(fsync=False)
    assert spec_from_kwargs(etcd_fsync=True).all_kubeadm_patches() == []


def test_empty_yaml_is_the_default_spec() -> None:
    assert load_spec("# nothing\n") == ClusterSpec()


def test_spec_is_frozen() -> None:
    with pytest.raises(ValueError, match="frozen"):
        ClusterSpec().workers = 5


def full_spec() -> ClusterSpec:
    return spec_from_kwargs(
        name="rt", control_planes=3, workers=1, node_image="kube-harness/node:v1.37.2",
        kube_proxy_mode="nftables", kubeadm_patches=["kind: KubeletConfiguration\nmaxPods: 50\n"],
        feature_gates={"Foo": True}, kubelet_extra_args={"v": "4"}, failover="fast",
    )  # fmt: skip


@pytest.mark.parametrize("minimal", [False, True])
def test_round_trip(minimal: bool) -> None:
    spec = full_spec()
    text = dump_spec(spec, minimal=minimal)
    assert load_spec(text) == spec
    assert "maxPods: 50" in text  # patches stay readable (literal block), not escaped


def test_minimal_dump_of_defaults_is_empty() -> None:
    assert yaml.safe_load(dump_spec(ClusterSpec(), minimal=True)) == {}


def test_kwargs_route_networking_and_failover_shorthand() -> None:
    spec = spec_from_kwargs(workers=3, control_planes=3, pod_subnet="10.200.0.0/16", failover="fast")
    assert (spec.node_count, spec.networking.pod_subnet, spec.failover.profile) == (6, "10.200.0.0/16", "fast")
    merged = spec_from_kwargs(networking=Networking(dns_domain="k8s.test"), kube_proxy_mode="nftables")
    assert (merged.networking.dns_domain, merged.networking.kube_proxy_mode) == ("k8s.test", "nftables")


def test_version_is_normalised_and_scalars_become_flag_text() -> None:
    spec = load_spec("kubernetes_version: 1.36.0\nkubelet_extra_args: {v: 4, fail-swap-on: false}\n")
    assert spec.kubernetes_version == "v1.36.0"
    assert spec.kubelet_extra_args == {"v": "4", "fail-swap-on": "false"}


def test_patch_may_be_written_as_mapping() -> None:
    spec = load_spec("kubeadm_patches:\n  - kind: KubeletConfiguration\n    maxPods: 50\n")
    assert yaml.safe_load(spec.kubeadm_patches[0]) == {"kind": "KubeletConfiguration", "maxPods": 50}


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_example_specs_load(path: Path) -> None:
    spec = load_spec(path)
    assert load_spec(dump_spec(spec)) == spec


def test_examples_say_what_they_promise() -> None:
    assert load_spec(EXAMPLES / "default.yaml") == ClusterSpec()
    ha = load_spec(str(EXAMPLES / "ha.yaml"))
    assert (ha.control_planes, ha.workers) == (3, 3)
    assert load_spec(EXAMPLES / "fast-failover.yaml").failover.resolved() == (10, 5, 5)


# --- validation errors ---------------------------------------------------------------------------


def test_ipvs_is_refused_with_the_reason() -> None:
    msg = problem("networking:\n  kube_proxy_mode: ipvs\n")
    assert "networking.kube_proxy_mode" in msg and "ipvs" in msg and "unavailable" in msg
    assert "allowed: iptables, nftables" in msg


def test_unknown_top_level_field_suggests_and_lists_fields() -> None:
    msg = problem("wrokers: 3\n")
    assert "unknown field 'wrokers'" in msg and "did you mean 'workers'" in msg
    assert "allowed: name, control_planes, workers," in msg


def test_camel_case_field_points_to_snake_case() -> None:
    msg = problem("networking:\n  podSubnet: 10.0.0.0/16\n")
    assert "networking.podSubnet" in msg and "'pod_subnet'" in msg and "snake_case" in msg


def test_every_problem_is_reported_at_once() -> None:
    msg = problem("workers: 30\ncontrol_planes: 0\nnetworking: {cni: calico}\nfailover: {profile: quick}\n")
    assert "4 problems" in msg
    assert "workers: " in msg and "(allowed: 0..20)" in msg
    assert "control_planes: " in msg and "(allowed: 1..7)" in msg
    assert "networking.cni: 'calico'" in msg and "allowed: default, none, manifest" in msg
    assert "failover.profile: 'quick'" in msg and "allowed: defaults, fast, custom" in msg


@pytest.mark.parametrize(
    ("spec", "field", "words"),
    [
        ({"name": "Bad_Name"}, "name", "DNS-1123"),
        ({"name": "a" * 41}, "name", "40"),
        ({"workers": "three"}, "workers", "valid integer"),
        ({"kubernetes_version": "latest"}, "kubernetes_version", "unknown Kubernetes version 'latest'"),
        ({"kubernetes_version": "v1.20.0"}, "kubernetes_version", "older than the harness supports"),
        ({"node_image": "Not An Image"}, "node_image", "container image reference"),
        ({"networking": {"pod_subnet": "10.244.0.1/16"}}, "networking.pod_subnet", "host bits"),
        ({"networking": {"pod_subnet": "fd00::/64"}}, "networking.pod_subnet", "IPv6"),
        ({"networking": {"pod_subnet": "10.1.0.0/26"}}, "networking.pod_subnet", "/24"),
        ({"networking": {"service_subnet": "10.0.0.0/8"}}, "networking.service_subnet", "/12"),
        ({"networking": {"dns_domain": "Cluster_Local"}}, "networking.dns_domain", "DNS name"),
        ({"feature_gates": {"fooBar": True}}, "feature_gates", "fooBar"),
        ({"kubelet_extra_args": {"--max-pods": "3"}}, "kubelet_extra_args", "--max-pods"),
        ({"kubelet_extra_args": {"maxPods": "3"}}, "kubelet_extra_args", "kebab-case"),
        ({"kubeadm_patches": ["a: b"]}, "kubeadm_patches[0]", "'kind'"),
        ({"kubeadm_patches": ["kind: Foo"]}, "kubeadm_patches[0]", "allowed: ClusterConfiguration"),
        ({"kubeadm_patches": ["[oops"]}, "kubeadm_patches[0]", "YAML"),
        ({"kubeadm_patches": ["kind: A\n---\nkind: B\n"]}, "kubeadm_patches[0]", "one valid YAML document"),
        (
            {"kubeadm_patches": ["apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\n"]},
            "kubeadm_patches[0]", "would patch nothing",
        ),
        ({"networking": "wide"}, "networking", "valid dictionary"),
    ],
)  # fmt: skip
def test_field_errors_name_the_field(spec: dict, field: str, words: str) -> None:
    msg = problem(spec)
    assert f"\n  {field}: " in msg and words in msg


def test_overlapping_cidrs_name_both() -> None:
    msg = problem("networking: {pod_subnet: 10.96.0.0/12, service_subnet: 10.100.0.0/16}\n")
    assert "networking.service_subnet" in msg and "10.96.0.0/12" in msg and "10.100.0.0/16" in msg
    assert "overlaps" in msg
    assert "overlaps" in problem({"networking": {"pod_subnet": "10.96.0.0/12"}})  # the default service range


def test_pod_subnet_must_hold_a_range_per_node() -> None:
    msg = problem({"workers": 3, "networking": {"pod_subnet": "10.0.0.0/23"}})
    assert "networking: pod_subnet 10.0.0.0/23 holds 2 node ranges" in msg and "4 nodes" in msg


def test_cni_manifest_rules(tmp_path: Path) -> None:
    assert "required when cni is 'manifest'" in problem({"networking": {"cni": "manifest"}})
    assert "only used with cni: manifest" in problem({"networking": {"cni_manifest": "x.yaml"}})
    missing = problem({"networking": {"cni": "manifest", "cni_manifest": str(tmp_path / "nope.yaml")}})
    assert "networking.cni_manifest" in missing and "nope.yaml' is not a file" in missing


def test_cni_manifest_is_relative_to_the_spec_file(tmp_path: Path) -> None:
    (tmp_path / "calico.yaml").write_text("kind: List\n")
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text("networking:\n  cni: manifest\n  cni_manifest: calico.yaml\n")
    spec = load_spec(spec_file)
    assert spec.networking.cni_manifest == tmp_path / "calico.yaml"
    assert load_spec(dump_spec(spec)) == spec


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("workers: 3\nwrokers: 4\n")
    with pytest.raises(UsageError) as info:
        load_spec(path)
    assert str(path) in info.value.message and info.value.fix is not None and str(path) in info.value.fix
    assert info.value.exit_code == 2


def test_bad_yaml_says_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("workers: 2\nnetworking:\n  pod_subnet: [10.0.0.0/16\n")
    with pytest.raises(UsageError) as info:
        load_spec(path)
    assert str(path) in info.value.message and "line " in info.value.message


def test_duplicate_keys_are_refused() -> None:
    assert "duplicate key 'workers'" in problem("workers: 1\nworkers: 2\n")
    assert "line 2" in problem("workers: 1\nworkers: 2\n")


def test_spec_must_be_a_mapping() -> None:
    assert "YAML mapping" in problem("- workers\n")


def test_missing_spec_file() -> None:
    with pytest.raises(UsageError, match="not found"):
        load_spec("does/not/exist.yaml")


def test_kwargs_errors_are_usage_errors() -> None:
    with pytest.raises(UsageError) as info:
        spec_from_kwargs(workers=3, wokers=1)
    assert "did you mean 'workers'" in info.value.message and "keyword arguments" in (info.value.fix or "")


# --- failover ------------------------------------------------------------------------------------


def test_failover_profiles_resolve() -> None:
    assert Failover().resolved() == (50, 300, 300) and Failover().is_default()
    assert Failover(profile="fast").resolved() == (10, 5, 5) and not Failover(profile="fast").is_default()
    custom = Failover(profile="custom", node_monitor_grace_period_s=20, not_ready_toleration_s=7,
                      unreachable_toleration_s=9)  # fmt: skip
    assert custom.resolved() == (20, 7, 9)
    assert "grace 20s" in custom.describe()


def test_custom_failover_needs_all_three_positive_values() -> None:
    msg = problem({"failover": {"profile": "custom", "node_monitor_grace_period_s": 0}})
    assert "failover.node_monitor_grace_period_s" in msg and "greater than 0" in msg
    assert "failover.not_ready_toleration_s: required when profile is 'custom'" in msg
    assert "failover.unreachable_toleration_s: required" in msg


def test_failover_values_need_custom_profile() -> None:
    msg = problem({"failover": {"profile": "fast", "not_ready_toleration_s": 3}})
    assert "failover.not_ready_toleration_s: only used with profile 'custom'" in msg


def test_failover_patches_content() -> None:
    assert failover_patches(Failover()) == []
    patch, kubelet_patch = failover_patches(Failover(profile="fast"))
    doc = yaml.safe_load(patch)
    assert (doc["apiVersion"], doc["kind"]) == ("kubeadm.k8s.io/v1beta4", "ClusterConfiguration")
    assert doc["controllerManager"]["extraArgs"] == [{"name": "node-monitor-grace-period", "value": "10s"},
                                                     {"name": "node-monitor-period", "value": "2s"}]  # fmt: skip
    kubelet = yaml.safe_load(kubelet_patch)
    assert kubelet == {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "nodeLeaseDurationSeconds": 10,
    }  # lease renewed every 2.5 s: no flapping at 10 s grace
    assert doc["apiServer"]["extraArgs"] == [
        {"name": "default-not-ready-toleration-seconds", "value": "5"},
        {"name": "default-unreachable-toleration-seconds", "value": "5"},
    ]


# --- generated patches ---------------------------------------------------------------------------


def test_feature_gate_patches() -> None:
    cluster, kubelet = (yaml.safe_load(p) for p in feature_gate_patches({"Zed": False, "Alpha": True}))
    for component in ("apiServer", "controllerManager", "scheduler"):
        assert cluster[component]["extraArgs"] == [{"name": "feature-gates", "value": "Alpha=true,Zed=false"}]
    assert kubelet["kind"] == "KubeletConfiguration" and kubelet["featureGates"] == {"Alpha": True, "Zed": False}
    assert feature_gate_patches({}) == []


def test_all_kubeadm_patches_generated_first_user_last() -> None:
    spec = full_spec()
    kinds = [yaml.safe_load(p)["kind"] for p in spec.all_kubeadm_patches()]
    assert kinds == ["ClusterConfiguration", "ClusterConfiguration", "KubeletConfiguration", "ClusterConfiguration",
                     "KubeletConfiguration", "KubeletConfiguration"]  # fmt: skip
    assert spec.all_kubeadm_patches()[-1] == spec.kubeadm_patches[0]
    assert all("kubeletExtraArgs" not in p for p in spec.all_kubeadm_patches())  # kubelet_extra_args stay as-is
