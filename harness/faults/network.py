"""Network faults inside a node's network namespace, in a chain of their own (``KH-FAULT``) that is
removed on revert: partitions from some peers or from everything, and one blocked port."""

from __future__ import annotations

from harness.cluster import Cluster
from harness.faults.base import Fault

CHAIN = "KH-FAULT"
HOOKS = ("INPUT", "OUTPUT", "FORWARD")


def _script_inject(rules: list[str]) -> str:
    lines = [f"iptables -w -N {CHAIN} 2>/dev/null || iptables -w -F {CHAIN}"]
    lines += [f"iptables -w -C {h} -j {CHAIN} 2>/dev/null || iptables -w -I {h} 1 -j {CHAIN}" for h in HOOKS]
    lines += [f"iptables -w -A {CHAIN} {r}" for r in rules]
    return " && ".join(lines)


def _script_revert() -> str:
    lines = [f"while iptables -w -D {h} -j {CHAIN} 2>/dev/null; do :; done" for h in HOOKS]
    lines += [f"iptables -w -F {CHAIN} 2>/dev/null; iptables -w -X {CHAIN} 2>/dev/null; true"]
    return "; ".join(lines)


def _fault(cluster: Cluster, name: str, node: str, rules: list[str], notes: dict[str, str]) -> Fault:
    n = cluster.node(node)

    def sh(script: str) -> None:
        n.exec("sh", "-c", script)

    return Fault(name, node, lambda: sh(_script_inject(rules)), lambda: sh(_script_revert()), notes=notes)


def partition(cluster: Cluster, node: str, peers: list[str] | None = None) -> Fault:
    """Drop all traffic between ``node`` and ``peers`` (node names; default: every other node and
    the host, i.e. everything on its network interface)."""
    if peers is None:
        nic = cluster.node(node).interface  # the cluster network's interface (a VM keeps its management one)
        return _fault(cluster, "partition-all", node, [f"-i {nic} -j DROP", f"-o {nic} -j DROP"], {"peers": "all"})
    ips = [cluster.node(p).ip() for p in peers]
    rules = [r for ip in ips for r in (f"-s {ip} -j DROP", f"-d {ip} -j DROP")]
    return _fault(cluster, "partition", node, rules, {"peers": ",".join(peers)})


def block_port(cluster: Cluster, node: str, port: int, protocol: str = "tcp") -> Fault:
    """Drop what arrives at ``node`` for ``port`` (e.g. 10250, the kubelet API)."""
    return _fault(cluster, f"block-port-{port}", node, [f"-p {protocol} --dport {port} -j DROP"],
                  {"port": str(port), "protocol": protocol})  # fmt: skip
