"""Which nodes of a spec are VMs, their addresses and MACs, and the per-cluster Vagrant config:
pure logic (the provider gathers the facts: accelerator, the container network, free ranges).

The Vagrantfile (``vagrant/Vagrantfile``) is static; it reads ``kube-harness.json`` beside it,
written here from the spec.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from dataclasses import dataclass
from typing import Any

from harness.providers.base import CONTROL_PLANE, WORKER, NodeNetwork


@dataclass(frozen=True)
class VMPlan:
    name: str
    role: str
    vm: bool  # false: a node container (the control planes of a `workers` layout)
    address: str = ""  # the VM's static address on the cluster network
    mac: str = ""  # of its cluster NIC
    mgmt_mac: str = ""  # of its management NIC (SSH)


@dataclass(frozen=True)
class Layout:
    nodes: list[VMPlan]
    network: NodeNetwork  # the cluster network (a libvirt one, or the container network VMs join)
    bridged: bool  # VMs join a container network's bridge (else a libvirt network of their own)
    management: str  # CIDR of the per-cluster management network (DHCP, isolated: SSH only)

    @property
    def vms(self) -> list[VMPlan]:
        return [n for n in self.nodes if n.vm]

    @property
    def containers(self) -> list[VMPlan]:
        return [n for n in self.nodes if not n.vm]


def vm_nodes(setting: str, accelerator: str) -> str:
    """``all`` or ``workers`` for a spec's ``vms.nodes`` on a host with ``accelerator`` (kvm|tcg)."""
    if setting != "auto":
        return setting
    return "all" if accelerator == "kvm" else "workers"


def timeout_scale(setting: float, accelerator: str) -> float:
    return setting or (1.0 if accelerator == "kvm" else 4.0)


def mac(cluster: str, node: str, nic: str) -> str:
    """A stable, locally administered MAC per (cluster, node, NIC): the guest's networkd matches it."""
    digest = hashlib.sha256(f"{cluster}/{node}/{nic}".encode()).digest()
    return "52:54:" + ":".join(f"{b:02x}" for b in digest[:4])


def addresses(network: NodeNetwork, count: int, bridged: bool) -> list[str]:
    """VM addresses: from the top of a shared container subnet (the engine hands out addresses from
    the bottom), or from .10 up in a libvirt network of their own (.1 is the host)."""
    net = ipaddress.ip_network(network.subnet)
    if bridged:
        top = int(net.broadcast_address) - 1
        return [str(ipaddress.ip_address(top - i)) for i in range(count)]
    if count + 10 > net.num_addresses - 2:  # the network and broadcast addresses are no hosts
        raise ValueError(f"{net} has no room for {count} VMs")
    first = int(net.network_address) + 10
    return [str(ipaddress.ip_address(first + i)) for i in range(count)]


def plan(cluster: str, names: list[tuple[str, str]], nodes: str, network: NodeNetwork, management: str) -> Layout:
    """``names``: (name, role) in kind's order; ``nodes``: all | workers (see ``vm_nodes``)."""
    bridged = nodes == "workers"
    is_vm = [role == WORKER or (role == CONTROL_PLANE and not bridged) for _, role in names]
    ips = iter(addresses(network, sum(is_vm), bridged))
    out = [VMPlan(name, role, vm, next(ips), mac(cluster, name, "cluster"), mac(cluster, name, "mgmt")) if vm
           else VMPlan(name, role, vm) for (name, role), vm in zip(names, is_vm, strict=True)]  # fmt: skip
    return Layout(out, network, bridged, management)


def vagrant_config(cluster: str, layout: Layout, box: str, vm: Any, driver: str, descriptions: dict[str, str],
                   console_dir: str, boot_timeout: int) -> str:  # fmt: skip
    """kube-harness.json for vagrant/Vagrantfile: one entry per VM, its NICs and its labels."""
    prefix = ipaddress.ip_network(layout.network.subnet).prefixlen
    mgmt = ipaddress.ip_network(layout.management)
    doc = {
        "box": box, "driver": driver, "cpus": vm.cpus, "memory": vm.memory_mb, "boot_timeout": boot_timeout,
        "cpu_mode": "host-passthrough" if driver == "kvm" else "custom",
        "management": {"name": f"kh-vm-{cluster}.mgmt", "address": str(mgmt)},
        "network": ({"type": "bridge", "bridge": layout.network.bridge} if layout.bridged else
                    {"type": "libvirt", "name": f"kh-vm-{cluster}", "netmask": str(ipaddress.ip_network(
                        layout.network.subnet).netmask)}),
        "nodes": [{"name": n.name, "role": n.role, "ip": n.address, "prefix": prefix, "mac": n.mac,
                   "mgmt_mac": n.mgmt_mac, "description": descriptions[n.name],
                   "console": f"{console_dir}/{n.name}.log"} for n in layout.vms],
    }  # fmt: skip
    return json.dumps(doc, indent=2)
