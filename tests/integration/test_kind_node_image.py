"""The node image under the real kind (``kind create cluster --image <ours>``): 1 control plane +
2 workers, Ready, CoreDNS and flannel Running, a pod on one worker reaching a pod on the other by IP.
The cluster is deleted afterwards.
"""

from __future__ import annotations

import pytest

from harness.cluster import Cluster
from harness.k8s import checks
from tests.integration.conftest import assert_healthy

pytestmark = pytest.mark.kh_cluster


def test_kind_cluster_from_offline_image_is_healthy(kind_cluster: Cluster) -> None:
    assert kind_cluster.provider == "kind"
    assert [n.role for n in kind_cluster.all_nodes].count("worker") == 2
    assert_healthy(kind_cluster)


def test_kubeadm_images_all_preloaded(kind_cluster: Cluster) -> None:
    node = kind_cluster.control_planes[0]
    expected = node.command("kubeadm", "config", "images", "list", "--kubernetes-version",
                            node.command("cat", "/kind/version").run().stdout.strip()).run().stdout.split()  # fmt: skip
    present = node.command("ctr", "-n", "k8s.io", "images", "ls", "-q").run().stdout.split()
    missing = [image for image in expected if image not in present]
    assert not missing, f"images kubeadm expects but the node lacks: {missing}"
    assert checks.ready_nodes(kind_cluster)
