"""Break a cluster on purpose, one part at a time, and check that the scenario library's matching
check fails with a message naming the broken part; each break is repaired before the next.

The checks are the functions the scenarios in ``scenarios/`` call (``harness.scenarios.*``), run
here on a private kubeadm cluster (1 control plane + 2 workers) that nothing else uses.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest

from harness.cluster import Cluster
from harness.scenarios import cni, dns, init, join, services
from harness.scenarios.probes import PROBE_LABEL, Probes, apply
from harness.wait import wait_for

pytestmark = [pytest.mark.kh_cluster, pytest.mark.kh_disruptive]
MakeCluster = Callable[..., AbstractContextManager[Cluster]]


@pytest.fixture(scope="module")
def broken(make_cluster: MakeCluster) -> Iterator[Cluster]:
    with make_cluster("kubeadm", control_planes=1, workers=2) as c:
        yield c


@pytest.fixture(scope="module")
def probes(broken: Cluster) -> Probes:
    broken.kubectl("create", "namespace", "kh-break")
    return Probes.deploy(broken, "kh-break", [n.name for n in broken.all_nodes], extra=0)


def _saved(cluster: Cluster, *what: str) -> dict[str, Any]:
    obj = cluster.kubectl_json("get", *what)
    for key in ("resourceVersion", "uid", "creationTimestamp", "managedFields"):
        obj["metadata"].pop(key, None)
    return obj


def _fails(check: Callable[[], None]) -> str:
    with pytest.raises(AssertionError) as info:
        check()
    return str(info.value)


def test_cluster_info_removed(broken: Cluster) -> None:
    init.assert_cluster_info(broken)
    saved = _saved(broken, "configmap", "cluster-info", "-n", "kube-public")
    broken.kubectl("delete", "configmap", "cluster-info", "-n", "kube-public")
    try:
        message = _fails(lambda: init.assert_cluster_info(broken))
        assert "kube-public/cluster-info" in message and "404" in message, message
    finally:
        broken.kubectl("create", "-f", "-", input=json.dumps(saved))
    wait_for(lambda: _passes(lambda: init.assert_cluster_info(broken)), timeout=60, describe="cluster-info re-signed")


def test_csr_auto_approval_binding_removed(broken: Cluster) -> None:
    name = "kubeadm:node-autoapprove-bootstrap"
    saved = _saved(broken, "clusterrolebinding", name)
    broken.kubectl("delete", "clusterrolebinding", name)
    try:
        message = _fails(lambda: init.assert_csr_rbac(broken))
        assert f"ClusterRoleBinding {name} is missing" in message, message
    finally:
        broken.kubectl("create", "-f", "-", input=json.dumps(saved))
    init.assert_csr_rbac(broken)


def test_pod_route_deleted(broken: Cluster, probes: Probes) -> None:
    src, dst = broken.workers[0], broken.workers[1]
    cidr = broken.kubectl("get", "node", dst.name, "-o", "jsonpath={.spec.podCIDR}")
    route = src.exec("ip", "route", "show", cidr).stdout.strip()
    assert route, f"no route to {cidr} on {src.name}"
    src.exec("ip", "route", "del", cidr)
    try:
        message = _fails(lambda: cni.assert_pod_to_pod(broken, probes))
        assert f"{src.name} -> {dst.name}" in message and "cannot reach" in message, message
        assert f"route on {src.name}" in message, message
    finally:
        src.exec("sh", "-c", f"ip route replace {route}")
    cni.assert_pod_to_pod(broken, probes)


def test_wrong_corefile(broken: Cluster, probes: Probes) -> None:
    other = Probes(broken, probes.namespace, probes.pods[-1:])
    apply(broken, dns.service("kh-web", probes.namespace, {PROBE_LABEL: "true"}))

    def check() -> None:
        dns.assert_service_names_resolve(broken, probes, other.pods[0], other, "kh-web", "cluster.local")

    wait_for(lambda: _passes(check), timeout=30, describe="kh-web resolving")
    original = dns.corefile(broken)
    dns.set_corefile(broken, re.sub(r"kubernetes cluster\.local", "kubernetes wrong.local", original))
    try:
        message = wait_for(lambda: _failure(check), timeout=60, describe="the DNS check to fail")
        assert "CoreDNS does not resolve Service" in message and "kh-web" in message, message
    finally:
        dns.set_corefile(broken, original)


def test_kube_proxy_stopped_on_one_node(broken: Cluster, probes: Probes) -> None:
    victim = broken.workers[1].name
    affinity = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "NotIn", "values": [victim]}]}
                ]
            }
        }
    }
    patch = json.dumps({"spec": {"template": {"spec": {"affinity": affinity}}}})
    broken.kubectl("patch", "daemonset", "kube-proxy", "-n", "kube-system", "-p", patch)
    try:
        wait_for(lambda: not _kube_proxy_on(broken, victim), timeout=60, describe=f"kube-proxy gone from {victim}")

        def kube_proxy_check() -> str:  # the join scenario's; the other nodes' pods roll over first
            message = _failure(lambda: join.assert_kube_proxy_everywhere(broken))
            return message if f"kube-proxy pod on node(s) ['{victim}']" in message else ""

        wait_for(kube_proxy_check, timeout=60, describe=f"the kube-proxy check failing on {victim} only")
        apply(broken, dns.service("kh-np-break", probes.namespace, {"node": broken.workers[0].name}, type="NodePort"))
        port = int(broken.kubectl("get", "svc", "kh-np-break", "-n", probes.namespace, "-o",
                                  "jsonpath={.spec.ports[0].nodePort}"))  # fmt: skip

        def only_victim_fails() -> str:
            message = _failure(lambda: services.assert_node_port_everywhere(broken, probes, port))
            others = [n.name for n in broken.all_nodes if n.name != victim]
            lines = [ln for ln in message.splitlines()[1:] if ln.strip()]
            return message if lines and all(f"-> {victim} " in ln for ln in lines) and others else ""

        message = wait_for(only_victim_fails, timeout=30, describe=f"NodePort failing on {victim} only")
        assert f"kube-proxy on {victim}: no pod" in message, message
    finally:
        broken.kubectl("patch", "daemonset", "kube-proxy", "-n", "kube-system", "-p",
                       json.dumps({"spec": {"template": {"spec": {"affinity": None}}}}))  # fmt: skip
    wait_for(lambda: _kube_proxy_on(broken, victim), timeout=60, describe=f"kube-proxy back on {victim}")


def _kube_proxy_on(cluster: Cluster, node: str) -> bool:
    out = cluster.kubectl("get", "pods", "-n", "kube-system", "-l", "k8s-app=kube-proxy",
                          f"--field-selector=spec.nodeName={node}", "-o", "name")  # fmt: skip
    return bool(out.strip())


def _passes(check: Callable[[], None]) -> bool:
    try:
        check()
    except AssertionError:
        return False
    return True


def _failure(check: Callable[[], None]) -> str:
    """The check's AssertionError message, or '' while it still passes."""
    try:
        check()
    except AssertionError as exc:
        return str(exc)
    return ""
