"""The DNS and Services checks again on a second cluster: kube-proxy in nftables mode and a custom
cluster domain from the spec (``kh.example``). Tests here share that one cluster; it has one
worker, as two nodes are enough for every cross-node path checked here (the 3-node topology is
the default cluster's)."""

from __future__ import annotations

import pytest

from harness.cluster import Cluster
from harness.scenarios import dns, services
from harness.scenarios.probes import PROBE_LABEL, Probes, apply
from harness.wait import eventually

DOMAIN = "kh.example"
pytestmark = pytest.mark.kh_cluster(workers=1, networking={"kube_proxy_mode": "nftables", "dns_domain": DOMAIN})


def test_kube_proxy_runs_nftables(cluster: Cluster) -> None:
    assert services.kube_proxy_mode(cluster) == "nftables"
    if not cluster.node_access:
        return

    def rules_written() -> None:  # kube-proxy is Ready before its first sync: on a TCG VM that takes seconds
        res = cluster.workers[0].command("nft", "list", "table", "ip", "kube-proxy").run(check=False)
        assert res.ok and "chain services" in res.stdout, (
            f"kube-proxy wrote no nftables rules on the worker: {res.output}"
        )

    eventually(rules_written, timeout=20 * cluster.timeout_scale)


def test_custom_cluster_domain(cluster: Cluster, probes: Probes, other_probes: Probes, dns_domain: str) -> None:
    assert dns_domain == DOMAIN, f"kubeadm-config has dnsDomain {dns_domain}, the spec asked for {DOMAIN}"
    dns.assert_pod_resolv_conf(cluster, probes, DOMAIN)
    apply(cluster, dns.service("kh-web", probes.namespace, {PROBE_LABEL: "true"}))
    eventually(lambda: dns.assert_service_names_resolve(cluster, probes, other_probes.pods[0], other_probes, "kh-web",
                                                        DOMAIN), timeout=20)  # fmt: skip


def test_nftables_cluster_ip_and_node_port(cluster: Cluster, probes: Probes) -> None:
    node = next(n for n in probes.nodes if "control-plane" not in n)
    apply(cluster, dns.service("kh-all", probes.namespace, {PROBE_LABEL: "true"}),
          dns.service("kh-np", probes.namespace, {"node": node}, type="NodePort"))  # fmt: skip
    eventually(lambda: services.assert_cluster_ip_from_every_node(cluster, probes, "kh-all"), timeout=20)
    port = int(cluster.get("svc", "kh-np", probes.namespace)["spec"]["ports"][0]["nodePort"])
    eventually(lambda: services.assert_node_port_everywhere(cluster, probes, port), timeout=20)
