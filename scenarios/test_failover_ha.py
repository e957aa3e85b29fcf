"""HA failover (kubeadm, 3 stacked control planes behind the haproxy load balancer, 1 worker):
losing one control plane keeps the API serving through the load balancer with etcd at 2/3 and
writes succeeding; losing two stops writes; one returning restores them."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable

import pytest

from harness import faults
from harness.cluster import Cluster
from harness.wait import wait_for

pytestmark = [pytest.mark.kh_cluster(control_planes=3, workers=1, failover="fast"), pytest.mark.kh_provider("kubeadm"),
              pytest.mark.kh_disruptive]  # fmt: skip
PKI = "/etc/kubernetes/pki/etcd"
ETCD_CERTS = ["--cacert", f"{PKI}/ca.crt", "--cert", f"{PKI}/healthcheck-client.crt",
              "--key", f"{PKI}/healthcheck-client.key"]  # fmt: skip


@pytest.fixture(scope="module")
def cluster(module_cluster: Cluster) -> Cluster:
    return module_cluster


def etcd_health(cluster: Cluster, via: str) -> dict[str, bool]:
    """etcd member name -> healthy, asked from control plane ``via`` (grpc-gateway with curl)."""
    node = cluster.node(via)
    listing = node.exec("curl", "-s", "-m", "5", *ETCD_CERTS, "-X", "POST",
                        "https://127.0.0.1:2379/v3/cluster/member/list", "-d", "{}").stdout  # fmt: skip
    members = json.loads(listing)["members"]
    out = {}
    for m in members:
        url = m["clientURLs"][0] + "/health"
        res = node.command("curl", "-s", "-m", "3", *ETCD_CERTS, url).run(check=False)
        out[m.get("name", url)] = res.rc == 0 and '"health":"true"' in res.stdout
    return out


def write(cluster: Cluster) -> bool:
    """Create a ConfigMap through the load balancer; False when the API refuses or times out."""
    name = f"kh-ha-{secrets.token_hex(3)}"
    try:
        cluster.kubectl("create", "configmap", name, "-n", "default", "--request-timeout=5s")
    except Exception:
        return False
    return True


def _eventually(what: Callable[[], bool], describe: str, timeout: float = 60) -> None:
    wait_for(what, timeout=timeout, interval=1, describe=describe)


def test_control_plane_losses(cluster: Cluster) -> None:
    cp1, cp2, cp3 = (n.name for n in cluster.control_planes)
    with faults.stop_node(cluster, cp3):
        _eventually(lambda: write(cluster), "a write through the load balancer with one control plane down")
        health = etcd_health(cluster, cp1)
        assert sorted(health.values()) == [False, True, True], (
            f"etcd with {cp3} stopped: {health} (want 2 of 3 healthy)"
        )
        assert "ok" in cluster.api.raw("/livez", timeout=5)
        with faults.stop_node(cluster, cp2):
            time.sleep(3)  # haproxy notices in 2 s; etcd loses quorum at once
            _eventually(lambda: not write(cluster), "writes to stop with two control planes down", timeout=30)
            assert not write(cluster), "a write succeeded with 2 of 3 etcd members down (no quorum)"
        _eventually(lambda: write(cluster), f"writes to resume once {cp2} is back", timeout=120)
    _eventually(lambda: all(etcd_health(cluster, cp1).values()), "all 3 etcd members healthy again", timeout=120)
