"""The kubeadm provider: node containers through the Docker SDK, the kubeadm flow run as phases."""

from __future__ import annotations

from typing import Any

from harness.bootstrap.plan import kubeadm_phases, reject_join_patches
from harness.cluster import Cluster, NodeInfo
from harness.phases.engine import Context, Phase
from harness.providers.base import CONTROL_PLANE, LABEL_CLUSTER, LABEL_RUN, NodeNetwork
from harness.providers.bringup import bringup, forget_after
from harness.providers.containers import dockerapi, loadbalancer, nodes
from harness.providers.containers.checks import resolve_image, validate_container_spec
from harness.providers.containers.provider import ContainerProvider


def provision(ctx: Context) -> None:
    """The cluster's network, its node containers and (HA) the load balancer."""
    state = bringup(ctx)
    cluster, spec = state.cluster, state.spec
    nodes.create_network(cluster)
    ctx.check()
    cluster.nodes = nodes.create_nodes(cluster, state.image, spec.control_planes, spec.workers)
    if spec.control_planes > 1:
        ctx.check()
        cluster.nodes.append(loadbalancer.create(cluster, [n for n in cluster.nodes if n.role == CONTROL_PLANE]))
    cluster.save()


def cleanup(ctx: Context) -> None:
    """After a failure or Ctrl-C (unless kept): every container, network and volume this run made
    goes (labelled with its run id: never another run's, even of the same name)."""
    cluster = bringup(ctx).cluster
    for line in forget_after(cluster, lambda: dockerapi.remove_cluster(cluster.name, cluster.run_id)):
        ctx.say(f"removed {line}")


class KubeadmProvider(ContainerProvider):
    name = "kubeadm"
    options = ("phased",)

    def __init__(self, phased: bool = False) -> None:
        self.phased = phased

    def plan(self, spec: Any, cluster: str) -> list[Phase]:
        names = [n for n, _ in nodes.node_names(cluster, spec.control_planes, spec.workers)]
        return [
            Phase("image", resolve_image, timeout=3600),
            Phase("provision", provision, timeout=300),
            *kubeadm_phases(spec, cluster, names, self.phased),
            Phase("cleanup", cleanup, timeout=300, when="failure"),
        ]

    def validate(self, spec: Any) -> None:
        """The node image is local; nodes join with flags (token, CA hash): a JoinConfiguration
        patch would be ignored."""
        validate_container_spec(spec)
        reject_join_patches(spec, self.name)

    def delete(self, cluster: str, run: str | None = None) -> list[str]:
        return dockerapi.remove_cluster(cluster, run)

    # -- Machines: node containers another provider's cluster borrows ----------------------------
    def make(self, cluster: Cluster, names: list[tuple[str, str]], image: str) -> list[NodeInfo]:
        if not dockerapi.resources({LABEL_CLUSTER: cluster.name, LABEL_RUN: cluster.run_id}):
            nodes.create_network(cluster)
        return nodes.create_named(cluster, image, names)

    def network(self, cluster: str) -> NodeNetwork:
        return dockerapi.bridge(nodes.network_name(cluster))

    def load_balancer(self, cluster: Cluster, control_planes: list[NodeInfo]) -> NodeInfo:
        return loadbalancer.create(cluster, control_planes)
