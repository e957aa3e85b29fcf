"""Smoke scenario: the cluster the harness made is up and its basic plumbing works.

Runs against the session ``cluster`` fixture (by default a kind cluster from the offline node
image, 1 control plane + 2 workers; ``--provider kubeadm`` or ``--spec FILE`` change it).
The fuller init/join/CNI/DNS/Services library follows in later issues.
"""

from __future__ import annotations

import pytest

from harness.cluster import Cluster
from harness.k8s import checks

pytestmark = pytest.mark.cluster


def test_all_nodes_ready(cluster: Cluster) -> None:
    expected = len(cluster.all_nodes)
    assert expected == cluster_spec_nodes(cluster)
    assert len(checks.wait_nodes_ready(cluster, expected)) == expected


def cluster_spec_nodes(cluster: Cluster) -> int:
    return int(cluster.spec.get("control_planes", 1)) + int(cluster.spec.get("workers", 2))


@pytest.mark.parametrize(
    ("kind", "name", "namespace"),
    [
        ("deployment", "coredns", "kube-system"),
        ("daemonset", "kube-proxy", "kube-system"),
        ("daemonset", "kube-flannel-ds", "kube-flannel"),
    ],
)
def test_system_workloads_ready(cluster: Cluster, kind: str, name: str, namespace: str) -> None:
    checks.wait_rollout(cluster, kind, name, namespace)


def test_pod_to_pod_across_nodes(cluster: Cluster) -> None:
    checks.assert_pod_to_pod_across_workers(cluster, namespace="default")


def test_cluster_dns_resolves_kubernetes_service(cluster: Cluster) -> None:
    checks.wait_rollout(cluster, "deployment", "coredns", "kube-system")
    svc_ip = cluster.kubectl("get", "svc", "kubernetes", "-o", "jsonpath={.spec.clusterIP}")
    answer = cluster.kubectl("run", "kh-dig", "--rm", "-i", "--restart=Never", "--quiet",
                             "--image=kube-harness.local/testimage:v1", "--image-pull-policy=Never",
                             "--command", "--", "dig", "+short", "kubernetes.default.svc.cluster.local")  # fmt: skip
    assert svc_ip in answer.split(), answer
