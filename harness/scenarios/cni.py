"""CNI checks: pod addressing inside each node's podCIDR, and un-NATed pod/node connectivity."""

from __future__ import annotations

import ipaddress

from harness.cluster import Cluster
from harness.k8s.checks import internal_ip
from harness.paths import reports_root
from harness.reporting.record import RunRecord
from harness.scenarios.probes import Pod, Probes, host_of, reply_fields


def node_cidrs(cluster: Cluster) -> dict[str, ipaddress.IPv4Network | ipaddress.IPv6Network]:
    out = {}
    for n in cluster.get("nodes")["items"]:
        cidr = n["spec"].get("podCIDR")
        assert cidr, (
            f"node {n['metadata']['name']} has no podCIDR: the controller-manager's node IPAM did not assign one"
        )
        out[n["metadata"]["name"]] = ipaddress.ip_network(cidr)
    return out


def assert_pod_ips_in_node_cidrs(cluster: Cluster) -> None:
    """Every pod network pod has one IP, inside its node's podCIDR, unique across the cluster."""
    cidrs, seen = node_cidrs(cluster), dict[str, str]()
    problems = []
    for p in cluster.get("pods")["items"]:
        spec, status, name = p["spec"], p["status"], f"{p['metadata']['namespace']}/{p['metadata']['name']}"
        if spec.get("hostNetwork") or status.get("phase") != "Running":
            continue
        ips = [i["ip"] for i in status.get("podIPs", [])]
        if len(ips) != 1:
            problems.append(f"{name} has {len(ips)} IPs: {ips}")
            continue
        node = spec["nodeName"]
        if ipaddress.ip_address(ips[0]) not in cidrs[node]:
            problems.append(f"{name} IP {ips[0]} is outside podCIDR {cidrs[node]} of its node {node}")
        if ips[0] in seen:
            problems.append(f"{name} and {seen[ips[0]]} share IP {ips[0]}")
        seen[ips[0]] = name
    assert not problems, "CNI IP address management (IPAM) is broken:\n" + "\n".join(problems)


def _route_hint(cluster: Cluster, src: Pod, dst: Pod) -> str:
    if not cluster.node_access:
        return ""
    res = cluster.node(src.node).command("ip", "route", "get", dst.ip).run(check=False)
    route = (res.stdout or res.stderr).strip()
    return f"\n  route on {src.node} to {dst.ip}: {route}"


def assert_pod_to_pod(cluster: Cluster, probes: Probes) -> None:
    """Each probe reaches every other probe (same node and across nodes) by pod IP, and the target
    sees the source's own pod IP (no NAT between pods)."""
    problems = []
    for src in probes.pods:
        targets = [p for p in probes.pods if p is not src]
        replies = probes.curl_each(src, [f"http://{t.ip}:8080/" for t in targets])
        for t in targets:
            line = replies[f"http://{t.ip}:8080/"]
            fields = reply_fields(line)
            where = "same node" if t.node == src.node else f"{src.node} -> {t.node}"
            if not fields:
                problems.append(f"pod {src.name} ({src.ip}) cannot reach pod {t.name} ({t.ip}), {where}: {line}"
                                + _route_hint(cluster, src, t))  # fmt: skip
            elif host_of(fields["client"]) != src.ip:
                problems.append(f"pod {t.name} saw {src.name} as {host_of(fields['client'])}, not its pod IP "
                                f"{src.ip} ({where}): traffic between pods is NATed")  # fmt: skip
    assert not problems, "pod-to-pod networking (CNI) is broken:\n" + "\n".join(problems)


def assert_pod_sees_own_ip(probes: Probes) -> None:
    for pod in probes.pods:
        own = probes.sh(pod, "ip -o -4 addr show dev eth0 | awk '{print $4}'").strip().split("/")[0]
        assert own == pod.ip, f"pod {pod.name} has {own} on eth0 but the API says {pod.ip}"


def assert_node_to_pod(cluster: Cluster, probes: Probes) -> None:
    """From every node, a probe on another node answers on its pod IP."""
    problems = []
    for node in cluster.all_nodes:
        target = next((p for p in probes.pods if p.node != node.name), probes.pods[0])
        res = node.command("curl", "-sS", "-m", "3", f"http://{target.ip}:8080/").run(check=False)
        if res.rc != 0:
            problems.append(f"node {node.name} cannot reach pod {target.name} ({target.ip}) on {target.node}: "
                            f"{res.stderr.strip() or res.stdout.strip()}")  # fmt: skip
    assert not problems, "node-to-pod networking is broken:\n" + "\n".join(problems)


def assert_pod_to_node(cluster: Cluster, probes: Probes) -> None:
    """From a probe pod, every node's kubelet port (10250) accepts a TCP connection."""
    nodes = {n["metadata"]["name"]: internal_ip(n) for n in cluster.get("nodes")["items"]}
    src = probes.pods[0]
    script = "; ".join(
        f"nc -z -w 3 {ip} 10250 && echo ok {name} || echo FAIL {name} {ip}" for name, ip in nodes.items()
    )
    failed = [ln for ln in probes.sh(src, script).splitlines() if ln.startswith("FAIL")]
    assert not failed, f"pod {src.name} on {src.node} cannot reach node(s) on port 10250: {failed}"


def readiness_around_cni(cluster: Cluster) -> dict[str, float]:
    """What the kubeadm provider recorded: nodes Ready just before its CNI phase and at the end."""
    path = reports_root() / cluster.run_id / "run.json"
    return dict(RunRecord.load(path).measurements) if path.is_file() else {}
