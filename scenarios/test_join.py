"""join: nodes registered and Ready, kubelet certificates from approved CSRs, kube-proxy on every
node, a late node joined with ``kubeadm token create --print-join-command``, and bad joins refused."""

from __future__ import annotations

import secrets

import pytest

from harness.cluster import Cluster
from harness.k8s import checks
from harness.scenarios import join
from harness.wait import wait_for

pytestmark = pytest.mark.kh_cluster


def test_every_node_registered_and_ready(cluster: Cluster) -> None:
    join.assert_nodes_registered_ready(cluster)


@pytest.mark.usefixtures("node_access")
def test_kubelet_client_certs_from_approved_csrs(cluster: Cluster) -> None:
    join.assert_kubelet_certs_from_csrs(cluster)


def test_kube_proxy_on_every_node(cluster: Cluster) -> None:
    join.assert_kube_proxy_everywhere(cluster)


@pytest.mark.usefixtures("node_access")
def test_bad_joins_are_refused_and_change_nothing(cluster: Cluster) -> None:
    endpoint, token, ca_hash = join.print_join_command(cluster)
    with join.spare_node(cluster) as node:
        wrong_hash = "sha256:" + "0" * 64
        res = join.try_join(node, endpoint, token, wrong_hash)
        assert res.rc != 0, "kubeadm join with a wrong CA hash succeeded"
        assert "none of the public keys" in res.stderr + res.stdout, f"unclear refusal: {res.stderr[-800:]}"
        bogus = f"{secrets.token_hex(3)}.{secrets.token_hex(8)}"
        cluster.control_planes[0].exec("kubeadm", "token", "create", bogus, "--ttl", "10m")
        cluster.control_planes[0].exec("kubeadm", "token", "delete", bogus.split(".")[0])
        res = join.try_join(node, endpoint, bogus, ca_hash, timeout="3s")  # refused at the first try
        assert res.rc != 0, "kubeadm join with a deleted token succeeded"
        out = res.stderr + res.stdout
        assert f'token ID "{bogus.split(".")[0]}"' in out or "JWS" in out, f"unclear refusal: {out[-800:]}"
        assert join.traces_of(cluster, node.name) == [], "a refused join left a Node or a CSR behind"


@pytest.mark.usefixtures("node_access")
def test_late_node_joins_with_print_join_command(cluster: Cluster) -> None:
    endpoint, token, ca_hash = join.print_join_command(cluster)
    with join.spare_node(cluster) as node:
        res = join.try_join(node, endpoint, token, ca_hash, timeout="60s")
        assert res.rc == 0, f"late join of {node.name} failed:\n{res.stderr[-1500:]}"
        wait_for(lambda: checks.ready_nodes(cluster).get(node.name), timeout=120, interval=1,
                 describe=f"late node {node.name} registered and Ready")  # fmt: skip
        traces = join.traces_of(cluster, node.name)  # what the refused joins above must not leave
        assert f"node/{node.name}" in traces and any(t.startswith("csr/") for t in traces), traces
