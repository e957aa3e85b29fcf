"""init checks: what ``kubeadm init`` must leave behind, inspected the way an operator would."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import ssl
import urllib.request
from pathlib import Path
from typing import Any

import yaml
from cryptography import x509

from harness.cluster import Cluster
from harness.k8s import checks
from harness.k8s.rest import ApiError
from harness.scenarios import pki

COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler")
CP_ROLE = "node-role.kubernetes.io/control-plane"
NODE_GROUP = "system:bootstrappers:kubeadm:default-node-token"
AUTOAPPROVE = {
    "kubeadm:node-autoapprove-bootstrap": ("system:certificates.k8s.io:certificatesigningrequests:nodeclient",
                                           NODE_GROUP),
    "kubeadm:node-autoapprove-certificate-rotation": (
        "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", "system:nodes"),
    "kubeadm:kubelet-bootstrap": ("system:node-bootstrapper", NODE_GROUP),
}  # fmt: skip


def cluster_configuration(cluster: Cluster) -> dict[str, Any]:
    cm = cluster.get("configmap", "kubeadm-config", "kube-system")
    return dict(yaml.safe_load(cm["data"]["ClusterConfiguration"]))


def internal_ip(cluster: Cluster, node: str) -> str:
    return checks.internal_ip(cluster.get("node", node))


def assert_certificates(cluster: Cluster, node: str) -> None:
    """CA, apiserver, front-proxy and etcd certificates: present, valid, chained, apiserver SANs."""
    certs = pki.load_certs(cluster.node(node))
    conf = cluster_configuration(cluster)
    net = conf.get("networking", {})
    problems = pki.problems_with_chain(certs)
    problems += pki.apiserver_san_problems(certs["apiserver.crt"], node, internal_ip(cluster, node),
                                           net.get("serviceSubnet", "10.96.0.0/12"),
                                           net.get("dnsDomain", "cluster.local"))  # fmt: skip
    assert not problems, f"PKI in {pki.PKI} on {node} is broken:\n" + "\n".join(problems)


EXPECTED_IDENTITY = {  # kubeconfig -> (CN, O) of its client certificate
    "admin.conf": ("kubernetes-admin", "kubeadm:cluster-admins"),
    "super-admin.conf": ("kubernetes-super-admin", "system:masters"),
    "controller-manager.conf": ("system:kube-controller-manager", ""),
    "scheduler.conf": ("system:kube-scheduler", ""),
}


def assert_kubeconfigs(cluster: Cluster, node: str, first: bool) -> None:
    """admin/super-admin point at the control-plane endpoint, controller-manager/scheduler at the
    node's own API server, kubelet at either; all trust the cluster CA; client identities right."""
    names = [n for n in pki.KUBECONFIGS if first or n != "super-admin.conf"]
    files = pki.read_files(cluster.node(node), [f"/etc/kubernetes/{n}" for n in names] + [f"{pki.PKI}/ca.crt"])
    ca = x509.load_pem_x509_certificate(files.pop(f"{pki.PKI}/ca.crt").encode())
    endpoint = f"https://{cluster_configuration(cluster)['controlPlaneEndpoint']}"
    local = f"https://{internal_ip(cluster, node)}:6443"
    want_server = {"admin.conf": {endpoint}, "super-admin.conf": {endpoint}, "kubelet.conf": {endpoint, local},
                   "controller-manager.conf": {local}, "scheduler.conf": {local}}  # fmt: skip
    problems = []
    for path, text in files.items():
        name = path.rsplit("/", 1)[-1]
        if not text.strip():
            problems.append(f"{path} is missing")
            continue
        facts = pki.kubeconfig_facts(text, ca)
        if facts["server"] not in want_server[name]:
            problems.append(f"{path} points at {facts['server']}, want {' or '.join(sorted(want_server[name]))}")
        if facts["ca_matches"] != "True":
            problems.append(f"{path} embeds a CA that is not {pki.PKI}/ca.crt")
        if name in EXPECTED_IDENTITY:
            cn, org = EXPECTED_IDENTITY[name]
            got = (facts.get("cn"), facts.get("o"))
            if got != (cn, org) or facts.get("signed_by_ca") != "True" or facts.get("client_auth") != "True":
                problems.append(f"{path} client certificate is {got}, signed by CA: {facts.get('signed_by_ca')}, "
                                f"client auth: {facts.get('client_auth')}; want CN={cn} O={org}")  # fmt: skip
        elif facts.get("client_file") != "/var/lib/kubelet/pki/kubelet-client-current.pem":
            problems.append(f"{path} does not use the rotatable kubelet client certificate: {facts}")
    assert not problems, f"kubeconfigs in /etc/kubernetes on {node} are wrong:\n" + "\n".join(problems)


def assert_static_pods(cluster: Cluster, node: str) -> None:
    """The four static pod manifests exist and their mirror pods are Running and Ready."""
    listing = cluster.node(node).exec("ls", "/etc/kubernetes/manifests").stdout.split()
    missing = [c for c in COMPONENTS if f"{c}.yaml" not in listing]
    problems = [f"/etc/kubernetes/manifests/{c}.yaml missing on {node}" for c in missing]
    for comp in COMPONENTS:
        pod = cluster.get("pod", f"{comp}-{node}", "kube-system")
        ready = any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions", []))
        mirror = "kubernetes.io/config.mirror" in pod["metadata"].get("annotations", {})
        if pod["status"].get("phase") != "Running" or not ready or not mirror:
            problems.append(f"mirror pod {comp}-{node}: phase {pod['status'].get('phase')}, Ready {ready}, "
                            f"mirror annotation {mirror}")  # fmt: skip
    assert not problems, "control-plane static pods are unhealthy:\n" + "\n".join(problems)


def assert_health_endpoints(cluster: Cluster) -> None:
    for path in ("/livez", "/readyz"):
        try:
            out = cluster.api.raw(path, verbose="true")
        except ApiError as exc:  # 500 with the failing checks in its body
            out = str(exc)
        failed = [ln for ln in out.splitlines() if ln.startswith("[-]")]
        assert "passed" in out and not failed, f"kube-apiserver {path} is not healthy: {failed or out[-500:]}"


def assert_control_plane_nodes(cluster: Cluster, taint_expected: bool = True) -> None:
    problems = []
    for node in cluster.control_planes:
        n = cluster.get("node", node.name)
        if CP_ROLE not in n["metadata"].get("labels", {}):
            problems.append(f"{node.name} lacks label {CP_ROLE}")
        taints = {(t["key"], t["effect"]) for t in n["spec"].get("taints", [])}
        if taint_expected and (CP_ROLE, "NoSchedule") not in taints:
            problems.append(f"{node.name} lacks taint {CP_ROLE}:NoSchedule (has {sorted(taints)})")
    assert not problems, "mark-control-plane did not label/taint the control planes:\n" + "\n".join(problems)


def assert_config_maps(cluster: Cluster) -> None:
    conf = cluster.get("configmap", "kubeadm-config", "kube-system")["data"]
    assert "ClusterConfiguration" in conf, f"kube-system/kubeadm-config lacks ClusterConfiguration: {sorted(conf)}"
    kubelet = cluster.get("configmap", "kubelet-config", "kube-system")["data"]
    assert "KubeletConfiguration" in kubelet.get("kubelet", ""), "kube-system/kubelet-config has no kubelet config"


def _kubeconfig_server_and_ca(cluster: Cluster) -> tuple[str, bytes]:
    doc = yaml.safe_load(Path(cluster.kubeconfig).read_text())
    c = doc["clusters"][0]["cluster"]
    return c["server"], base64.b64decode(c["certificate-authority-data"])


def anonymous_get(cluster: Cluster, path: str) -> tuple[int, dict[str, Any]]:
    """GET without credentials (TLS verified against the cluster CA): status and JSON body."""
    server, ca = _kubeconfig_server_and_ca(cluster)
    ctx = ssl.create_default_context(cadata=ca.decode())
    try:
        with urllib.request.urlopen(f"{server}{path}", context=ctx, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def bootstrap_tokens(cluster: Cluster) -> dict[str, dict[str, str]]:
    """token id -> decoded Secret data, for every bootstrap token Secret."""
    secrets = cluster.get("secrets", namespace="kube-system", fields="type=bootstrap.kubernetes.io/token")["items"]
    decoded = [{k: base64.b64decode(v).decode() for k, v in s.get("data", {}).items()} for s in secrets]
    return {d["token-id"]: d for d in decoded if "token-id" in d}


def verify_jws(detached: str, content: str, token_id: str, token_secret: str) -> bool:
    """The bootstrap signer's detached JWS (HS256 keyed with the token secret, ``kid`` the token
    id) over the cluster-info kubeconfig."""
    header, _, sig = detached.partition("..")
    b64 = base64.urlsafe_b64encode(content.encode()).rstrip(b"=").decode()
    kid = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4))).get("kid")
    mac = hmac.new(token_secret.encode(), f"{header}.{b64}".encode(), hashlib.sha256).digest()
    if kid != token_id:
        return False
    return hmac.compare_digest(base64.urlsafe_b64encode(mac).rstrip(b"=").decode(), sig)


def assert_cluster_info(cluster: Cluster) -> None:
    """cluster-info in kube-public is readable anonymously and JWS-signed for each signing token."""
    status, body = anonymous_get(cluster, "/api/v1/namespaces/kube-public/configmaps/cluster-info")
    assert status == 200, (f"ConfigMap kube-public/cluster-info is not readable anonymously: HTTP {status} "
                           f"{body.get('message', '')}")  # fmt: skip
    data = body["data"]
    tokens = {i: t for i, t in bootstrap_tokens(cluster).items() if t.get("usage-bootstrap-signing") == "true"}
    assert tokens, "no bootstrap token Secret with usage-bootstrap-signing=true in kube-system"
    for token_id, tok in tokens.items():
        sig = data.get(f"jws-kubeconfig-{token_id}")
        assert sig, f"cluster-info has no JWS signature for bootstrap token {token_id} (bootstrapsigner controller)"
        assert verify_jws(sig, data["kubeconfig"], token_id, tok["token-secret"]), (
            f"cluster-info JWS for token {token_id} does not verify against the token's secret"
        )


def assert_bootstrap_token(cluster: Cluster) -> None:
    tokens = bootstrap_tokens(cluster)
    assert tokens, "no bootstrap token Secret (type bootstrap.kubernetes.io/token) in kube-system"
    good = [i for i, t in tokens.items() if t.get("usage-bootstrap-authentication") == "true"
            and NODE_GROUP in t.get("auth-extra-groups", "")]  # fmt: skip
    assert good, f"no bootstrap token usable for node join (authentication + group {NODE_GROUP}): {tokens.keys()}"


def assert_csr_rbac(cluster: Cluster) -> None:
    """The RBAC kubeadm sets up so node client CSRs are auto-approved."""
    problems = []
    for name, (role, group) in AUTOAPPROVE.items():
        crb = cluster.api.find("clusterrolebinding", name)
        if crb is None:
            problems.append(f"ClusterRoleBinding {name} is missing")
            continue
        subjects = {(s["kind"], s["name"]) for s in crb.get("subjects", [])}
        if crb["roleRef"]["name"] != role or ("Group", group) not in subjects:
            problems.append(f"ClusterRoleBinding {name}: role {crb['roleRef']['name']}, subjects {sorted(subjects)}; "
                            f"want {role} for Group {group}")  # fmt: skip
    assert not problems, "CSR auto-approval RBAC is broken:\n" + "\n".join(problems)
