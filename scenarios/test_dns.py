"""DNS: CoreDNS and kube-dns, pods' resolv.conf, Service names from the same and another namespace,
headless A/SRV records, dnsPolicy, forwarding to an upstream the scenario runs, the search-list
query order seen in CoreDNS's query log, and how fast records follow Services.

``test_upstream_forwarding_and_query_order`` reconfigures CoreDNS (query log + a stub domain, one
replica) with a rolling restart, so DNS stays served, and restores it afterwards.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from harness.cluster import Cluster
from harness.errors import WaitTimeout
from harness.scenarios import dns
from harness.scenarios.probes import PROBE_LABEL, Probes, apply, pod_manifest, wait_ready
from harness.wait import eventually, wait_for

pytestmark = pytest.mark.kh_cluster


@pytest.fixture
def web(cluster: Cluster, probes: Probes) -> str:
    apply(cluster, dns.service("kh-web", probes.namespace, {PROBE_LABEL: "true"}))
    return "kh-web"


def test_coredns_and_kube_dns_healthy(cluster: Cluster) -> None:
    dns.assert_coredns_healthy(cluster)


def test_pod_resolv_conf(cluster: Cluster, probes: Probes, dns_domain: str) -> None:
    dns.assert_pod_resolv_conf(cluster, probes, dns_domain)


def test_service_names_resolve_from_same_and_other_namespace(
    cluster: Cluster, probes: Probes, other_probes: Probes, web: str, dns_domain: str
) -> None:
    eventually(lambda: dns.assert_service_names_resolve(cluster, probes, other_probes.pods[0], other_probes, web,
                                                        dns_domain), timeout=20)  # fmt: skip


def test_headless_service_a_and_srv_records(cluster: Cluster, probes: Probes, dns_domain: str) -> None:
    apply(cluster, dns.service("kh-headless", probes.namespace, {PROBE_LABEL: "true"}, clusterIP="None"))
    eventually(lambda: dns.assert_headless_records(probes, "kh-headless", dns_domain, probes.pods), timeout=20)


def test_dns_policies(cluster: Cluster, probes: Probes) -> None:
    ns, node = probes.namespace, probes.pods[0].node
    dns_config = {
        "nameservers": ["192.0.2.53"],
        "searches": ["kh.example"],
        "options": [{"name": "ndots", "value": "2"}],
    }
    apply(cluster, pod_manifest("dns-default", ns, node, {"dns": "policy"}, dnsPolicy="Default"),
          pod_manifest("dns-none", ns, node, {"dns": "policy"}, dnsPolicy="None", dnsConfig=dns_config))  # fmt: skip
    wait_ready(cluster, ns, "dns=policy")
    dns.assert_dns_policies(cluster, probes, "dns-default", "dns-none")


UPSTREAM_ZONE = "kh-upstream.test"


@pytest.fixture
def upstream(cluster: Cluster, probes: Probes) -> Iterator[tuple[str, str]]:
    """A DNS server run by the scenario (the preloaded CoreDNS image, a hosts zone), and the
    cluster's CoreDNS set to log queries and to forward its zone there; (token, server IP)."""
    token, ns = secrets.token_hex(3), probes.namespace
    coredns = cluster.get("deployment", "coredns", "kube-system")["spec"]
    image = coredns["template"]["spec"]["containers"][0]["image"]
    corefile = (f"{UPSTREAM_ZONE}:53 {{\n  log\n  hosts {{\n    192.0.2.10 answer-{token}.{UPSTREAM_ZONE}\n"
                f"    192.0.2.12 order-{token}.{UPSTREAM_ZONE}\n"
                f"    192.0.2.11 a.b.c.d.deep-{token}.{UPSTREAM_ZONE}\n  }}\n}}\n")  # fmt: skip
    server = pod_manifest("upstream-dns", ns, probes.pods[0].node, {"dns": "upstream"})
    container = server["spec"]["containers"][0]
    container.pop("readinessProbe")
    container.update(image=image, args=["-conf", "/etc/coredns/Corefile"],
                     volumeMounts=[{"name": "conf", "mountPath": "/etc/coredns"}])  # fmt: skip
    server["spec"]["volumes"] = [{"name": "conf", "configMap": {"name": "upstream-dns"}}]
    conf = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "upstream-dns", "namespace": ns},
            "data": {"Corefile": corefile}}  # fmt: skip
    apply(cluster, conf, server)
    wait_ready(cluster, ns, "dns=upstream")
    ip = cluster.get("pod", "upstream-dns", ns)["status"]["podIP"]
    original = dns.corefile(cluster)
    patched = original.replace("errors\n", "errors\n    log\n", 1)
    patched += f"{UPSTREAM_ZONE}:53 {{\n    errors\n    log\n    forward . {ip}\n}}\n"
    replicas = coredns["replicas"]
    dns.set_corefile(cluster, patched, replicas=1)  # one query log to read
    try:
        yield token, ip
    finally:
        dns.set_corefile(cluster, original, replicas=int(replicas or 2), old_gone=False)
        cluster.kubectl("delete", "pod", "upstream-dns", "-n", ns, "--wait=false", check=False)


def test_upstream_forwarding_and_query_order(
    cluster: Cluster, probes: Probes, upstream: tuple[str, str], dns_domain: str
) -> None:
    token, server = upstream
    pod, ns = probes.pods[0], probes.namespace
    answer = f"answer-{token}.{UPSTREAM_ZONE}"
    try:  # the restarted CoreDNS pods take over from the old ones as kube-proxy catches up
        wait_for(lambda: dns.getent(probes, pod, [answer])[answer] == ["192.0.2.10"], timeout=60, interval=1,
                 describe=f"{answer} forwarded by CoreDNS to the upstream DNS server {server}")  # fmt: skip
    except WaitTimeout as exc:
        raise AssertionError(
            f"CoreDNS does not forward {UPSTREAM_ZONE} to the upstream server {server}: {exc}"
        ) from exc
    since = dns.now_rfc3339()
    short, deep = f"order-{token}.{UPSTREAM_ZONE}", f"a.b.c.d.deep-{token}.{UPSTREAM_ZONE}"
    got = dns.getent(probes, pod, [short, deep])
    assert got[short] == ["192.0.2.12"] and got[deep] == ["192.0.2.11"], f"upstream answers were lost: {got}"
    # The resolver stops at the first name that resolves, and only the names as given resolve: so
    # the search-list names were asked before the name as is iff they were asked at all.
    search = [f"{short}.{ns}.svc.{dns_domain}.", f"{short}.svc.{dns_domain}.", f"{short}.{dns_domain}."]

    def check_order() -> None:
        asked = dns.query_log(cluster, since, token)
        short_q, deep_q = {q for q in asked if q.startswith("order-")}, {q for q in asked if q.startswith("a.b.")}
        assert short_q == {*search, f"{short}."}, (
            f"{short} has fewer dots than ndots:5: the search list {search} must be tried first, then the name "
            f"as is; CoreDNS logged {sorted(short_q)}"
        )
        assert deep_q == {f"{deep}."}, (
            f"{deep} has at least ndots:5 dots: it must be tried (and answered) as is first; "
            f"CoreDNS logged {sorted(deep_q)}"
        )

    eventually(check_order, timeout=20)


def test_new_service_resolves_and_deleted_one_stops(
    cluster: Cluster, probes: Probes, dns_domain: str, record_property: pytest.RecordProperty
) -> None:
    name = f"kh-late-{secrets.token_hex(3)}"
    fqdn = f"{name}.{probes.namespace}.svc.{dns_domain}"
    apply(cluster, dns.service(name, probes.namespace, {PROBE_LABEL: "true"}))
    appear = dns.time_until(probes, probes.pods[0], fqdn, present=True)
    cluster.kubectl("delete", "svc", name, "-n", probes.namespace)
    vanish = dns.time_until(probes, probes.pods[0], fqdn, present=False)
    record_property("dns_new_service_s", appear)
    record_property("dns_deleted_service_s", vanish)
    assert appear < 30, f"a new Service {fqdn} took {appear}s to resolve (CoreDNS kubernetes plugin)"
    assert vanish < 40, f"a deleted Service {fqdn} still resolved after {vanish}s"
