"""Upstream failover defaults (the ``defaults`` profile): pods get 300 s not-ready/unreachable
tolerations, and a lost worker turns NotReady only after the 50 s node-monitor grace period, its
pods staying bound well after that. Slow (minutes): run with ``-m slow``."""

from __future__ import annotations

import time

import pytest

from harness import faults
from harness.cluster import Cluster
from harness.k8s import checks
from harness.scenarios import failover
from harness.wait import wait_for

pytestmark = [pytest.mark.kh_cluster(failover="defaults"), pytest.mark.kh_disruptive, pytest.mark.slow]


@pytest.fixture(scope="module")
def cluster(module_cluster: Cluster) -> Cluster:
    return module_cluster


def test_upstream_default_tolerations_and_grace(cluster: Cluster, namespace: str) -> None:
    victim = cluster.workers[-1].name
    failover.deploy(cluster, namespace, victim, replicas=2)
    pod = failover.snapshot(cluster, namespace).pods("web")[0]
    tolerations = {t["key"]: t.get("tolerationSeconds") for t in pod["spec"]["tolerations"]}
    assert tolerations.get("node.kubernetes.io/unreachable") == 300, f"default tolerations: {tolerations}"
    assert tolerations.get("node.kubernetes.io/not-ready") == 300, f"default tolerations: {tolerations}"
    with faults.kill_node(cluster, victim) as fault:
        wait_for(lambda: checks.ready_nodes(cluster).get(victim) is False, timeout=120, interval=1,
                 describe=f"{victim} NotReady")  # fmt: skip
        detect = time.time() - fault.injected_at
        assert 35 <= detect <= 50 + 15, f"NotReady {detect:.0f}s after the loss; upstream grace is 50s"
        time.sleep(30)
        s = failover.snapshot(cluster, namespace)
        bound = [p for p in s.pods("web") if p["spec"].get("nodeName") == victim]
        assert bound and not any(p["metadata"].get("deletionTimestamp") for p in bound), (
            "pods on the lost node were evicted before the 300 s default toleration"
        )
