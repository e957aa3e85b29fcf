"""Services checks: ClusterIP from every node's pods, NodePort on every node (from nodes and the
host), externalTrafficPolicy Local, load spreading, endpoint removal, the kube-proxy mode."""

from __future__ import annotations

import re
import urllib.request
from collections import Counter

import yaml

from harness.cluster import Cluster
from harness.errors import HarnessError
from harness.exec import Cmd
from harness.k8s.checks import internal_ip, pod_state
from harness.scenarios.probes import Probes, host_of, reply_fields


def kube_proxy_mode(cluster: Cluster) -> str:
    cm = cluster.get("configmap", "kube-proxy", "kube-system")
    return str(yaml.safe_load(cm["data"]["config.conf"]).get("mode") or "iptables")


def node_ips(cluster: Cluster) -> dict[str, str]:
    mine = {x.name for x in cluster.all_nodes}
    items = cluster.get("nodes")["items"]
    return {n["metadata"]["name"]: internal_ip(n) for n in items if n["metadata"]["name"] in mine}


def _kube_proxy_hint(cluster: Cluster, node: str) -> str:
    try:
        items = cluster.get("pods", namespace="kube-system", labels="k8s-app=kube-proxy",
                            fields=f"spec.nodeName={node}")["items"]  # fmt: skip
    except HarnessError as exc:
        return f" [kube-proxy on {node}: unknown, {exc}]"
    return f" [kube-proxy on {node}: {'; '.join(pod_state(p) for p in items) or 'no pod'}]"


def assert_cluster_ip_from_every_node(cluster: Cluster, probes: Probes, svc: str) -> None:
    ip = cluster.get("svc", svc, probes.namespace)["spec"]["clusterIP"]
    problems = []
    for node in probes.nodes:
        pod = probes.on(node)
        line = probes.curl_each(pod, [f"http://{ip}/"])[f"http://{ip}/"]
        if not reply_fields(line):
            problems.append(
                f"ClusterIP {ip}:80 ({svc}) from pod {pod.name} on {node}: {line}" + _kube_proxy_hint(cluster, node)
            )
    assert not problems, "Service ClusterIP is not reachable:\n" + "\n".join(problems)


def http_from_host(url: str, timeout: float = 3) -> str:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.read().decode().strip()
    except Exception as exc:
        return f"FAIL {type(exc).__name__}: {exc}"


def assert_node_port_everywhere(cluster: Cluster, probes: Probes, port: int) -> None:
    """The NodePort answers on every node's IP, from every node (or probe pod) and from the host."""
    ips, problems = node_ips(cluster), []
    for name, ip in ips.items():
        url = f"http://{ip}:{port}/"
        if not reply_fields(answer := http_from_host(url)):
            problems.append(f"host -> {name} {url}: {answer}" + _kube_proxy_hint(cluster, name))
        for src in cluster.all_nodes if cluster.node_access else []:
            res = src.command("curl", "-sS", "-m", "3", url).run(check=False)
            if res.rc != 0:
                problems.append(
                    f"node {src.name} -> {name} {url}: {res.stderr.strip()}" + _kube_proxy_hint(cluster, name)
                )
        if not cluster.node_access:
            line = probes.curl_each(probes.pods[0], [url])[url]
            if not reply_fields(line):
                problems.append(f"pod {probes.pods[0].name} -> {name} {url}: {line}")
    assert not problems, f"NodePort {port} is not served on every node:\n" + "\n".join(problems)


def host_source_ip(node_ip: str) -> str:
    out = Cmd(["ip", "route", "get", node_ip]).run().stdout
    return re.search(r"\bsrc (\S+)", out).group(1)  # type: ignore[union-attr]


def assert_local_policy(cluster: Cluster, port: int, endpoint_nodes: set[str]) -> None:
    """externalTrafficPolicy Local: only nodes with endpoints answer, and they see the client's IP."""
    problems = []
    for name, ip in node_ips(cluster).items():
        answer = http_from_host(f"http://{ip}:{port}/", timeout=2)
        fields = reply_fields(answer)
        if name in endpoint_nodes:
            if not fields:
                problems.append(f"{name} has an endpoint but does not answer on {ip}:{port}: {answer}")
            elif host_of(fields["client"]) != host_source_ip(ip):
                problems.append(f"{name}: the endpoint saw client {host_of(fields['client'])}, not the host's "
                                f"{host_source_ip(ip)}: the source IP was not preserved")  # fmt: skip
        elif fields:
            problems.append(f"{name} has no endpoint but answered on {ip}:{port} ({answer})")
    assert not problems, "externalTrafficPolicy: Local is not honoured:\n" + "\n".join(problems)


def hits(probes: Probes, url: str, count: int) -> Counter[str]:
    """Which pod (hostname) answered each of ``count`` new connections."""
    script = f"for i in $(seq {count}); do curl -sS -m 3 {url} || echo FAIL; done"
    return Counter(
        reply_fields(line).get("hostname", "FAIL") for line in probes.sh(probes.pods[0], script).splitlines()
    )


def assert_spread(probes: Probes, url: str, endpoints: set[str], count: int = 40) -> None:
    got = hits(probes, url, count)
    assert set(got) == endpoints, (
        f"{count} connections to {url} reached {dict(got)}, want every endpoint {sorted(endpoints)}"
    )


def endpoint_pods(cluster: Cluster, namespace: str, svc: str) -> set[str]:
    slices = cluster.get("endpointslices", namespace=namespace, labels=f"kubernetes.io/service-name={svc}")
    return {e["targetRef"]["name"] for s in slices["items"] for e in s.get("endpoints") or []
            if e.get("conditions", {}).get("ready") and e.get("targetRef")}  # fmt: skip
