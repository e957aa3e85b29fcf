"""Waits every provider's bring-up shares: systemd up on a node, the cluster Ready with CoreDNS."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from harness.bootstrap import isolation
from harness.k8s import checks
from harness.phases.engine import Context
from harness.providers.base import Node
from harness.providers.bringup import bringup
from harness.wait import wait_for

SYSTEMD_UP = ("running", "degraded")


def systemd_state(node: Node) -> str:
    """running, degraded, starting, ...; or why the node did not answer (the wait's timeout shows it)."""
    res = node.command("systemctl", "is-system-running").run(check=False)
    return res.stdout.strip() or f"(no answer: exit {res.rc} {res.stderr.strip()[-200:]})"


def wait_systemd(node: Node, timeout: float = 90) -> None:
    wait_for(lambda: systemd_state(node) in SYSTEMD_UP, timeout=timeout, interval=0.25,
             describe=f"systemd on {node.name} to reach running/degraded")  # fmt: skip


def record_readiness(ctx: Context, when: str) -> None:
    nodes = checks.ready_nodes(bringup(ctx).cluster)
    ctx.record.measurements[f"nodes_{when}"] = len(nodes)
    ctx.record.measurements[f"nodes_ready_{when}"] = sum(nodes.values())


def ready(ctx: Context) -> None:
    """Service-CIDR isolation on every node (``isolation.py``, side by side and while the nodes
    come up), then every node Ready, CoreDNS rolled out (with a CNI) and kube-proxy running on each
    node (by then it is, so that check costs one kubectl call); the cluster is marked ready. Waits
    scale with the provider's timeout scale (VMs under TCG)."""
    state = bringup(ctx)
    cluster = state.cluster
    nodes = cluster.all_nodes if cluster.node_access else []
    wait = 300 * cluster.timeout_scale

    def isolate(node: Node) -> None:
        with ctx.on_node(node.name):
            isolation.isolate(node, state.spec.networking.service_subnet)

    with ThreadPoolExecutor(max_workers=len(nodes) or 1) as pool:
        isolated = [pool.submit(isolate, n) for n in nodes]
        checks.wait_nodes_ready(cluster, len(cluster.all_nodes), timeout=wait)
        for done in isolated:
            done.result()
    if state.spec.networking.cni != "none":
        checks.wait_rollout(cluster, "deployment", "coredns", "kube-system", timeout=wait)
    checks.wait_rollout(cluster, "daemonset", "kube-proxy", "kube-system", timeout=wait)
    record_readiness(ctx, "after_cni")
    cluster.status = "ready"
    cluster.save()
