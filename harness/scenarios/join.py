"""join checks: registered Ready nodes, kubelet client certificates from approved CSRs, kube-proxy
everywhere, and joins of a spare node (late, with a wrong CA hash, with a deleted token)."""

from __future__ import annotations

import base64
import contextlib

from cryptography import x509
from cryptography.x509.oid import NameOID

from harness.cluster import Cluster
from harness.exec import Result
from harness.k8s import checks
from harness.providers.base import Node
from harness.scenarios import discovery
from harness.scenarios.pki import read_files

KUBELET_CLIENT = "/var/lib/kubelet/pki/kubelet-client-current.pem"
KUBELET_SIGNER = "kubernetes.io/kube-apiserver-client-kubelet"


def assert_nodes_registered_ready(cluster: Cluster) -> None:
    want = {n.name for n in cluster.all_nodes}
    state = checks.ready_nodes(cluster)
    missing, not_ready = sorted(want - set(state)), sorted(n for n in want & set(state) if not state[n])
    assert not missing and not not_ready, f"nodes not registered: {missing}; registered but NotReady: {not_ready}"


def _cn(cert: x509.Certificate | x509.CertificateSigningRequest) -> str:
    return str(cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)


def issued_kubelet_certs(cluster: Cluster) -> dict[str, x509.Certificate]:
    """node name -> certificate issued through an Approved kubelet client CSR."""
    out = {}
    for csr in cluster.get("csr")["items"]:
        status = csr.get("status", {})
        approved = any(c["type"] == "Approved" for c in status.get("conditions", []))
        if csr["spec"].get("signerName") != KUBELET_SIGNER or not approved or not status.get("certificate"):
            continue
        cert = x509.load_pem_x509_certificate(base64.b64decode(status["certificate"]))
        out[_cn(cert).removeprefix("system:node:")] = cert
    return out


def assert_kubelet_certs_from_csrs(cluster: Cluster) -> None:
    """Every joined node's kubelet client certificate is the one an approved, issued CSR gave it
    (the first control plane's comes from kubeadm init itself, signed by the cluster CA)."""
    issued, problems = issued_kubelet_certs(cluster), []
    first = cluster.control_planes[0].name
    for node in cluster.all_nodes:
        files = read_files(node, [KUBELET_CLIENT, "/etc/kubernetes/pki/ca.crt"])
        current = x509.load_pem_x509_certificate(files[KUBELET_CLIENT].encode())
        if _cn(current) != f"system:node:{node.name}":
            problems.append(f"{node.name}: kubelet client certificate is for {_cn(current)}")
        matches = node.name in issued and issued[node.name].serial_number == current.serial_number
        if node.name == first and not matches:  # kubeadm init wrote it, signed by the cluster CA
            ca = x509.load_pem_x509_certificate(files["/etc/kubernetes/pki/ca.crt"].encode())
            current.verify_directly_issued_by(ca)
        elif node.name not in issued:
            problems.append(f"{node.name}: no approved kubelet client CSR with an issued certificate")
        elif not matches:
            problems.append(f"{node.name}: {KUBELET_CLIENT} is not the certificate its CSR was issued")
    assert not problems, "kubelet TLS bootstrap (CSR approval and signing) is broken:\n" + "\n".join(problems)


def assert_kube_proxy_everywhere(cluster: Cluster) -> None:
    pods = cluster.get("pods", namespace="kube-system", labels="k8s-app=kube-proxy")["items"]
    ready = {p["spec"].get("nodeName") for p in pods if p["status"].get("phase") == "Running" and any(
        c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions", []))}  # fmt: skip
    missing = sorted({n.name for n in cluster.all_nodes} - ready)
    assert not missing, f"no Running, Ready kube-proxy pod on node(s) {missing}"


# -- a spare node ------------------------------------------------------------------------------------


def spare_node(cluster: Cluster, name: str | None = None) -> contextlib.AbstractContextManager[Node]:
    """A booted node from the cluster's provider on the cluster's network, not joined; removed
    (with its Node object) afterwards. A provider that makes none skips the test, saying so."""
    try:
        return cluster.backend.spare_node(cluster, name)
    except NotImplementedError as exc:
        import pytest

        pytest.skip(str(exc))


def print_join_command(cluster: Cluster) -> tuple[str, str, str]:
    """``kubeadm token create --print-join-command`` on a control plane: (endpoint, token, CA hash)."""
    cp = cluster.control_planes[0]
    words = cp.exec("kubeadm", "token", "create", "--print-join-command", "--ttl", "15m").stdout.split()
    assert words[:2] == ["kubeadm", "join"], f"unexpected join command: {' '.join(words)}"
    return words[2], words[words.index("--token") + 1], words[words.index("--discovery-token-ca-cert-hash") + 1]


def try_join(node: Node, endpoint: str, token: str, ca_hash: str, timeout: str = "20s") -> Result:
    """``kubeadm join`` with token discovery and the CA pinned by ``ca_hash`` (``discovery.join``)."""
    return discovery.join(node, discovery.discovery("token", endpoint, token, ca_hash), timeout)


def traces_of(cluster: Cluster, node: str) -> list[str]:
    """What a join of ``node`` left in the cluster: its Node object and the CSRs asking for its
    kubelet identity (``system:node:<node>``). Only this node's: other tests on a shared cluster
    may join nodes of their own meanwhile."""
    found = [f"node/{node}"] if node in checks.ready_nodes(cluster) else []
    for csr in cluster.get("csr")["items"]:
        request = x509.load_pem_x509_csr(base64.b64decode(csr["spec"]["request"]))
        if _cn(request) == f"system:node:{node}":
            found.append(f"csr/{csr['metadata']['name']}")
    return found
