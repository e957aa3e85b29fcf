"""Node containers for the kubeadm provider: names, creation in parallel, waiting for systemd."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from harness.cluster import Cluster, NodeInfo
from harness.providers import dockerapi
from harness.providers.base import CONTROL_PLANE, LOAD_BALANCER, WORKER
from harness.providers.container import ContainerNode
from harness.wait import wait_for

SYSTEMD_UP = ("running", "degraded")


def node_names(cluster: str, control_planes: int, workers: int) -> list[tuple[str, str]]:
    """kind's naming: <c>-control-plane, <c>-control-plane2, ..., <c>-worker, <c>-worker2, ..."""

    def numbered(role: str, count: int) -> list[tuple[str, str]]:
        return [(f"{cluster}-{role}{'' if i == 1 else i}", role) for i in range(1, count + 1)]

    return numbered(CONTROL_PLANE, control_planes) + numbered(WORKER, workers)


def lb_name(cluster: str) -> str:
    return f"{cluster}-external-load-balancer"


def network_name(cluster: str) -> str:
    return f"kh-{cluster}"


def systemd_state(node: ContainerNode) -> str:
    return node.command("systemctl", "is-system-running").run(check=False).stdout.strip()


def wait_systemd(node: ContainerNode, timeout: float = 90) -> None:
    wait_for(lambda: systemd_state(node) in SYSTEMD_UP, timeout=timeout, interval=0.25,
             describe=f"systemd on {node.name} to reach running/degraded")  # fmt: skip


def create_nodes(cluster: Cluster, image: str, control_planes: int, workers: int) -> list[NodeInfo]:
    """Create every node container concurrently; wait for systemd on the first control plane only
    (the others are waited for when they join, so they boot while the control plane initialises)."""
    names = node_names(cluster.name, control_planes, workers)

    def one(name_role: tuple[str, str]) -> NodeInfo:
        name, role = name_role
        req = dockerapi.NodeRequest(name, image, role, network_name(cluster.name),
                                    cluster.labels(role))  # fmt: skip
        dockerapi.run_node(req)
        node = ContainerNode(name, role)
        if name == names[0][0]:
            wait_systemd(node)
        return NodeInfo(name, role, node.ip())

    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        return list(pool.map(one, names))


def create_network(cluster: Cluster) -> None:
    dockerapi.create_network(network_name(cluster.name), cluster.labels())


__all__ = ["LOAD_BALANCER", "create_network", "create_nodes", "lb_name", "network_name", "node_names"]
