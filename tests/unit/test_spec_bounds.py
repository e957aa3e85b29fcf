"""harness.spec bounds that kubeadm, kube-apiserver, kind, etcd and the kubelet flag files impose: values just
inside and just outside each bound, file encodings, control characters and host address collisions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.errors import UsageError
from harness.providers.containers.hostnet import DOCKER_DEFAULT_POOLS, docker_address_pools
from harness.spec import (
    ClusterSpec,
    etcd_quorum,
    host_routes,
    labelled_host_routes,
    load_spec,
    spec_from_dict,
    spec_warnings,
    subnet_conflicts,
)
from harness.spec.hostnet import free_range

pytestmark = pytest.mark.unit

ONE_NODE = {"control_planes": 1, "workers": 0}  # a /24 pod subnet holds one node's range only


def problem(spec: dict[str, Any]) -> str:
    with pytest.raises(UsageError) as info:
        spec_from_dict(spec)
    return info.value.message


def net(**fields: str) -> dict[str, Any]:
    return {**ONE_NODE, "networking": fields}


# --- subnets (kubeadm ValidateNetworking, kube-apiserver validateClusterIPFlags) ---------------------------------


@pytest.mark.parametrize(
    "cidr",
    ["10.96.0.0/28", "10.96.0.0/16", "10.96.0.0/12"],
)
def test_service_subnet_inside_bounds(cidr: str) -> None:
    assert spec_from_dict(net(service_subnet=cidr)).networking.service_subnet == cidr


@pytest.mark.parametrize(
    ("cidr", "words"),
    [
        ("10.96.0.0/29", "has 8 addresses; kubeadm needs at least 10"),
        ("10.96.0.0/30", "has 4 addresses"),  # the example, refused minutes earlier than kubeadm init
        ("10.96.0.0/32", "has 1 addresses"),
        ("10.64.0.0/11", "at most 2^20 addresses (/12)"),
        ("10.0.0.0/8", "too large"),
    ],
)
def test_service_subnet_outside_bounds(cidr: str, words: str) -> None:
    msg = problem(net(service_subnet=cidr))
    assert "\n  networking.service_subnet: " in msg and words in msg and "use /12 to /28" in msg


@pytest.mark.parametrize("cidr", ["10.244.0.0/24", "10.244.0.0/16", "10.0.0.0/8"])
def test_pod_subnet_inside_bounds(cidr: str) -> None:
    spec = spec_from_dict(net(pod_subnet=cidr, service_subnet="172.16.0.0/16"))
    assert spec.networking.pod_subnet == cidr


@pytest.mark.parametrize(
    ("cidr", "words"),
    [
        ("10.244.0.0/25", "smaller than one node's /24"),
        ("10.244.0.0/28", "smaller than one node's /24"),  # 16 addresses: kubeadm's minimum of 14 is met
        ("10.244.0.0/29", "has 8 addresses; kubeadm needs at least 14"),
        ("10.0.0.0/7", "more than 16 bits shorter than the node mask 24"),
        ("0.0.0.0/0", "too large"),
    ],
)
def test_pod_subnet_outside_bounds(cidr: str, words: str) -> None:
    msg = problem(net(pod_subnet=cidr, service_subnet="172.16.0.0/16"))
    assert "\n  networking.pod_subnet: " in msg and words in msg and "use /8 to /24" in msg


@pytest.mark.parametrize("field", ["pod_subnet", "service_subnet"])
@pytest.mark.parametrize("value", ["10.244.0.0/16,fd00:10:244::/56", "10.244.0.0/16,10.245.0.0/16"])
def test_dual_stack_is_refused_clearly(field: str, value: str) -> None:
    msg = problem(net(**{field: value}))
    assert f"networking.{field}: " in msg and "dual-stack" in msg and "one IPv4 CIDR" in msg


def test_pod_subnet_room_for_nodes_still_applies() -> None:
    assert spec_from_dict({"workers": 0, "networking": {"pod_subnet": "10.1.0.0/24"}}).node_count == 1
    assert "holds 1 node ranges" in problem({"workers": 1, "networking": {"pod_subnet": "10.1.0.0/24"}})


# --- control planes: etcd quorum (go.etcd.io/raft/v3 quorum/majority.go) -----------------------------------------


@pytest.mark.parametrize(("members", "quorum", "tolerated"), [(1, 1, 0), (2, 2, 0), (3, 2, 1), (4, 3, 1), (5, 3, 2)])
def test_etcd_quorum(members: int, quorum: int, tolerated: int) -> None:
    assert etcd_quorum(members) == (quorum, tolerated)


@pytest.mark.parametrize("control_planes", [1, 3, 5, 7])
def test_odd_control_planes_warn_nothing(control_planes: int) -> None:
    assert spec_warnings(ClusterSpec(control_planes=control_planes)) == []


@pytest.mark.parametrize(
    ("control_planes", "expected"),
    [
        (2, "control_planes: 2 gives an etcd quorum of 2 and tolerates 0 failed members, no more than 1; "
            "use 3 to tolerate 1"),
        (4, "control_planes: 4 gives an etcd quorum of 3 and tolerates 1 failed member, no more than 3; "
            "use 5 to tolerate 2 (or 3 for the same tolerance with one member fewer to agree)"),
        (6, "control_planes: 6 gives an etcd quorum of 4 and tolerates 2 failed members, no more than 5; use 7"),
    ],
)  # fmt: skip
def test_even_control_planes_warn_with_the_arithmetic(control_planes: int, expected: str) -> None:
    (warning,) = spec_warnings(ClusterSpec(control_planes=control_planes))
    assert warning.startswith(expected)


# --- kubelet flag values (kubeadm phases/kubelet/flags.go WriteKubeletArgsToFile, /etc/default/kubelet) ----------


@pytest.mark.parametrize(
    "value",
    ["a,b", "", "node-role.example/x=y,zone=a", "10.0.0.1", "/var/lib/kubelet", "50%", "a=b=c", "~+*:@#"],
)
def test_kubelet_arg_values_accepted(value: str) -> None:
    assert spec_from_dict({"kubelet_extra_args": {"node-labels": value}}).kubelet_extra_args["node-labels"] == value


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("a b", "' ' (whitespace) at position 2"),
        ("a\tb", "(whitespace)"),
        ("a\nb", "(whitespace)"),
        ('a"b', "(a double quote)"),
        ("a'b", "(a single quote)"),
        ("a\\b", "(a backslash)"),
        ("$HOME", "(a '$')"),
        ("`id`", "(a '`')"),
        ("a\x07", "(a control character)"),
        ("a\x7f", "(a control character)"),
        ("zoné", "(non-ASCII)"),
    ],
)
def test_kubelet_arg_values_refused_naming_the_flag(value: str, words: str) -> None:
    msg = problem({"kubelet_extra_args": {"v": "4", "node-labels": value}})
    assert "\n  kubelet_extra_args: " in msg and f"--node-labels={value!r}" in msg and words in msg
    assert "--v=" not in msg  # only the bad flag is named


def test_every_bad_kubelet_value_is_named() -> None:
    msg = problem({"kubelet_extra_args": {"a": "x y", "b": "ok", "c": "$z"}})
    assert "--a='x y'" in msg and "--c='$z'" in msg and "--b=" not in msg


def test_feature_gate_names_unchanged() -> None:
    assert spec_from_dict({"feature_gates": {"InPlacePodVerticalScaling": True}}).feature_gates
    assert "CamelCase" in problem({"feature_gates": {"in-place": True}})


# --- cluster name (kind validate.go validNameRE, kind common/namer.go) -------------------------------------------


@pytest.mark.parametrize("name", ["a", "a" * 40, "kh-" + "x" * 37, "0ha", "a-b-1"])
def test_name_accepted(name: str) -> None:
    assert spec_from_dict({"name": name}).name == name


@pytest.mark.parametrize("name", ["a" * 41, "-ab", "ab-", "a.b", "A", "a_b", ""])
def test_name_refused(name: str) -> None:
    msg = problem({"name": name})
    assert "\n  name: " in msg and "at most 40 characters" in msg and "external-load-balancer" in msg


def test_name_length_fits_the_load_balancer_hostname() -> None:
    assert len(f"{'a' * 40}-external-load-balancer") == 63


# --- encodings and control characters ----------------------------------------------------------------------------


def test_latin1_spec_file_is_refused_naming_the_byte_offset(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("workers: 1\n# café\n".encode("latin-1"))
    with pytest.raises(UsageError) as info:
        load_spec(path)
    msg = info.value.message
    assert str(path) in msg and "not UTF-8" in msg and "byte 0xe9 at offset 16 (line 2)" in msg
    assert info.value.fix is not None and "UTF-8" in info.value.fix and info.value.exit_code == 2


def test_utf16_spec_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "utf16.yaml"
    path.write_bytes("workers: 1\n".encode("utf-16"))
    with pytest.raises(UsageError, match="not UTF-8: byte 0xff at offset 0"):
        load_spec(path)


def test_bom_spec_file_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf# caf\xc3\xa9\nworkers: 3\n")
    assert load_spec(path).workers == 3


def test_offset_counts_the_bom(tmp_path: Path) -> None:
    path = tmp_path / "bom-latin1.yaml"
    path.write_bytes(b"\xef\xbb\xbf# \xe9\n")
    with pytest.raises(UsageError, match="byte 0xe9 at offset 5 "):
        load_spec(path)


def test_raw_control_character_in_yaml_names_line_and_column() -> None:
    with pytest.raises(UsageError) as info:
        load_spec("workers: 1\nname: a\x07b\n")
    assert "control character U+0007 at line 2, column 8" in info.value.message


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"name": "ab\x00"}, "name"),
        ({"name": "a\u200bb"}, "name"),
        ({"kubernetes_version": "v1.37.2\n"}, "kubernetes_version"),
        ({"node_image": "kube-harness/node:v1\x1b"}, "node_image"),
        ({"networking": {"dns_domain": "cluster.local\r"}}, "networking.dns_domain"),
        ({"networking": {"pod_subnet": "10.244.0.0/16\x85"}}, "networking.pod_subnet"),
        ({"networking": {"cni": "manifest", "cni_manifest": "cni\x07.yaml"}}, "networking.cni_manifest"),
        ({"kubeadm_patches": ["kind: KubeletConfiguration\r\nmaxPods: 5\n"]}, "kubeadm_patches[0]"),
        ({"kubeadm_patches": ['kind: KubeletConfiguration\nx: "a\\x07"\n']}, "kubeadm_patches[0]"),
        ({"kubeadm_patches": [{"kind": "KubeletConfiguration", "x": {"y": ["a\x1b"]}}]}, "kubeadm_patches[0]"),
    ],
)
def test_control_characters_are_refused(spec: dict[str, Any], field: str) -> None:
    msg = problem(spec)
    assert f"\n  {field}: " in msg and "character U+" in msg


def test_patches_may_hold_newlines_and_tabs() -> None:
    text = "kind: KubeletConfiguration\nx: |\n  line one\n  \tindented by tab\n"
    spec = spec_from_dict({"kubeadm_patches": [text, {"kind": "KubeletConfiguration", "y": "a\nb\tc"}]})
    assert spec.kubeadm_patches[0] == text


# --- host address collisions (harness.spec.hostnet) --------------------------------------------------------------


def test_no_conflicts() -> None:
    taken = [("Docker network kh-a", "172.18.0.0/16"), ("host route dev eth0", "192.168.1.0/24")]
    assert subnet_conflicts({"pod_subnet": "10.244.0.0/16", "service_subnet": "10.96.0.0/16"}, taken) == []


@pytest.mark.parametrize(
    ("mine", "other", "relation"),
    [
        ("172.18.0.0/16", "172.18.0.0/16", "the same range"),
        ("10.0.0.0/16", "10.0.0.0/24", "the other lies inside it"),
        ("172.20.0.0/16", "172.16.0.0/12", "it lies inside the other"),
    ],
)
def test_conflict_names_both_sides_and_the_fix(mine: str, other: str, relation: str) -> None:
    (msg,) = subnet_conflicts({"pod_subnet": mine}, [("host route dev eth0", other)])
    assert msg.startswith(f"pod_subnet {mine} overlaps host route dev eth0 {other} ({relation})")
    assert "pick another range for pod_subnet, e.g. " in msg


def test_one_message_per_overlap() -> None:
    taken = [("Docker network kh-a", "10.96.0.0/24"), ("Docker network kh-b", "10.96.1.0/24"),
             ("host route dev eth0", "10.244.3.0/24"), ("host route dev eth1", "192.168.0.0/24")]  # fmt: skip
    msgs = subnet_conflicts({"pod_subnet": "10.244.0.0/16", "service_subnet": "10.96.0.0/16"}, taken)
    assert [m.split(" overlaps ")[1].split(" (")[0] for m in msgs] == [
        "host route dev eth0 10.244.3.0/24", "Docker network kh-a 10.96.0.0/24", "Docker network kh-b 10.96.1.0/24"
    ]  # fmt: skip


def test_suggested_range_avoids_everything_taken() -> None:
    taken = [("host route dev eth0", "10.0.0.0/16"), ("Docker network kh-a", "10.1.0.0/16")]
    (msg,) = subnet_conflicts({"pod_subnet": "10.0.0.0/16", "service_subnet": "10.2.0.0/16"}, taken)
    assert msg.endswith("e.g. 10.3.0.0/16")  # not 10.2/16: that is service_subnet


def test_ipv6_taken_ranges_never_collide() -> None:
    assert subnet_conflicts({"pod_subnet": "10.244.0.0/16"}, [("host route dev eth0", "fd00::/8")]) == []


def test_bad_cidr_is_a_value_error_naming_it() -> None:
    with pytest.raises(ValueError, match="Docker network kh-a: 'nonsense' is not a CIDR"):
        subnet_conflicts({"pod_subnet": "10.244.0.0/16"}, [("Docker network kh-a", "nonsense")])


def test_free_range_skips_collisions() -> None:
    from ipaddress import ip_network

    assert str(free_range(16, [])) == "10.0.0.0/16"
    assert str(free_range(16, [ip_network("10.0.0.0/9")])) == "10.128.0.0/16"
    assert free_range(8, [ip_network("10.0.0.1/32")]) is None  # no other private /8
    assert str(free_range(12, [ip_network("10.0.0.0/8")])) == "172.16.0.0/12"
    assert free_range(12, [ip_network("0.0.0.0/0")]) is None


@pytest.mark.parametrize(
    ("daemon_json", "pools"),
    [
        ({}, list(DOCKER_DEFAULT_POOLS)),
        ({"default-address-pools": []}, list(DOCKER_DEFAULT_POOLS)),
        ({"default-address-pools": [{"base": "10.200.0.0/16", "size": 24}]}, ["10.200.0.0/16"]),
        ({"default-address-pools": [{"base": "10.10.1.1/16", "size": 24}, {"base": "fd00::/104", "size": 112}]},
         ["10.10.0.0/16", "fd00::/104"]),
    ],
)  # fmt: skip
def test_docker_address_pools(daemon_json: dict[str, Any], pools: list[str]) -> None:
    assert docker_address_pools(daemon_json) == pools


def test_docker_default_pools_are_libnetworks() -> None:
    assert docker_address_pools({}) == [
        "172.17.0.0/16", "172.18.0.0/15", "172.20.0.0/14", "172.24.0.0/13", "192.168.0.0/16"
    ]  # fmt: skip


@pytest.mark.parametrize("pools", [[{"size": 24}], ["10.0.0.0/8"], [{"base": "10.0.0/8"}], "10.0.0.0/8"])
def test_bad_docker_pools_are_value_errors(pools: Any) -> None:
    with pytest.raises(ValueError, match="default-address-pools"):
        docker_address_pools({"default-address-pools": pools})


IP_ROUTE = [
    {"dst": "default", "gateway": "10.0.0.1", "dev": "eth0", "protocol": "dhcp", "metric": 100, "flags": []},
    {"dst": "10.0.0.0/24", "dev": "eth0", "protocol": "kernel", "scope": "link", "prefsrc": "10.0.0.5", "flags": []},
    {"dst": "10.0.0.1", "dev": "eth0", "protocol": "dhcp", "scope": "link", "metric": 100, "flags": []},
    {"dst": "172.17.0.0/16", "dev": "docker0", "protocol": "kernel", "scope": "link", "flags": ["linkdown"]},
    {"type": "blackhole", "dst": "10.99.0.0/16", "flags": []},
    {"dst": "0.0.0.0/0", "dev": "wg0", "flags": []},
    {"dst": "10.0.0.0/24", "dev": "eth0", "metric": 200, "flags": []},
]


def test_host_routes_skip_the_default_route() -> None:
    assert host_routes(IP_ROUTE) == ["10.0.0.0/24", "10.0.0.1/32", "172.17.0.0/16", "10.99.0.0/16"]
    assert host_routes([]) == []


def test_labelled_host_routes_feed_subnet_conflicts() -> None:
    taken = labelled_host_routes(IP_ROUTE)
    assert taken[0] == ("host route dev eth0", "10.0.0.0/24") and ("host route blackhole", "10.99.0.0/16") in taken
    (msg,) = subnet_conflicts({"service_subnet": "172.17.0.0/16"}, taken)
    assert "overlaps host route dev docker0 172.17.0.0/16 (the same range)" in msg


def test_no_free_range_of_that_size() -> None:
    (msg,) = subnet_conflicts({"pod_subnet": "10.0.0.0/8"}, [("host route dev eth0", "10.0.0.0/24")])
    assert msg.endswith("pick another range for pod_subnet (no private range of this size is free: use a smaller one)")
