"""What the container providers (kind, kubeadm-in-containers) share: nodes are containers the
engine CLI execs into, clusters are found by the labels of their containers, networks and volumes,
a spare node is one more node container, and a background cluster gets a small CPU share."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from harness.providers.base import LABEL_CLUSTER, LABEL_PROVIDER, ProviderBase
from harness.providers.containers import dockerapi
from harness.providers.containers.checks import validate_container_spec
from harness.providers.containers.node import ContainerNode

if TYPE_CHECKING:
    from harness.cluster import Cluster, NodeInfo


class ContainerProvider(ProviderBase):
    binary = "docker"  # the engine CLI nodes are driven through
    backend = "docker"  # what clusters() reads: the same for kind and kubeadm

    def validate(self, spec: Any) -> None:
        validate_container_spec(spec)

    def node(self, info: NodeInfo) -> ContainerNode:
        return ContainerNode(info.name, info.role, binary=self.binary)

    def clusters(self) -> dict[str, dict[str, str]]:
        """Every cluster with labelled resources on this engine, whichever provider made them (a VM
        cluster's container control planes too); older ones, labelled before the provider label,
        get it from their network's name."""
        found = dockerapi.labelled_clusters()
        missing = [name for name, labels in found.items() if LABEL_PROVIDER not in labels]
        if missing:
            kind_nets = {r.name for r in dockerapi.resources({LABEL_CLUSTER: ""}) if r.kind == "network"}
            for name in missing:
                found[name][LABEL_PROVIDER] = "kind" if f"kh-kind-{name}" in kind_nets else "kubeadm"
        return found

    def spare_node(self, cluster: Cluster, name: str | None = None) -> contextlib.AbstractContextManager[ContainerNode]:
        from harness.providers.containers.nodes import spare_node

        return spare_node(cluster, name)

    @contextlib.contextmanager
    def background(self, cluster: str, until: Callable[[], bool]) -> Iterator[None]:
        from harness.providers.containers import priority

        with priority.background(cluster, until):
            yield
