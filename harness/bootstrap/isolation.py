"""Service-network traffic that kube-proxy did not translate never leaves a node.

On a real network a packet to a ClusterIP port no Service defines goes to the default route and
dies. Node containers' default route is the Docker host, which forwards it on; where the host's
network answers anything (these machines' egress proxy accepts every TCP connection to port 80),
a removed Service port would still answer, and upstream conformance rightly fails ("should serve
endpoints on same port and different protocols"). A REJECT for the Service CIDR in OUTPUT and
FORWARD, placed first, matches only packets still addressed to it after kube-proxy's DNAT (nat runs
before filter), so every defined Service keeps working. A systemd unit keeps it across node
restarts and reboots.
"""

from __future__ import annotations

import ipaddress

from harness.providers.base import Node

UNIT = "kube-harness-service-cidr.service"
UNIT_TEXT = """[Unit]
Description=kube-harness: traffic to the Service CIDR {cidr} that kube-proxy did not translate stays here
After=network.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c '{script}'

[Install]
WantedBy=multi-user.target
"""


def script(cidr: str) -> str:
    """Idempotent: each rule is added (first in its chain) only when missing."""
    tool = "ip6tables" if ipaddress.ip_network(cidr, strict=False).version == 6 else "iptables"
    rule = f"-d {cidr} -m comment --comment kube-harness-service-cidr -j REJECT"
    return "; ".join(f"{tool} -w -C {chain} {rule} 2>/dev/null || {tool} -w -I {chain} 1 {rule}"
                     for chain in ("OUTPUT", "FORWARD"))  # fmt: skip


def unit(cidrs: list[str]) -> str:
    return UNIT_TEXT.format(cidr=", ".join(cidrs), script="; ".join(script(c) for c in cidrs))


def isolate(node: Node, service_subnet: str) -> None:
    """Install the unit on ``node`` (for every CIDR of a dual-stack Service subnet) and apply its
    rules now, in one node command: the unit is linked into ``multi-user.target.wants`` by hand, so
    it runs at every later boot without a ``systemctl`` call (a daemon-reload per node cost seconds
    of bring-up on a loaded host)."""
    cidrs = [c.strip() for c in service_subnet.split(",") if c.strip()]
    node.command("sh", "-c", install_script(cidrs), input=unit(cidrs)).run()


def install_script(cidrs: list[str]) -> str:
    """Write the unit from stdin, enable it by its symlink, then apply the rules as it would."""
    path, wants = f"/etc/systemd/system/{UNIT}", "/etc/systemd/system/multi-user.target.wants"
    rules = "; ".join(script(c) for c in cidrs)
    return f"cat > {path} && mkdir -p {wants} && ln -sf {path} {wants}/{UNIT} && {{ {rules}; }}"
