"""Session fixtures: the node image and one cluster shared by the session's tests.

Every setting is a fixture (``cluster_provider``, ``cluster_spec``, ``keep_cluster``, ...), so a
project overrides any of them in its conftest.py; the logic itself is
``harness.lifecycle.managed_cluster``, usable without pytest.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.cluster import Cluster
from harness.images.build import BuildOptions, build_node_image
from harness.lifecycle import managed_cluster
from harness.progress import Progress
from harness.spec import load_spec, spec_from_kwargs


@pytest.fixture(scope="session")
def node_image(pytestconfig: pytest.Config) -> str:
    """``--node-image`` if given, else the default image (built, or found up to date in Docker)."""
    return pytestconfig.getoption("node_image") or build_node_image(BuildOptions(), Progress(tick=60))


@pytest.fixture(scope="session")
def keep_cluster(pytestconfig: pytest.Config) -> bool:
    return bool(pytestconfig.getoption("keep_cluster"))


@pytest.fixture(scope="session")
def cluster_provider(pytestconfig: pytest.Config) -> str:
    return str(pytestconfig.getoption("provider"))


@pytest.fixture(scope="session")
def cluster_spec(pytestconfig: pytest.Config, node_image: str) -> Any:
    """``--spec FILE`` if given, else 1 control plane + 2 workers; the node image filled in."""
    path = pytestconfig.getoption("spec")
    spec = load_spec(path) if path else spec_from_kwargs(control_planes=1, workers=2)
    return spec if spec.node_image else spec.model_copy(update={"node_image": node_image})


@pytest.fixture(scope="session")
def cluster(
    pytestconfig: pytest.Config, cluster_spec: Any, cluster_provider: str, keep_cluster: bool
) -> Iterator[Cluster]:
    """The session cluster; deleted after the session unless ``--keep-cluster``."""
    kubeconfig = pytestconfig.getoption("kubeconfig")
    path = Path(kubeconfig) if kubeconfig else None
    with managed_cluster(cluster_spec, provider=cluster_provider, keep=keep_cluster, kubeconfig=path) as c:
        yield c
