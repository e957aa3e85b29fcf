"""The vagrant provider's pure parts: which nodes are VMs, addresses and MACs, the Vagrant config,
libvirt labels and network names, the guest's network unit, the box volume name."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from harness.errors import UsageError
from harness.providers.base import CONTROL_PLANE, LABEL_CLUSTER, LABEL_KEEP, WORKER, NodeNetwork, node_names
from harness.providers.vms import boxes, guest, layout, networks, virsh
from harness.spec import spec_from_kwargs

pytestmark = pytest.mark.unit

DOCKER_NET = NodeNetwork("br-0123456789ab", "172.18.0.0/16", "172.18.0.1")
OWN_NET = NodeNetwork("virbr3", "10.0.1.0/24", "10.0.1.1")


@pytest.mark.parametrize(("setting", "accel", "want"),
                         [("auto", "kvm", "all"), ("auto", "tcg", "workers"), ("all", "tcg", "all"),
                          ("workers", "kvm", "workers")])  # fmt: skip
def test_auto_layout_follows_the_accelerator(setting: str, accel: str, want: str) -> None:
    assert layout.vm_nodes(setting, accel) == want


def test_timeout_scale() -> None:
    assert layout.timeout_scale(0.0, "kvm") == 1.0 and layout.timeout_scale(0.0, "tcg") == 4.0
    assert layout.timeout_scale(2.5, "tcg") == 2.5


def test_workers_layout_bridges_vm_workers_onto_the_container_network() -> None:
    plan = layout.plan("demo", node_names("demo", 1, 2), "workers", DOCKER_NET, "10.0.0.0/24")
    assert [(n.name, n.vm) for n in plan.nodes] == [("demo-control-plane", False), ("demo-worker", True),
                                                    ("demo-worker2", True)]  # fmt: skip
    assert [n.address for n in plan.vms] == ["172.18.255.254", "172.18.255.253"]  # the top: Docker allocates low
    assert plan.bridged and not plan.containers[0].address


def test_all_layout_numbers_vms_from_ten() -> None:
    plan = layout.plan("demo", node_names("demo", 1, 1), "all", OWN_NET, "10.0.0.0/24")
    assert [(n.role, n.address) for n in plan.vms] == [(CONTROL_PLANE, "10.0.1.10"), (WORKER, "10.0.1.11")]
    assert not plan.bridged


def test_macs_are_stable_local_and_distinct() -> None:
    a, b = layout.mac("demo", "demo-worker", "cluster"), layout.mac("demo", "demo-worker", "mgmt")
    assert a == layout.mac("demo", "demo-worker", "cluster") and a != b
    assert a.startswith("52:54:") and len(a.split(":")) == 6


def test_vagrant_config_has_one_entry_per_vm_with_its_labels() -> None:
    plan = layout.plan("demo", node_names("demo", 1, 1), "workers", DOCKER_NET, "10.0.0.0/24")
    vm = SimpleNamespace(cpus=1, memory_mb=2048)
    doc = json.loads(layout.vagrant_config("demo", plan, "kh/box", vm, "qemu", {"demo-worker": "labels"},
                                           "/c", 1200))  # fmt: skip
    assert doc["network"] == {"type": "bridge", "bridge": "br-0123456789ab"}
    assert doc["cpu_mode"] == "custom" and doc["management"]["name"] == "kh-vm-demo.mgmt"
    (node,) = doc["nodes"]
    assert node["name"] == "demo-worker" and node["description"] == "labels" and node["prefix"] == 16
    assert node["console"] == "/c/demo-worker.log"


def test_labels_round_trip_through_the_domain_description() -> None:
    labels = {LABEL_CLUSTER: "demo", LABEL_KEEP: "true"}
    assert virsh.parse_description(virsh.description(labels)) == labels
    assert virsh.parse_description("someone else's VM") == {}
    assert virsh.parse_description(virsh.LABELS_MARK + "{not json") == {}


@pytest.mark.parametrize(("network", "owner"), [("kh-vm-demo", "demo"), ("kh-vm-demo.mgmt", "demo"),
                                                  ("kh-vm-demo-m", "demo-m"), ("default", None)])  # fmt: skip
def test_network_names_map_to_their_cluster(network: str, owner: str | None) -> None:
    match = virsh.NETWORK_RE.match(network)
    assert (match["cluster"] if match else None) == owner
    if owner:
        assert network in virsh.network_names(owner) or network == "kh-vm-demo-m"


def test_management_network_hands_out_leases_the_cluster_network_none() -> None:
    with_dhcp = networks.network_xml("kh-vm-demo.mgmt", "10.0.3.0/24", dhcp=True)
    assert "<ip address='10.0.3.1' netmask='255.255.255.0'>" in with_dhcp
    assert "<range start='10.0.3.10' end='10.0.3.254'/>" in with_dhcp and "<forward" not in with_dhcp
    assert "<dhcp>" not in networks.network_xml("kh-vm-demo", "10.0.4.0/24", dhcp=False)


def test_libvirt_network_subnets_are_read_from_their_xml() -> None:
    xml = "<network><name>x</name><ip address='192.168.121.1' netmask='255.255.255.0'/></network>"
    assert networks._subnets(xml) == ["192.168.121.0/24"]
    assert networks._subnets("not xml") == []


def test_guest_network_unit_matches_the_mac_and_owns_the_default_route() -> None:
    unit = guest.network_unit("52:54:00:aa:bb:cc", "172.18.255.254", DOCKER_NET)
    assert "MACAddress=52:54:00:aa:bb:cc" in unit and "Address=172.18.255.254/16" in unit
    assert "Gateway=172.18.0.1" in unit


def test_hosts_file_names_every_node() -> None:
    text = guest.hosts_file([("demo-control-plane", "172.18.0.2"), ("demo-worker", "172.18.255.254"), ("x", "")])
    assert "172.18.0.2 demo-control-plane\n" in text and "172.18.255.254 demo-worker\n" in text
    assert " x\n" not in text


def test_box_volume_name_as_vagrant_libvirt_spells_it(tmp_path: Path) -> None:
    image = tmp_path / "box.img"
    image.write_text("")
    assert boxes.volume_name("kube-harness/node-v1", "1", image) == \
        "kube-harness-VAGRANTSLASH-node-v1_vagrant_box_image_1_box.img"  # fmt: skip
    assert boxes.volume_name("kh/b", "0", image).startswith("kh-VAGRANTSLASH-b_vagrant_box_image_0_")


def test_slow_guest_patches_merge_into_the_rendered_config() -> None:
    from harness.providers.vms import slow
    from harness.spec import etcd_patches
    from tests.unit.test_kubeadm_config import rendered

    cluster, init, *_ = rendered(patches=etcd_patches(False) + slow.patches(4.0))
    etcd = {a["name"]: a["value"] for a in cluster["etcd"]["local"]["extraArgs"]}
    assert etcd == {"unsafe-no-fsync": "true", "heartbeat-interval": "1000", "election-timeout": "10000"}
    leases = {a["name"]: a["value"] for a in cluster["controllerManager"]["extraArgs"]}
    assert leases["leader-elect-lease-duration"] == "60s"
    assert init["timeouts"]["controlPlaneComponentHealthCheck"] == "16m0s"


def test_ssh_control_sockets_fit_a_unix_socket_path_and_differ_per_cluster() -> None:
    from harness.providers.vms.node import control_path

    long_dir = "/root/.cache/kube-harness/vagrant/" + "a" * 40
    path = control_path(long_dir).replace("%C", "x" * 40)
    assert len(path) < 100 and control_path(long_dir) != control_path(long_dir + "b")


def _validating(monkeypatch: pytest.MonkeyPatch, accel: str) -> Any:
    from harness.providers.vms import provider

    monkeypatch.setattr(provider.virsh, "require", lambda: None)
    monkeypatch.setattr(provider.shutil, "which", lambda _: "/usr/bin/vagrant")
    monkeypatch.setattr(provider, "accelerator", lambda: accel)
    checked: list[Any] = []
    monkeypatch.setattr(provider.registry, "get", lambda _: SimpleNamespace(validate=checked.append))
    return provider.VagrantProvider(), checked


def test_ha_takes_container_control_planes_behind_the_load_balancer(monkeypatch: pytest.MonkeyPatch) -> None:
    prov, checked = _validating(monkeypatch, "tcg")
    spec = spec_from_kwargs(control_planes=3, workers=1, vms={"nodes": "workers"})
    prov.validate(spec)
    assert checked == [spec]  # the container half is the kubeadm provider's to check


def test_ha_with_control_plane_vms_is_refused_before_anything_is_made(monkeypatch: pytest.MonkeyPatch) -> None:
    prov, _ = _validating(monkeypatch, "kvm")
    with pytest.raises(UsageError, match="load balancer VM") as err:
        prov.validate(spec_from_kwargs(control_planes=3, workers=1, vms={"nodes": "all"}))
    assert "vms.nodes: workers" in (err.value.fix or "")
