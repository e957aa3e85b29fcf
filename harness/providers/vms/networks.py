"""The libvirt networks of a VM cluster, made by the harness (not Vagrant) under the host lock, so
two creates never pick the same range: an isolated management network with DHCP (SSH only, no
default route) and, when every node is a VM, an isolated cluster network with static addresses."""

from __future__ import annotations

import ipaddress
import json
from xml.sax.saxutils import escape

from harness.errors import HostError
from harness.exec import Cmd
from harness.locks import host_lock
from harness.providers.base import NodeNetwork
from harness.providers.vms import virsh
from harness.spec.hostnet import free_range, host_routes, parse_net

FIX = "remove libvirt networks nothing uses (`virsh net-list --all`), or `kube-harness gc`"


def network_xml(name: str, cidr: str, dhcp: bool) -> str:
    net = ipaddress.ip_network(cidr)
    gateway = next(net.hosts())
    lease = ""
    if dhcp:
        first, last = net.network_address + 10, net.broadcast_address - 1
        lease = f"<dhcp><range start='{first}' end='{last}'/></dhcp>"
    return (f"<network><name>{escape(name)}</name><bridge stp='off' delay='0'/>"
            f"<ip address='{gateway}' netmask='{net.netmask}'>{lease}</ip></network>")  # fmt: skip


def taken_ranges(also: list[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """What a new range must not overlap: the host's routes, libvirt's networks, and ``also``."""
    res = Cmd(["ip", "-j", "route"]).run(check=False)
    cidrs = host_routes(json.loads(res.stdout)) if res.ok and res.stdout.strip() else []
    for name in virsh.virsh("net-list", "--all", "--name").stdout.split():
        cidrs += _subnets(virsh.virsh("net-dumpxml", name, check=False).stdout)
    return [parse_net(c, "taken") for c in [*cidrs, *also]]


def _subnets(xml: str) -> list[str]:
    from xml.etree import ElementTree

    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError:
        return []
    return [str(ipaddress.ip_interface(f"{ip.get('address')}/{ip.get('netmask') or ip.get('prefix')}").network)
            for ip in root.findall("ip") if ip.get("address")]  # fmt: skip


def _define(name: str, cidr: str, dhcp: bool) -> None:
    Cmd(["virsh", "-c", virsh.URI, "net-define", "/dev/stdin"], input=network_xml(name, cidr, dhcp)).run()
    virsh.virsh("net-start", name)


def make(cluster: str, avoid: list[str], private: bool) -> tuple[str, NodeNetwork | None]:
    """The management network (its CIDR) and, if ``private``, the cluster network; both /24s."""
    with host_lock():
        taken = taken_ranges(avoid)
        mgmt = free_range(24, taken)
        if mgmt is None:
            raise HostError(
                "no free /24 for the VM management network", fix="remove unused libvirt networks (virsh net-list)"
            )
        _define(virsh.management_network(cluster), str(mgmt), dhcp=True)
        if not private:
            return str(mgmt), None
        own = free_range(24, [*taken, mgmt])
        if own is None:
            raise HostError(
                "no free /24 for the VM cluster network", fix="remove unused libvirt networks (virsh net-list)"
            )
        name = virsh.private_network(cluster)
        _define(name, str(own), dhcp=False)
        bridge = _bridge(name)
    return str(mgmt), NodeNetwork(bridge, str(own), str(next(own.hosts())))


def _bridge(name: str) -> str:
    return virsh.virsh("net-info", name).stdout.split("Bridge:")[-1].split()[0]
