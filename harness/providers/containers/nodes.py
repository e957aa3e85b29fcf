"""Node containers for the kubeadm provider: names, creation in parallel, spare nodes."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from harness.bootstrap.ready import wait_systemd
from harness.cluster import Cluster, NodeInfo
from harness.providers.base import LOAD_BALANCER, WORKER, node_names
from harness.providers.containers import dockerapi
from harness.providers.containers.node import ContainerNode


def lb_name(cluster: str) -> str:
    return f"{cluster}-external-load-balancer"


def network_name(cluster: str) -> str:
    return f"kh-{cluster}"


def create_nodes(cluster: Cluster, image: str, control_planes: int, workers: int) -> list[NodeInfo]:
    return create_named(cluster, image, node_names(cluster.name, control_planes, workers))


def create_named(cluster: Cluster, image: str, names: list[tuple[str, str]]) -> list[NodeInfo]:
    """Create every node container concurrently; wait for systemd on the first one only (the
    others are waited for when they join, so they boot while the control plane initialises)."""

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


@contextlib.contextmanager
def spare_node(cluster: Cluster, name: str | None = None) -> Iterator[ContainerNode]:
    """A node container from the cluster's image on the cluster's network, not joined; removed
    (container, volume and Node object) afterwards."""
    first = dockerapi.client().containers.get(cluster.control_planes[0].name)
    network = next(iter(first.attrs["NetworkSettings"]["Networks"]))
    name = name or f"{cluster.name}-spare-{secrets.token_hex(2)}"
    req = dockerapi.NodeRequest(name, first.attrs["Config"]["Image"], WORKER, network, cluster.labels(WORKER))
    container = dockerapi.run_node(req)
    try:
        node = ContainerNode(name, WORKER)
        wait_systemd(node)
        yield node
    finally:
        cluster.kubectl("delete", "node", name, "--ignore-not-found", "--wait=false", check=False)
        container.remove(force=True, v=True)
        with contextlib.suppress(Exception):
            dockerapi.client().volumes.get(f"{name}-var").remove(force=True)


__all__ = ["LOAD_BALANCER", "create_network", "create_nodes", "lb_name", "network_name", "node_names", "spare_node"]
