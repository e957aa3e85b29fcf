"""The Kubernetes API as the harness reads it: plain-JSON reads and watches (``rest``), one client per
kubeconfig per process (``client``), and checks that wait with a deadline (``checks``)."""

from harness.k8s.checks import (
    Kube,
    assert_pod_to_pod_across_workers,
    echo_pod,
    ready_nodes,
    wait_nodes_ready,
    wait_pods_ready,
    wait_rollout,
)

__all__ = [
    "Kube",
    "assert_pod_to_pod_across_workers",
    "echo_pod",
    "ready_nodes",
    "wait_nodes_ready",
    "wait_pods_ready",
    "wait_rollout",
]
