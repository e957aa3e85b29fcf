"""The kind provider: renders a kind config from the spec and drives the real kind binary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.bootstrap.patches import host_patches_dir
from harness.bootstrap.ready import ready
from harness.cluster import NodeInfo
from harness.exec import Cmd
from harness.images import tools
from harness.phases.engine import Context, Phase
from harness.progress import Progress
from harness.providers.base import KIND_CLUSTER_LABEL
from harness.providers.bringup import bringup, forget_after, record_discovery
from harness.providers.containers import dockerapi, kindconfig
from harness.providers.containers.checks import resolve_image, validate_kind
from harness.providers.containers.node import ContainerNode
from harness.providers.containers.provider import ContainerProvider

KIND_ROLE_LABEL = "io.x-k8s.kind.role"


def network_name(cluster: str) -> str:
    return f"kh-kind-{cluster}"


def _kind() -> str:
    return str(tools.ensure_kind(Progress(quiet=True)))


def create(ctx: Context) -> None:
    """``kind create cluster`` on a labelled network of its own (KIND_EXPERIMENTAL_DOCKER_NETWORK)."""
    state = bringup(ctx)
    cluster = state.cluster
    config = Path(ctx.record.dir) / "kind.yaml"
    config.write_text(kindconfig.from_spec(state.spec, patches_dir=host_patches_dir()))
    ctx.say(config.read_text())
    dockerapi.create_network(network_name(cluster.name), cluster.labels())
    cluster.kubeconfig = str((Path(ctx.record.dir) / "kubeconfig").resolve())
    cluster.save()
    ctx.check()
    argv = [_kind(), "create", "cluster", "--name", cluster.name, "--image", state.image,
            "--config", str(config), "--kubeconfig", cluster.kubeconfig, "--retain"]  # fmt: skip
    state.started = True  # from here on, kind nodes of this name are this run's
    Cmd(argv, env={"KIND_EXPERIMENTAL_DOCKER_NETWORK": network_name(cluster.name)}, timeout=900).run(log=ctx.log)
    cluster.nodes = kind_nodes(cluster.name)
    record_discovery(ctx, "unsafe", "kind's own JoinConfiguration")
    cp = next(n for n in cluster.nodes if n.role == "control-plane")
    cluster.endpoint = f"https://{cp.ip}:6443"
    cluster.save()


def kind_nodes(name: str) -> list[NodeInfo]:
    res = Cmd(["docker", "ps", "-a", "--filter", f"label={KIND_CLUSTER_LABEL}={name}", "--format",
               f'{{{{.Names}}}}\t{{{{.Label "{KIND_ROLE_LABEL}"}}}}']).run()  # fmt: skip
    out = []
    for line in sorted(res.stdout.splitlines()):
        node_name, role = line.split("\t")
        out.append(NodeInfo(node_name, role, ContainerNode(node_name, role).ip()))
    return out


def delete_cluster(name: str, run: str | None = None, with_kind: bool = True) -> list[str]:
    """``kind delete cluster``, then whatever kind left (a node Docker could not kill) and the
    harness's own labelled resources (of ``run`` only, if given). ``with_kind=False``: this run
    never started kind, so kind nodes of that name belong to somebody else and stay."""
    gone = []
    if with_kind:
        res = Cmd([_kind(), "delete", "cluster", "--name", name], timeout=300).run(check=False)
        gone.append(f"kind cluster {name}" + ("" if res.ok else f" (kind delete: exit {res.rc})"))
        gone += dockerapi.remove_all({KIND_CLUSTER_LABEL: name})
    return gone + dockerapi.remove_cluster(name, run)


def cleanup(ctx: Context) -> None:
    state = bringup(ctx)
    cluster = state.cluster
    removed = forget_after(cluster, lambda: delete_cluster(cluster.name, cluster.run_id, with_kind=state.started))
    for line in removed:
        ctx.say(f"removed {line}")


class KindProvider(ContainerProvider):
    name = "kind"

    def plan(self, spec: Any, cluster: str) -> list[Phase]:
        return [
            Phase("image", resolve_image, timeout=3600),
            Phase("create", create, timeout=900),
            Phase("ready", ready, timeout=420),
            Phase("cleanup", cleanup, timeout=300, when="failure"),
        ]

    def delete(self, cluster: str, run: str | None = None) -> list[str]:
        return delete_cluster(cluster, run, with_kind=run is None)

    def name_taken(self, cluster: str) -> bool:
        """Ours, or a cluster kind made by itself (its nodes carry kind's label)."""
        return super().name_taken(cluster) or bool(dockerapi.resources({KIND_CLUSTER_LABEL: cluster}))

    def validate(self, spec: Any) -> None:
        validate_kind(spec)
