"""Session fixtures: the node image and one kind cluster shared by the session's tests."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from harness.images.build import BuildOptions, build_node_image
from harness.progress import Progress
from harness.providers.kind import KindCluster


@pytest.fixture(scope="session")
def node_image(pytestconfig: pytest.Config) -> str:
    """``--node-image`` if given, else the default image (built, or found up to date in Docker)."""
    return pytestconfig.getoption("node_image") or build_node_image(BuildOptions(), Progress(tick=60))


@pytest.fixture(scope="session")
def keep_cluster(pytestconfig: pytest.Config) -> bool:
    return bool(pytestconfig.getoption("keep_cluster"))


@pytest.fixture(scope="session")
def cluster_name() -> str:
    return f"kh-{os.getpid()}"


@pytest.fixture(scope="session")
def cluster_topology() -> tuple[int, int]:
    """(control planes, workers) of the session cluster."""
    return 1, 2


@pytest.fixture(scope="session")
def cluster(
    node_image: str, cluster_name: str, cluster_topology: tuple[int, int], keep_cluster: bool
) -> Iterator[KindCluster]:
    """A kind cluster made from the node image; deleted after the session unless kept."""
    control_planes, workers = cluster_topology
    with KindCluster(cluster_name, node_image, control_planes, workers, keep=keep_cluster) as kc:
        yield kc
