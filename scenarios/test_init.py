"""init: what ``kubeadm init`` leaves behind — PKI, kubeconfigs, static pods, health, the control
plane's labels and taints, kubeadm's ConfigMaps, cluster-info, the bootstrap token and CSR RBAC."""

from __future__ import annotations

import pytest

from harness.cluster import Cluster
from harness.scenarios import init
from harness.wait import eventually

pytestmark = pytest.mark.kh_cluster


@pytest.mark.usefixtures("node_access")
def test_certificates_valid_and_chained(cluster: Cluster) -> None:
    for cp in cluster.control_planes:
        init.assert_certificates(cluster, cp.name)


@pytest.mark.usefixtures("node_access")
def test_kubeconfigs_point_at_the_right_endpoint(cluster: Cluster) -> None:
    for i, cp in enumerate(cluster.control_planes):
        init.assert_kubeconfigs(cluster, cp.name, first=i == 0)


@pytest.mark.usefixtures("node_access")
def test_static_pod_manifests_and_mirror_pods(cluster: Cluster) -> None:
    # a cluster is ready once its nodes and CoreDNS are: a mirror pod may still wait for its first
    # successful readiness probe (kube-scheduler's runs every 10 s) when this test runs first
    for cp in cluster.control_planes:
        eventually(lambda name=cp.name: init.assert_static_pods(cluster, name), timeout=30)


def test_livez_and_readyz(cluster: Cluster) -> None:
    init.assert_health_endpoints(cluster)


def test_control_planes_labelled_and_tainted(cluster: Cluster) -> None:
    # without workers, kind (like many single-node setups) removes the taint so pods can run
    init.assert_control_plane_nodes(cluster, taint_expected=bool(cluster.workers))


def test_kubeadm_and_kubelet_config_maps(cluster: Cluster) -> None:
    init.assert_config_maps(cluster)


def test_cluster_info_public_and_signed(cluster: Cluster) -> None:
    init.assert_cluster_info(cluster)


def test_bootstrap_token_secret(cluster: Cluster) -> None:
    init.assert_bootstrap_token(cluster)


def test_node_csr_auto_approval_rbac(cluster: Cluster) -> None:
    init.assert_csr_rbac(cluster)
