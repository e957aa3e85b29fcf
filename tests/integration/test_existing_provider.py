"""The ``existing`` provider: a cluster made elsewhere (here by kind), reached by kubeconfig only.
Checks that need no node access run; node commands fail clearly; delete leaves the cluster alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cluster import Cluster
from harness.k8s import checks
from harness.lifecycle import managed_cluster
from harness.providers.existing import NoNodeAccess
from harness.spec import spec_from_kwargs
from tests.integration.conftest import assert_healthy

pytestmark = pytest.mark.kh_cluster


def test_existing_cluster_runs_api_only_checks_and_is_left_alone(kind_cluster: Cluster) -> None:
    with managed_cluster(spec_from_kwargs(), provider="existing", kubeconfig=Path(kind_cluster.kubeconfig)) as ext:
        assert not ext.node_access
        assert sorted(n.name for n in ext.all_nodes) == sorted(n.name for n in kind_cluster.all_nodes)
        assert_healthy(ext)
        with pytest.raises(NoNodeAccess):
            ext.workers[0].command("true")
    assert all(checks.ready_nodes(kind_cluster).values()), "deleting the existing record touched the cluster"
