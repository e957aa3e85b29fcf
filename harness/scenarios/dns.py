"""DNS checks: CoreDNS and kube-dns healthy, resolv.conf of pods, Service names, headless records,
dnsPolicy, upstream forwarding, the search-list query order, and how fast records follow Services."""

from __future__ import annotations

import json
import re
import time
from typing import Any

from harness.cluster import Cluster
from harness.k8s import checks
from harness.scenarios.probes import Pod, Probes
from harness.wait import wait_for

DNS_PODS = "k8s-app=kube-dns"


def kube_dns_ip(cluster: Cluster) -> str:
    return str(cluster.get("svc", "kube-dns", "kube-system")["spec"]["clusterIP"])


def assert_coredns_healthy(cluster: Cluster) -> None:
    dep = cluster.get("deployment", "coredns", "kube-system")
    want, ready = dep["spec"].get("replicas", 1), dep["status"].get("readyReplicas", 0)
    assert ready == want, f"CoreDNS Deployment: {ready}/{want} replicas ready"
    slices = cluster.get("endpointslices", namespace="kube-system", labels="kubernetes.io/service-name=kube-dns")
    addrs = [a for s in slices["items"] for e in s.get("endpoints") or [] if e.get("conditions", {}).get("ready")
             for a in e["addresses"]]  # fmt: skip
    assert len(addrs) == want, f"kube-dns Service has {len(addrs)} ready endpoints ({addrs}), want {want}"


def resolv_conf(probes: Probes, pod: Pod | str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {"nameserver": [], "search": [], "options": []}
    for line in probes.sh(pod, "cat /etc/resolv.conf").splitlines():
        key, _, rest = line.strip().partition(" ")
        if key in out:
            out[key] += rest.split()
    return out


def assert_pod_resolv_conf(cluster: Cluster, probes: Probes, domain: str) -> None:
    pod, ns = probes.pods[0], probes.namespace
    conf = resolv_conf(probes, pod)
    want_search = [f"{ns}.svc.{domain}", f"svc.{domain}", domain]
    problems = []
    if conf["nameserver"] != [kube_dns_ip(cluster)]:
        problems.append(f"nameserver {conf['nameserver']}, want the kube-dns ClusterIP {kube_dns_ip(cluster)}")
    if conf["search"][:3] != want_search:
        problems.append(f"search {conf['search']}, want it to start with {want_search}")
    if "ndots:5" not in conf["options"]:
        problems.append(f"options {conf['options']} lack ndots:5")
    assert not problems, f"kubelet wrote a wrong /etc/resolv.conf in pod {ns}/{pod.name}: " + "; ".join(problems)


def getent(probes: Probes, pod: Pod | str, names: list[str]) -> dict[str, list[str]]:
    """name -> IPv4 addresses through the pod's libc resolver (search list and ndots apply)."""
    script = "; ".join(f"echo \"{n} $(getent ahostsv4 {n} | awk '{{print $1}}' | sort -u | tr '\\n' ' ')\""
                       for n in names)  # fmt: skip
    out = {}
    for line in probes.sh(pod, script).splitlines():
        name, *addrs = line.split()
        out[name] = addrs
    return out


def service(name: str, namespace: str, selector: dict[str, str], **spec: Any) -> dict[str, Any]:
    ports = [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}]
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": namespace},
            "spec": {"selector": selector, "ports": ports, **spec}}  # fmt: skip


def assert_service_names_resolve(cluster: Cluster, probes: Probes, other: Pod, other_probes: Probes, svc: str,
                                 domain: str) -> None:  # fmt: skip
    """``svc``, ``svc.ns``, ``svc.ns.svc``, ``svc.ns.svc.<domain>`` from the Service's namespace;
    all but the bare name from another namespace."""
    ns = probes.namespace
    ip = cluster.get("svc", svc, ns)["spec"]["clusterIP"]
    forms = [svc, f"{svc}.{ns}", f"{svc}.{ns}.svc", f"{svc}.{ns}.svc.{domain}"]
    problems = []
    for label, prober, pod, names in (("same namespace", probes, probes.pods[0], forms),
                                      ("another namespace", other_probes, other, forms[1:])):  # fmt: skip
        got = getent(prober, pod, names)
        problems += [f"{n} from {label}: {got.get(n) or 'no answer'}, want {ip}" for n in names if got.get(n) != [ip]]
    assert not problems, f"CoreDNS does not resolve Service {ns}/{svc} ({ip}):\n" + "\n".join(problems)


def dig(probes: Probes, pod: Pod, *args: str) -> list[str]:
    return probes.sh(pod, "dig +short +time=2 +tries=2 " + " ".join(args)).split("\n")


def assert_headless_records(probes: Probes, svc: str, domain: str, pods: list[Pod]) -> None:
    """One A record per ready pod, and SRV records (port 8080) for the named port ``http``."""
    fqdn = f"{svc}.{probes.namespace}.svc.{domain}"
    a = sorted(x for x in dig(probes, probes.pods[0], fqdn) if x)
    want = sorted(p.ip for p in pods)
    assert a == want, f"headless Service {fqdn}: A records {a}, want one per ready pod {want}"
    srv = [x.split() for x in dig(probes, probes.pods[0], "SRV", f"_http._tcp.{fqdn}") if x]
    ports, targets = {r[2] for r in srv}, {r[3] for r in srv}
    assert len(srv) == len(pods) and ports == {"8080"} and all(t.endswith(f".{fqdn}.") for t in targets), (
        f"headless Service {fqdn}: SRV records for named port http are {srv}, want {len(pods)} on port 8080"
    )


def assert_dns_policies(cluster: Cluster, probes: Probes, default_pod: str, none_pod: str) -> None:
    """ClusterFirst -> kube-dns; Default -> the node's resolv.conf; None -> exactly dnsConfig."""
    problems = []
    first = resolv_conf(probes, probes.pods[0])
    if first["nameserver"] != [kube_dns_ip(cluster)]:
        problems.append(f"ClusterFirst pod uses {first['nameserver']}, not kube-dns")
    default = resolv_conf(probes, default_pod)
    if kube_dns_ip(cluster) in default["nameserver"]:
        problems.append("dnsPolicy Default pod uses kube-dns; it should inherit the node's resolv.conf")
    if cluster.node_access:
        node = cluster.get("pod", default_pod, probes.namespace)["spec"]["nodeName"]
        node_conf = cluster.node(node).exec("cat", "/etc/resolv.conf").stdout
        node_ns = re.findall(r"^nameserver\s+(\S+)", node_conf, re.M)
        if default["nameserver"] != node_ns:
            problems.append(f"dnsPolicy Default pod nameservers {default['nameserver']} != node {node}'s {node_ns}")
    none = resolv_conf(probes, none_pod)
    want = {"nameserver": ["192.0.2.53"], "search": ["kh.example"], "options": ["ndots:2"]}
    if none != want:
        problems.append(f"dnsPolicy None pod resolv.conf {none}, want exactly its dnsConfig {want}")
    assert not problems, "kubelet applies dnsPolicy wrongly:\n" + "\n".join(problems)


def query_log(cluster: Cluster, since: str, token: str) -> set[str]:
    """A-record names CoreDNS logged (``log`` plugin) since ``since`` that contain ``token``.

    A set, not a sequence: under load CoreDNS can log two queries sent a millisecond apart in
    swapped order, so the scenario proves the order by which names were asked at all."""
    out = cluster.kubectl("logs", "-n", "kube-system", "-l", "k8s-app=kube-dns", f"--since-time={since}",
                          "--tail=-1", "--max-log-requests=10")  # fmt: skip
    return {m.group(1) for m in re.finditer(r'"A IN (\S+) ', out) if token in m.group(1)}


def time_until(probes: Probes, pod: Pod, name: str, present: bool, limit: float = 60) -> float:
    """Seconds (measured inside the pod) until ``name`` resolves (or stops resolving)."""
    test = f"getent ahostsv4 {name} >/dev/null" if present else f"! getent ahostsv4 {name} >/dev/null"
    tries = int(limit / 0.2)
    script = (f"s=$(date +%s.%N); i=0; until {test} || [ $i -ge {tries} ]; do sleep 0.2; i=$((i+1)); done; "
              "echo $(date +%s.%N) $s")  # fmt: skip
    end, start = probes.sh(pod, script, timeout=int(limit) + 30).split()
    return round(float(end) - float(start), 2)


def now_rfc3339() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 1))


def corefile(cluster: Cluster) -> str:
    return str(cluster.get("configmap", "coredns", "kube-system")["data"]["Corefile"])


def set_corefile(cluster: Cluster, text: str, replicas: int | None = None, old_gone: bool = True) -> None:
    """Replace the Corefile (and the replica count), then restart CoreDNS and wait for the rollout.

    ``old_gone``: also wait until the old pods are deleted. A stopping CoreDNS keeps answering with
    its old Corefile for its lame-duck period (5 s), so queries right after the rollout can reach it."""
    old = {p["metadata"]["name"] for p in cluster.get("pods", namespace="kube-system", labels=DNS_PODS)["items"]}
    patch = json.dumps({"data": {"Corefile": text}})
    cluster.kubectl("patch", "configmap", "coredns", "-n", "kube-system", "--type=merge", "-p", patch)
    if replicas is not None:
        cluster.kubectl("scale", "deployment/coredns", "-n", "kube-system", f"--replicas={replicas}")
    cluster.kubectl("rollout", "restart", "deployment/coredns", "-n", "kube-system")
    checks.wait_rollout(cluster, "deployment", "coredns", "kube-system", timeout=120)
    if old_gone and old:

        def gone() -> bool:
            pods = cluster.get("pods", namespace="kube-system", labels=DNS_PODS)["items"]
            left = old & {p["metadata"]["name"] for p in pods}
            if left:
                raise AssertionError(f"still there: {sorted(left)}")
            return True

        wait_for(gone, timeout=60, describe="the old CoreDNS pods deleted")
