"""Thin helpers over kubectl for checks and scenarios: conditions, rollouts, test pods."""

from harness.k8s.checks import (
    Kube,
    assert_pod_to_pod_across_workers,
    echo_pod,
    ready_nodes,
    wait_nodes_ready,
    wait_rollout,
)

__all__ = [
    "Kube",
    "assert_pod_to_pod_across_workers",
    "echo_pod",
    "ready_nodes",
    "wait_nodes_ready",
    "wait_rollout",
]
