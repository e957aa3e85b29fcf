"""The node image under the real kind: 1 control plane + 2 workers, Ready, CoreDNS and flannel
Running, and a pod on one worker reaching a pod on the other by IP. The cluster is always deleted
(the ``cluster`` fixture of the plugin runs ``kind create cluster --image <ours>``).
"""

from __future__ import annotations

import pytest

from harness.k8s import checks
from harness.providers.kind import KindCluster

pytestmark = pytest.mark.cluster


def test_three_nodes_ready(cluster: KindCluster) -> None:
    assert len(checks.wait_nodes_ready(cluster, 3)) == 3


def test_coredns_and_cni_running(cluster: KindCluster) -> None:
    checks.wait_rollout(cluster, "deployment", "coredns", "kube-system")
    checks.wait_rollout(cluster, "daemonset", "kube-flannel-ds", "kube-flannel")
    checks.wait_rollout(cluster, "daemonset", "kube-proxy", "kube-system")


def test_pod_to_pod_across_workers(cluster: KindCluster) -> None:
    checks.assert_pod_to_pod_across_workers(cluster, namespace="default")
