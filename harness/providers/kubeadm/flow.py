"""The operator's flow for kubeadm-in-containers, one small function per phase.

provision → configure → preflight → init (whole, or one phase per ``kubeadm init phase``) →
kubeconfig → cni → join control planes one at a time → join workers concurrently → ready.
Shared state lives in ``ctx.data``: ``cluster`` (the handle), ``spec``, ``image``, ``token``,
``certificate_key``, ``ca_hash``.
"""

from __future__ import annotations

import hashlib
import secrets
import string
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from harness import redact
from harness.cluster import Cluster
from harness.images import cni
from harness.k8s import checks
from harness.paths import write_private
from harness.phases.engine import Context
from harness.providers import dockerapi
from harness.providers.common import forget_after
from harness.providers.container import ContainerNode
from harness.providers.kubeadm import config, loadbalancer, nodes
from harness.providers.patches import KUBEADM_PATCH_FILES, KUBEADM_PATCHES_DIR
from harness.wait import wait_for

CONFIG_PATH = "/etc/kube-harness/kubeadm.yaml"
ADMIN_CONF = "/etc/kubernetes/admin.conf"
INIT_PHASES = [  # `kubeadm init phase ...` in kubeadm's own order (preflight runs as its own phase)
    "certs all", "kubeconfig all", "etcd local", "control-plane all", "kubelet-start", "wait-control-plane",
    "upload-config all", "upload-certs --upload-certs", "mark-control-plane", "bootstrap-token",
    "kubelet-finalize all", "addon all",
]  # fmt: skip
NO_CONFIG_PHASES = {"wait-control-plane"}  # reads the static pod manifests and admin.conf instead


def _cluster(ctx: Context) -> Cluster:
    cluster: Cluster = ctx.data["cluster"]
    return cluster


def _first_cp(ctx: Context) -> ContainerNode:
    return ContainerNode(_cluster(ctx).control_planes[0].name, "control-plane")


def _run(ctx: Context, node: ContainerNode, *argv: str, input: str | None = None, timeout: float = 600) -> str:
    ctx.check()
    return node.command(*argv, input=input, timeout=timeout).run(log=ctx.log, capture=True).stdout


def provision(ctx: Context) -> None:
    cluster, spec = _cluster(ctx), ctx.data["spec"]
    nodes.create_network(cluster)
    ctx.check()
    cluster.nodes = nodes.create_nodes(cluster, ctx.data["image"], spec.control_planes, spec.workers)
    if spec.control_planes > 1:
        ctx.check()
        cluster.nodes.append(loadbalancer.create(cluster, [n for n in cluster.nodes if n.role == "control-plane"]))
    cluster.save()


def configure(ctx: Context) -> None:
    """Token, certificate key and the kubeadm config file on the first control plane."""
    cluster, spec = _cluster(ctx), ctx.data["spec"]
    alphabet = string.ascii_lowercase + string.digits
    token = ".".join("".join(secrets.choice(alphabet) for _ in range(n)) for n in (6, 16))
    ctx.data.update(token=token, certificate_key=secrets.token_hex(32))
    redact.register(token, token.split(".")[1], ctx.data["certificate_key"])
    first = next(n for n in cluster.nodes if n.role == "control-plane")
    lb = next((n for n in cluster.nodes if n.role == "load-balancer"), None)
    endpoint_host = lb.name if lb else first.name
    ctx.data["endpoint"] = f"{endpoint_host}:6443"  # as nodes and pods on the node network reach it
    cluster.endpoint = f"https://{lb.ip if lb else first.ip}:6443"
    sans = [n.name for n in cluster.nodes if n.role in ("control-plane", "load-balancer")]
    sans += [n.ip for n in cluster.nodes if n.role in ("control-plane", "load-balancer")]
    net = spec.networking
    inp = config.KubeadmInputs(
        cluster_name=cluster.name, kubernetes_version=spec.kubernetes_version, endpoint=f"{endpoint_host}:6443",
        advertise_address=first.ip, token=token, certificate_key=ctx.data["certificate_key"], cert_sans=sans,
        pod_subnet=net.pod_subnet, service_subnet=net.service_subnet, dns_domain=net.dns_domain,
        kube_proxy_mode=net.kube_proxy_mode, cgroup_v1=not Path("/sys/fs/cgroup/cgroup.controllers").exists(),
        kubelet_extra_args=dict(spec.kubelet_extra_args), patches=spec.all_kubeadm_patches(),
        patches_dir=KUBEADM_PATCHES_DIR,
    )  # fmt: skip
    text = config.render(inp)
    ctx.say(text)
    for cp in cluster.control_planes:
        node = ContainerNode(cp.name, cp.role)
        node.write_file(CONFIG_PATH, text, "0600")
        for name, patch in KUBEADM_PATCH_FILES.items():
            node.write_file(f"{KUBEADM_PATCHES_DIR}/{name}", patch)
    cluster.save()


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
    cluster = _cluster(ctx)
    text = _run(ctx, _first_cp(ctx), "cat", ADMIN_CONF)
    lines = [f"    server: {cluster.endpoint}" if ln.strip().startswith("server:") else ln for ln in text.splitlines()]
    path = write_private(Path(ctx.record.dir) / "kubeconfig", "\n".join(lines) + "\n")
    cluster.kubeconfig = str(path.resolve())
    ca = x509.load_pem_x509_certificate(_run(ctx, _first_cp(ctx), "cat", "/etc/kubernetes/pki/ca.crt").encode())
    spki = ca.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    ctx.data["ca_hash"] = "sha256:" + hashlib.sha256(spki).hexdigest()
    cluster.save()


def install_cni(ctx: Context) -> None:
    net = ctx.data["spec"].networking
    if net.cni == "none":
        ctx.say("cni: none (the user installs one)")
        return
    if net.cni == "manifest":
        text = Path(net.cni_manifest).read_text()
    else:
        text = _run(ctx, _first_cp(ctx), "cat", "/kind/manifests/default-cni.yaml")
    manifest = cni.render(text, net.pod_subnet, ctx.data["endpoint"])
    _record_readiness(ctx, "before_cni")  # the CNI scenario asserts NotReady before, Ready after
    _run(ctx, _first_cp(ctx), "kubectl", f"--kubeconfig={ADMIN_CONF}", "apply", "-f", "-", input=manifest)


def _record_readiness(ctx: Context, when: str) -> None:
    nodes = checks.ready_nodes(_cluster(ctx))
    ctx.record.measurements[f"nodes_{when}"] = len(nodes)
    ctx.record.measurements[f"nodes_ready_{when}"] = sum(nodes.values())


def wait_discovery(ctx: Context) -> None:
    """Wait for the controller-manager's JWS signature of cluster-info for our token (kubeadm join
    itself retries discovery only every 5 s). One watch from the host: polling with a kubectl in the
    node costs CPU the starting control plane needs."""
    token_id = ctx.data["token"].split(".")[0]
    cluster, deadline = _cluster(ctx), time.monotonic() + 120

    def signed() -> bool:
        ctx.check()
        left = max(1, min(10, int(deadline - time.monotonic())))
        cluster.kubectl("wait", "-n", "kube-public", "configmap/cluster-info", f"--timeout={left}s",
                        f"--for=jsonpath={{.data.jws-kubeconfig-{token_id}}}")  # fmt: skip
        return True

    wait_for(signed, timeout=120, interval=0.2, describe="the JWS signature in cluster-info")


def _join_argv(ctx: Context, node: ContainerNode, control_plane: bool) -> list[str]:
    endpoint = _cluster(ctx).endpoint.removeprefix("https://")
    argv = ["kubeadm", "join", endpoint, "--token", ctx.data["token"], "--discovery-token-ca-cert-hash",
            ctx.data["ca_hash"], "--ignore-preflight-errors=all", "--v=1"]  # fmt: skip
    if control_plane:
        argv += ["--control-plane", "--certificate-key", ctx.data["certificate_key"],
                 "--apiserver-advertise-address", node.ip()]  # fmt: skip
    return argv


def _kubelet_args(ctx: Context, node: ContainerNode) -> None:
    """kubelet_extra_args of the spec for a joining node (the kubelet unit reads /etc/default/kubelet)."""
    extra = " ".join(f"--{k}={v}" for k, v in ctx.data["spec"].kubelet_extra_args.items())
    if extra:
        current = _run(ctx, node, "cat", "/etc/default/kubelet").strip()
        node.write_file("/etc/default/kubelet", f"{current} {extra}\n")


def join_control_plane(name: str) -> Callable[[Context], None]:
    def run(ctx: Context) -> None:
        node = ContainerNode(name, "control-plane")
        nodes.wait_systemd(node)
        _kubelet_args(ctx, node)
        _run(ctx, node, *_join_argv(ctx, node, control_plane=True))

    return run


def join_workers(ctx: Context) -> None:
    workers = [ContainerNode(n.name, n.role) for n in _cluster(ctx).nodes if n.role == "worker"]
    if not workers:
        return

    def join(worker: ContainerNode) -> str:
        nodes.wait_systemd(worker)  # workers boot while the control plane initialises
        _kubelet_args(ctx, worker)
        return _run(ctx, worker, *_join_argv(ctx, worker, control_plane=False))

    with ThreadPoolExecutor(max_workers=len(workers)) as pool:
        for out in pool.map(join, workers):
            ctx.say(out)


def ready(ctx: Context) -> None:
    cluster = _cluster(ctx)
    checks.wait_nodes_ready(cluster, len(cluster.all_nodes), timeout=300)
    if ctx.data["spec"].networking.cni != "none":
        checks.wait_rollout(cluster, "deployment", "coredns", "kube-system", timeout=300)
    _record_readiness(ctx, "after_cni")
    cluster.status = "ready"
    cluster.save()


def cleanup(ctx: Context) -> None:
    """After a failure or Ctrl-C (unless kept): every container, network and volume this run made
    goes (labelled with its run id: never another run's, even of the same name)."""
    cluster = _cluster(ctx)
    for line in forget_after(cluster, lambda: dockerapi.remove_cluster(cluster.name, cluster.run_id)):
        ctx.say(f"removed {line}")
