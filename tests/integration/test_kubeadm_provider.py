"""The kubeadm provider on real node containers: plain init, ``--phased`` init, and HA behind
haproxy (3 control planes + 1 worker, stacked etcd)."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from harness.cluster import Cluster
from harness.providers.base import LABEL_CLUSTER, LABEL_RUN, LABEL_WORKER
from harness.providers.containers import dockerapi
from harness.reporting.record import OK, RunRecord
from tests.integration.conftest import assert_healthy

pytestmark = pytest.mark.kh_cluster
MakeCluster = Callable[..., AbstractContextManager[Cluster]]
ETCD_MEMBERS = [
    "curl", "-s", "--cacert", "/etc/kubernetes/pki/etcd/ca.crt",
    "--cert", "/etc/kubernetes/pki/etcd/healthcheck-client.crt",
    "--key", "/etc/kubernetes/pki/etcd/healthcheck-client.key",
    "-X", "POST", "https://127.0.0.1:2379/v3/cluster/member/list", "-d", "{}",
]  # fmt: skip


def record_of(cluster: Cluster) -> RunRecord:
    return RunRecord.load(Path(cluster.kubeconfig).parent / "run.json")


def test_plain_init_gives_a_healthy_labelled_cluster(make_cluster: MakeCluster) -> None:
    with make_cluster("kubeadm", control_planes=1, workers=2) as cluster:
        assert_healthy(cluster)
        record = record_of(cluster)
        assert [p.name for p in record.phases if p.status == OK][:5] == [
            "image", "provision", "configure", "preflight", "init"]  # fmt: skip
        for container in dockerapi.containers(cluster.name):
            labels = container.labels
            assert labels[LABEL_CLUSTER] == cluster.name and labels[LABEL_RUN] == cluster.run_id
            assert LABEL_WORKER in labels
    assert not dockerapi.labelled_clusters().get(cluster.name), "delete left labelled resources"


def test_phased_init_gives_the_same_healthy_cluster(make_cluster: MakeCluster) -> None:
    with make_cluster("kubeadm", phased=True, control_planes=1, workers=2) as cluster:
        assert_healthy(cluster)
        ran = [p.name for p in record_of(cluster).phases if p.status == OK]
        for phase in ("init-certs", "init-etcd", "init-control-plane", "init-upload-certs", "init-addon"):
            assert phase in ran
        assert "init" not in ran


def test_ha_api_through_load_balancer_and_three_etcd_members(make_cluster: MakeCluster) -> None:
    with make_cluster("kubeadm", control_planes=3, workers=1) as cluster:
        lb = next(n for n in cluster.nodes if n.role == "load-balancer")
        assert cluster.endpoint == f"https://{lb.ip}:6443"
        assert_healthy(cluster)
        assert len(cluster.control_planes) == 3
        members = json.loads(cluster.control_planes[0].command(*ETCD_MEMBERS).run().stdout)["members"]
        assert sorted(m["name"] for m in members) == sorted(n.name for n in cluster.control_planes)
