"""Configuring a booted VM over SSH: its cluster NIC (matched by MAC, a static address and the
default route, so kubelet and flannel pick it), hostname, /etc/hosts with every node, and a
resolver line CoreDNS can start with."""

from __future__ import annotations

import ipaddress

from harness.bootstrap.ready import wait_systemd
from harness.providers.base import Node, NodeNetwork
from harness.providers.vms.layout import VMPlan
from harness.wait import wait_for

NETWORK_FILE = "/etc/systemd/network/10-kube-harness-cluster.network"


def interface_of(node: Node, mac: str) -> str:
    """The guest's name for the NIC with ``mac`` (``ip -o link``: '2: ens6: <...> ... link/ether MAC ...')."""
    for line in node.exec("ip", "-o", "link").stdout.splitlines():
        if f"link/ether {mac.lower()}" in line.lower():
            return line.split(":")[1].strip().split("@")[0]
    raise RuntimeError(f"{node.name} has no NIC with MAC {mac}")


def network_unit(mac: str, address: str, network: NodeNetwork) -> str:
    prefix = ipaddress.ip_network(network.subnet).prefixlen
    return (f"[Match]\nMACAddress={mac}\n\n[Network]\nAddress={address}/{prefix}\nGateway={network.gateway}\n"
            "LinkLocalAddressing=no\nIPv6AcceptRA=no\n")  # fmt: skip


def hosts_file(entries: list[tuple[str, str]]) -> str:
    lines = ["127.0.0.1 localhost", "::1 localhost ip6-localhost ip6-loopback"]
    return "\n".join(lines + [f"{ip} {name}" for name, ip in entries if ip]) + "\n"


def configure(node: Node, plan: VMPlan, network: NodeNetwork, hosts: list[tuple[str, str]]) -> str:
    """Set the node up on the cluster network; returns the NIC's name (network faults use it)."""
    wait_systemd(node, timeout=600)
    nic = interface_of(node, plan.mac)
    node.write_file(NETWORK_FILE, network_unit(plan.mac, plan.address, network))
    node.exec("hostnamectl", "set-hostname", plan.name)
    node.write_file("/etc/hosts", hosts_file(hosts))
    resolv = node.command("cat", "/etc/resolv.conf").run(check=False).stdout
    if "nameserver" not in resolv:  # CoreDNS forwards to it and will not start without one
        node.exec("rm", "-f", "/etc/resolv.conf")
        node.write_file("/etc/resolv.conf", f"nameserver {network.gateway}\n")
    node.exec("networkctl", "reload")  # systemd >= 256 applies a changed file to its link at once
    node.exec("networkctl", "reconfigure", nic)  # the management NIC (SSH) is left as it is
    wait_for(lambda: plan.address in node.exec("ip", "-o", "-4", "addr", "show", "dev", nic).stdout,
             timeout=60, interval=1, describe=f"{plan.address} on {node.name} {nic}")  # fmt: skip
    return nic
