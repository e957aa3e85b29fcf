"""Smoke scenario: the cluster the harness made is up and its basic plumbing works.

Runs against the session ``cluster`` fixture (by default a kind cluster from the offline node
image, 1 control plane + 2 workers; ``--kh-provider kubeadm`` or ``--kh-spec FILE`` change it).
The fuller init/join/CNI/DNS/Services library follows in later issues.
"""

from __future__ import annotations

import pytest

from harness.cluster import Cluster
from harness.k8s import checks
from harness.wait import wait_for

pytestmark = pytest.mark.kh_cluster


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


def test_cluster_dns_resolves_kubernetes_service(cluster: Cluster, namespace: str) -> None:
    checks.wait_rollout(cluster, "deployment", "coredns", "kube-system")
    svc_ip = cluster.get("svc", "kubernetes", "default")["spec"]["clusterIP"]
    node = cluster.workers[0].name if cluster.workers else cluster.control_planes[0].name
    cluster.kubectl("apply", "-f", "-", input=checks.echo_pod("dig", node, namespace))
    checks.wait_pods_ready(cluster, namespace, names=("dig",))
    name = "kubernetes.default.svc.cluster.local"
    dig = ["dig", "+short", "+time=2", name]
    answer = wait_for(lambda: cluster.pod_exec(namespace, "dig", *dig).split(), timeout=60, interval=1,
                      describe=f"an answer for {name}")  # fmt: skip
    assert svc_ip in answer, answer
