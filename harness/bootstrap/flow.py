"""The operator's kubeadm flow on a cluster's nodes, one small function per phase.

(the provider's provision) → configure → preflight → init (whole, or one phase per
``kubeadm init phase``) → kubeconfig → cni → join control planes one at a time → join workers
concurrently → ready. Phases share a ``BringUp`` (the cluster handle, spec, token, certificate
key, CA hash) and reach nodes only through ``cluster.node(...)``: the same phases run on node
containers and on VMs.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import string
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from harness import redact
from harness.bootstrap import config
from harness.bootstrap.patches import KUBEADM_PATCH_FILES, KUBEADM_PATCHES_DIR
from harness.bootstrap.ready import record_readiness, wait_systemd
from harness.images import cni
from harness.paths import write_private
from harness.phases.engine import Context
from harness.providers.base import CONTROL_PLANE, LOAD_BALANCER, WORKER, Node
from harness.providers.bringup import BringUp, bringup, record_discovery
from harness.spec.ca import CA_CERT, CA_KEY
from harness.wait import wait_for

CONFIG_PATH = "/etc/kube-harness/kubeadm.yaml"
ADMIN_CONF = "/etc/kubernetes/admin.conf"
INIT_PHASES = [  # `kubeadm init phase ...` in kubeadm's own order (preflight runs as its own phase)
    "certs all", "kubeconfig all", "etcd local", "control-plane all", "kubelet-start", "wait-control-plane",
    "upload-config all", "upload-certs --upload-certs", "mark-control-plane", "bootstrap-token",
    "kubelet-finalize all", "addon all",
]  # fmt: skip
NO_CONFIG_PHASES = {"wait-control-plane"}  # reads the static pod manifests and admin.conf instead


def _first_cp(ctx: Context) -> Node:
    return bringup(ctx).cluster.control_planes[0]


def _run(ctx: Context, node: Node, *argv: str, input: str | None = None, timeout: float = 600) -> str:
    ctx.check()
    with ctx.on_node(node.name):
        return node.command(*argv, input=input, timeout=timeout).run(log=ctx.log, capture=True).stdout


def configure(ctx: Context) -> None:
    """Token, certificate key and the kubeadm config file on the control planes."""
    state = bringup(ctx)
    cluster, alphabet = state.cluster, string.ascii_lowercase + string.digits
    state.token = ".".join("".join(secrets.choice(alphabet) for _ in range(n)) for n in (6, 16))
    state.certificate_key = secrets.token_hex(32)
    redact.register(state.token, state.token.split(".")[1], state.certificate_key)
    first = next(n for n in cluster.nodes if n.role == CONTROL_PLANE)
    lb = next((n for n in cluster.nodes if n.role == LOAD_BALANCER), None)
    endpoint_host = lb.name if lb else first.name
    state.endpoint = f"{endpoint_host}:6443"  # as nodes and pods on the node network reach it
    cluster.endpoint = f"https://{lb.ip if lb else first.ip}:6443"
    text = config.render(_inputs(state, endpoint_host, first.ip, _cgroup_v1(cluster.control_planes[0])))
    record_discovery(ctx, state.spec.join_discovery or "token")
    ctx.say(text)
    if state.spec.ca is not None:  # before init, which then signs with it instead of making a CA
        cert, key = state.spec.ca.read()
        cluster.control_planes[0].write_file(CA_CERT, cert, "0644")
        cluster.control_planes[0].write_file(CA_KEY, key, "0600")
    for node in cluster.control_planes:
        node.write_file(CONFIG_PATH, text, "0600")
        for name, patch in KUBEADM_PATCH_FILES.items():
            node.write_file(f"{KUBEADM_PATCHES_DIR}/{name}", patch)
    cluster.save()


def _cgroup_v1(node: Node) -> bool:
    """The node's own cgroup hierarchy decides the kubelet's driver (a VM's kernel, not the host's)."""
    return not node.command("test", "-e", "/sys/fs/cgroup/cgroup.controllers").run(check=False).ok


def _inputs(state: BringUp, endpoint_host: str, advertise: str, cgroup_v1: bool) -> config.KubeadmInputs:
    cluster, spec = state.cluster, state.spec
    planes = [n for n in cluster.nodes if n.role in (CONTROL_PLANE, LOAD_BALANCER)]
    net = spec.networking
    return config.KubeadmInputs(
        cluster_name=cluster.name, kubernetes_version=spec.kubernetes_version, endpoint=f"{endpoint_host}:6443",
        advertise_address=advertise, token=state.token, certificate_key=state.certificate_key,
        cert_sans=[n.name for n in planes] + [n.ip for n in planes],
        pod_subnet=net.pod_subnet, service_subnet=net.service_subnet, dns_domain=net.dns_domain,
        kube_proxy_mode=net.kube_proxy_mode, cgroup_v1=cgroup_v1, kubelet_extra_args=dict(spec.kubelet_extra_args),
        patches=spec.all_kubeadm_patches(), patches_dir=KUBEADM_PATCHES_DIR,
    )  # fmt: skip


def preflight(ctx: Context) -> None:
    _run(ctx, _first_cp(ctx), "kubeadm", "init", "phase", "preflight", f"--config={CONFIG_PATH}",
         "--ignore-preflight-errors=all")  # fmt: skip


def init(ctx: Context) -> None:
    _run(ctx, _first_cp(ctx), "kubeadm", "init", f"--config={CONFIG_PATH}", "--skip-phases=preflight",
         "--upload-certs", "--skip-token-print", "--v=1")  # fmt: skip


def init_phase(name: str) -> Callable[[Context], None]:
    """One ``kubeadm init phase NAME`` as an engine phase (for ``--phased``)."""
    config = [] if name in NO_CONFIG_PHASES else [f"--config={CONFIG_PATH}"]

    def run(ctx: Context) -> None:
        _run(ctx, _first_cp(ctx), "kubeadm", "init", "phase", *name.split(), *config)

    return run


def kubeconfig(ctx: Context) -> None:
    """Export admin.conf to the run's folder, pointing at an address the host reaches."""
    state = bringup(ctx)
    cluster, first = state.cluster, _first_cp(ctx)
    text = _run(ctx, first, "cat", ADMIN_CONF)
    lines = [f"    server: {cluster.endpoint}" if ln.strip().startswith("server:") else ln for ln in text.splitlines()]
    path = write_private(Path(ctx.record.dir) / "kubeconfig", "\n".join(lines) + "\n")
    cluster.kubeconfig = str(path.resolve())
    ca = x509.load_pem_x509_certificate(_run(ctx, first, "cat", "/etc/kubernetes/pki/ca.crt").encode())
    spki = ca.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    state.ca_hash = "sha256:" + hashlib.sha256(spki).hexdigest()
    state.ca_data = base64.b64encode(ca.public_bytes(serialization.Encoding.PEM)).decode()
    cluster.save()


def install_cni(ctx: Context) -> None:
    state = bringup(ctx)
    net = state.spec.networking
    if net.cni == "none":
        ctx.say("cni: none (the user installs one)")
        return
    if net.cni == "manifest":
        text = Path(net.cni_manifest).read_text()
    else:
        text = _run(ctx, _first_cp(ctx), "cat", "/kind/manifests/default-cni.yaml")
    manifest = cni.render(text, net.pod_subnet, state.endpoint)
    record_readiness(ctx, "before_cni")  # the CNI scenario asserts NotReady before, Ready after
    _run(ctx, _first_cp(ctx), "kubectl", f"--kubeconfig={ADMIN_CONF}", "apply", "-f", "-", input=manifest)


def wait_discovery(ctx: Context) -> None:
    """Wait for the controller-manager's JWS signature of cluster-info for our token (kubeadm join
    itself retries discovery only every 5 s). Read from the host through the API client: a
    kubectl process per poll would cost CPU the starting control plane needs."""
    state = bringup(ctx)
    token_id = state.token.split(".")[0]

    def signed() -> bool:
        ctx.check()
        info = state.cluster.api.find("configmap", "cluster-info", "kube-public") or {}
        return f"jws-kubeconfig-{token_id}" in (info.get("data") or {})

    wait_for(signed, timeout=120, interval=0.2, describe="the JWS signature in cluster-info")


def join_argv(state: BringUp, node: Node, control_plane: bool) -> list[str]:
    """``kubeadm join`` by the spec's discovery mode: the token with the CA hash pinned (token, the
    default), the token without (unsafe), or the discovery file ``discovery_file`` wrote (file)."""
    endpoint = state.cluster.endpoint.removeprefix("https://")
    mode = state.spec.join_discovery or "token"
    how = {
        "token": [endpoint, "--token", state.token, "--discovery-token-ca-cert-hash", state.ca_hash],
        "unsafe": [endpoint, "--token", state.token, "--discovery-token-unsafe-skip-ca-verification"],
        "file": ["--discovery-file", config.DISCOVERY_FILE, "--tls-bootstrap-token", state.token],
    }[mode]
    argv = ["kubeadm", "join", *how, "--ignore-preflight-errors=all", "--v=1"]
    if control_plane:
        argv += ["--control-plane", "--certificate-key", state.certificate_key,
                 "--apiserver-advertise-address", node.ip()]  # fmt: skip
    return argv


def discovery_file(state: BringUp, node: Node) -> None:
    """With file discovery, the discovery kubeconfig on the joining node (0600) before it joins."""
    if state.spec.join_discovery == "file":
        endpoint = state.cluster.endpoint.removeprefix("https://")  # the address the token modes use
        node.write_file(config.DISCOVERY_FILE, config.discovery_kubeconfig(endpoint, state.ca_data), "0600")


def _kubelet_args(ctx: Context, node: Node) -> None:
    """kubelet_extra_args of the spec for a joining node (the kubelet unit reads /etc/default/kubelet)."""
    extra = " ".join(f"--{k}={v}" for k, v in bringup(ctx).spec.kubelet_extra_args.items())
    if extra:
        current = _run(ctx, node, "cat", "/etc/default/kubelet").strip()
        node.write_file("/etc/default/kubelet", f"{current} {extra}\n")


def join_control_plane(name: str) -> Callable[[Context], None]:
    def run(ctx: Context) -> None:
        state = bringup(ctx)
        node = state.cluster.node(name)
        with ctx.on_node(name):
            wait_systemd(node)
            _kubelet_args(ctx, node)
            discovery_file(state, node)
            _run(ctx, node, *join_argv(state, node, control_plane=True))

    return run


def join_workers(ctx: Context) -> None:
    state = bringup(ctx)
    workers = [n for n in state.cluster.all_nodes if n.role == WORKER]
    if not workers:
        return

    def join(worker: Node) -> str:
        with ctx.on_node(worker.name):
            wait_systemd(worker)  # workers boot while the control plane initialises
            _kubelet_args(ctx, worker)
            discovery_file(state, worker)
            return _run(ctx, worker, *join_argv(state, worker, control_plane=False))

    with ThreadPoolExecutor(max_workers=len(workers)) as pool:
        for out in pool.map(join, workers):
            ctx.say(out)
