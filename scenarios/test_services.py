"""Services: ClusterIP from pods on every node; NodePort on every node's IP from every node and
from the host, also on nodes without endpoints (externalTrafficPolicy Cluster); with Local only
nodes with endpoints answer and the client IP is preserved; connections spread across endpoints;
a deleted endpoint stops receiving traffic. The kube-proxy mode under test is reported; the
nftables mode runs in ``test_variants.py``."""

from __future__ import annotations

import pytest

from harness.cluster import Cluster
from harness.errors import WaitTimeout
from harness.scenarios import services
from harness.scenarios.dns import service
from harness.scenarios.probes import PROBE_LABEL, Probes, apply, pod_manifest, wait_ready
from harness.wait import eventually, wait_for

pytestmark = pytest.mark.kh_cluster
CONVERGE = 20  # seconds a new Service may take to be programmed by kube-proxy on every node


def _node_port(cluster: Cluster, namespace: str, name: str) -> int:
    return int(cluster.get("svc", name, namespace)["spec"]["ports"][0]["nodePort"])


def _first_worker(probes: Probes) -> str:
    return next((n for n in probes.nodes if "control-plane" not in n), probes.nodes[0])


def test_kube_proxy_mode_is_the_spec_s(cluster: Cluster, record_property: pytest.RecordProperty) -> None:
    want = (cluster.spec.get("networking") or {}).get("kube_proxy_mode", "iptables")
    mode = services.kube_proxy_mode(cluster)
    record_property("kube_proxy_mode", mode)
    assert mode == want, f"kube-proxy runs in {mode} mode, the spec asks for {want}"


def test_cluster_ip_from_pods_on_every_node(cluster: Cluster, probes: Probes) -> None:
    apply(cluster, service("kh-all", probes.namespace, {PROBE_LABEL: "true"}))
    eventually(lambda: services.assert_cluster_ip_from_every_node(cluster, probes, "kh-all"), timeout=CONVERGE)


def test_node_port_on_every_node_including_ones_without_endpoints(cluster: Cluster, probes: Probes) -> None:
    node = _first_worker(probes)
    apply(cluster, service("kh-np", probes.namespace, {"node": node}, type="NodePort"))
    port = _node_port(cluster, probes.namespace, "kh-np")
    eventually(lambda: services.assert_node_port_everywhere(cluster, probes, port), timeout=CONVERGE)


def test_local_traffic_policy_only_endpoint_nodes_answer_with_client_ip(cluster: Cluster, probes: Probes) -> None:
    node = _first_worker(probes)
    apply(cluster, service("kh-local", probes.namespace, {"node": node}, type="NodePort",
                           externalTrafficPolicy="Local"))  # fmt: skip
    port = _node_port(cluster, probes.namespace, "kh-local")
    wait_for(lambda: services.endpoint_pods(cluster, probes.namespace, "kh-local"), timeout=30, interval=0.5,
             describe="endpoints of kh-local")  # fmt: skip
    eventually(lambda: services.assert_local_policy(cluster, port, {node}), timeout=CONVERGE)


def test_connections_spread_and_deleted_endpoint_drained(cluster: Cluster, probes: Probes) -> None:
    ns, names = probes.namespace, ["spread-a", "spread-b", "spread-c"]
    apply(cluster, *[pod_manifest(n, ns, None, {"spread": "yes"}) for n in names],
          service("kh-spread", ns, {"spread": "yes"}))  # fmt: skip
    wait_ready(cluster, ns, "spread=yes")
    wait_for(lambda: services.endpoint_pods(cluster, ns, "kh-spread") == set(names), timeout=30, interval=0.5,
             describe="3 endpoints of kh-spread")  # fmt: skip
    url = f"http://kh-spread.{ns}.svc/"
    eventually(lambda: services.assert_spread(probes, url, set(names)), timeout=CONVERGE)
    cluster.kubectl("delete", "pod", "spread-b", "-n", ns, "--wait=false")
    wait_for(lambda: "spread-b" not in services.endpoint_pods(cluster, ns, "kh-spread"), timeout=30, interval=0.5,
             describe="spread-b removed from the endpoints of kh-spread")  # fmt: skip
    survivors = {"spread-a", "spread-c"}
    try:
        wait_for(lambda: set(services.hits(probes, url, 20)) <= survivors, timeout=30, interval=1,
                 describe="20 connections to kh-spread all served by spread-a or spread-c")  # fmt: skip
    except WaitTimeout as exc:
        raise AssertionError(f"after deleting spread-b, kh-spread still does not serve only from {survivors}: "
                             f"{exc}") from exc  # fmt: skip
