"""Smoke scenario: the cluster the harness made is up and its basic plumbing works.

Runs against the session ``cluster`` fixture (a kind cluster from the offline node image).
The fuller init/join/CNI/DNS/Services library follows in later issues.
"""

from __future__ import annotations

import pytest

from harness.k8s import checks
from harness.providers.kind import KindCluster

pytestmark = pytest.mark.cluster


def test_all_nodes_ready(cluster: KindCluster) -> None:
    control_planes, workers = 1, 2
    assert len(checks.wait_nodes_ready(cluster, control_planes + workers)) == control_planes + workers


@pytest.mark.parametrize(
    ("kind", "name", "namespace"),
    [
        ("deployment", "coredns", "kube-system"),
        ("daemonset", "kube-proxy", "kube-system"),
        ("daemonset", "kube-flannel-ds", "kube-flannel"),
    ],
)
def test_system_workloads_ready(cluster: KindCluster, kind: str, name: str, namespace: str) -> None:
    checks.wait_rollout(cluster, kind, name, namespace)


def test_pod_to_pod_across_nodes(cluster: KindCluster) -> None:
    checks.assert_pod_to_pod_across_workers(cluster, namespace="default")


def test_cluster_dns_resolves_kubernetes_service(cluster: KindCluster) -> None:
    checks.wait_rollout(cluster, "deployment", "coredns", "kube-system")
    svc_ip = cluster.kubectl("get", "svc", "kubernetes", "-o", "jsonpath={.spec.clusterIP}")
    answer = cluster.kubectl("run", "kh-dig", "--rm", "-i", "--restart=Never", "--quiet",
                             "--image=kube-harness.local/testimage:v1", "--image-pull-policy=Never",
                             "--command", "--", "dig", "+short", "kubernetes.default.svc.cluster.local")  # fmt: skip
    assert svc_ip in answer.split(), answer
