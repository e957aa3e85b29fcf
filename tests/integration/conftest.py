"""Helpers for the harness's own integration tests (real Docker, real clusters)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import pytest

from harness.cluster import Cluster
from harness.k8s import checks
from harness.lifecycle import managed_cluster
from harness.pytest_plugin.session import owner
from harness.spec import spec_from_kwargs


@pytest.fixture(scope="session")
def make_cluster(node_image: str) -> Callable[..., AbstractContextManager[Cluster]]:
    """``with make_cluster("kubeadm", control_planes=3, workers=1) as c:`` on the default node image."""

    def make(provider: str, phased: bool = False, **topology: int) -> AbstractContextManager[Cluster]:
        spec = spec_from_kwargs(node_image=node_image, **topology)
        return managed_cluster(spec, provider=provider, phased=phased, owner=owner())

    return make


def assert_healthy(cluster: Cluster) -> None:
    """Every node Ready, CoreDNS, kube-proxy and flannel rolled out, pods reach pods across workers."""
    checks.wait_nodes_ready(cluster, len(cluster.all_nodes))
    checks.wait_rollout(cluster, "deployment", "coredns", "kube-system")
    checks.wait_rollout(cluster, "daemonset", "kube-proxy", "kube-system")
    checks.wait_rollout(cluster, "daemonset", "kube-flannel-ds", "kube-flannel")
    if len(cluster.workers) >= 2:
        checks.assert_pod_to_pod_across_workers(cluster, namespace="default")


@pytest.fixture(scope="session")
def kind_cluster(make_cluster: Callable[..., AbstractContextManager[Cluster]]) -> Iterator[Cluster]:
    with make_cluster("kind", control_planes=1, workers=2) as c:
        yield c
