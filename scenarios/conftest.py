"""Fixtures of the scenario library: probe pods (one per node, made once per cluster and process)
and facts about the cluster under test."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from harness.cluster import Cluster
from harness.scenarios.init import cluster_configuration
from harness.scenarios.probes import Probes

_PROBES: dict[tuple[str, str], Probes] = {}


@pytest.fixture(scope="session")
def _probe_namespaces() -> Iterator[list[tuple[Cluster, str]]]:
    made: list[tuple[Cluster, str]] = []
    yield made
    for cluster, namespace in made:  # shared clusters may outlive the session (--reuse-cluster)
        if cluster.state_path.exists():  # not released already (after its last test)
            cluster.kubectl("delete", "namespace", namespace, "--wait=false", "--ignore-not-found", check=False)


def _probes(cluster: Cluster, made: list[tuple[Cluster, str]], role: str, nodes: list[str], extra: int) -> Probes:
    key = (cluster.name, role)
    if key not in _PROBES:
        namespace = f"kh-{role}-{os.getpid()}"
        cluster.kubectl("create", "namespace", namespace, check=False)
        made.append((cluster, namespace))
        _PROBES[key] = Probes.deploy(cluster, namespace, nodes, extra=extra)
    return _PROBES[key]


@pytest.fixture
def probes(cluster: Cluster, _probe_namespaces: list[tuple[Cluster, str]]) -> Probes:
    """A probe pod on every node (two on the first worker), in a namespace of their own."""
    return _probes(cluster, _probe_namespaces, "probes", [n.name for n in cluster.all_nodes], extra=1)


@pytest.fixture
def other_probes(cluster: Cluster, _probe_namespaces: list[tuple[Cluster, str]]) -> Probes:
    """One probe pod in a second namespace (for cross-namespace checks)."""
    return _probes(cluster, _probe_namespaces, "others", [cluster.all_nodes[-1].name], extra=0)


@pytest.fixture
def dns_domain(cluster: Cluster) -> str:
    return str(cluster_configuration(cluster).get("networking", {}).get("dnsDomain", "cluster.local"))


@pytest.fixture
def node_access(cluster: Cluster) -> None:
    if not cluster.node_access:
        pytest.skip(f"cluster {cluster.name} gives no node access (provider {cluster.provider})")
