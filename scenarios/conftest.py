"""Fixtures of the scenario library: probe pods (one per node, made once per cluster and session,
shared by the xdist workers) and facts about the cluster under test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.cluster import Cluster
from harness.pytest_plugin.session import session_dir, session_id
from harness.scenarios.init import cluster_configuration
from harness.scenarios.probes import Probes
from harness.scenarios.probeset import ProbeSets


def pytest_configure(config: pytest.Config) -> None:
    """The tiers the library's tests are marked with (kube-harness's markers register themselves):
    so the library runs under ``--strict-markers`` from any project's rootdir, not only this one's."""
    for name, doc in {"slow": "long-running (minutes)", "vm": "needs libvirt/Vagrant VMs",
                      "conformance": "runs a preset of the upstream e2e suite"}.items():  # fmt: skip
        config.addinivalue_line("markers", f"{name}: {doc}")


@pytest.fixture(scope="session")
def _probe_sets() -> Iterator[ProbeSets]:
    sets = ProbeSets(session_dir(), session_id())  # session_dir() starts a session if none runs
    yield sets
    sets.release()


@pytest.fixture
def probes(cluster: Cluster, _probe_sets: ProbeSets) -> Probes:
    """A probe pod on every node (two on the first worker), in a namespace of their own."""
    return _probe_sets.get(cluster, "probes", [n.name for n in cluster.all_nodes], extra=1)


@pytest.fixture
def other_probes(cluster: Cluster, _probe_sets: ProbeSets) -> Probes:
    """One probe pod in a second namespace (for cross-namespace checks)."""
    return _probe_sets.get(cluster, "others", [cluster.all_nodes[-1].name], extra=0)


@pytest.fixture
def dns_domain(cluster: Cluster) -> str:
    return str(cluster_configuration(cluster).get("networking", {}).get("dnsDomain", "cluster.local"))


@pytest.fixture
def node_access(cluster: Cluster) -> None:
    if not cluster.node_access:
        pytest.skip(f"cluster {cluster.name} gives no node access (provider {cluster.provider})")
