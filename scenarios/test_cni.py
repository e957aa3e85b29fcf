"""CNI: pod IPs inside their node's podCIDR and unique; pod-to-pod (same node, across nodes),
node-to-pod and pod-to-node; no NAT between pods; NotReady before the CNI, Ready after (kubeadm)."""

from __future__ import annotations

import pytest

from harness.cluster import Cluster
from harness.scenarios import cni
from harness.scenarios.probes import Probes

pytestmark = pytest.mark.kh_cluster


def test_pod_ips_inside_node_pod_cidrs_and_unique(cluster: Cluster, probes: Probes) -> None:
    cni.assert_pod_ips_in_node_cidrs(cluster)


def test_pod_to_pod_same_node_and_across_nodes_unnated(cluster: Cluster, probes: Probes) -> None:
    assert len({p.node for p in probes.pods}) >= 2 and len(probes.pods) > len(probes.nodes)
    cni.assert_pod_to_pod(cluster, probes)


def test_pod_sees_its_own_ip(probes: Probes) -> None:
    cni.assert_pod_sees_own_ip(probes)


@pytest.mark.usefixtures("node_access")
def test_node_to_pod(cluster: Cluster, probes: Probes) -> None:
    cni.assert_node_to_pod(cluster, probes)


def test_pod_to_node(cluster: Cluster, probes: Probes) -> None:
    cni.assert_pod_to_node(cluster, probes)


def test_nodes_not_ready_before_cni_and_ready_after(cluster: Cluster) -> None:
    if cluster.provider in ("kind", "existing"):
        pytest.skip(f"the {cluster.provider} provider does not run the CNI as a phase of its own")
    m = cni.readiness_around_cni(cluster)
    if not m:
        pytest.skip(f"the run record of {cluster.name} (run {cluster.run_id}) has no readiness around a CNI phase")
    assert m["nodes_before_cni"] >= 1 and m["nodes_ready_before_cni"] == 0, (
        f"before the CNI phase {m['nodes_ready_before_cni']} of {m['nodes_before_cni']} nodes were Ready: "
        "the kubelet reported network readiness without a CNI"
    )
    assert m["nodes_ready_after_cni"] == m["nodes_after_cni"] == len(cluster.all_nodes), (
        f"after the CNI phase {m['nodes_ready_after_cni']} of {m['nodes_after_cni']} nodes were Ready"
    )
