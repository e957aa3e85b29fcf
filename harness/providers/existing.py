"""The ``existing`` provider: a cluster made elsewhere, reached through its kubeconfig only.

Nothing is created or deleted; ``delete`` only forgets the harness's record of it. Its nodes have
no command access, so scenarios that need node access skip on it (``NoNodeAccess``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.cluster import NodeInfo
from harness.errors import HarnessError, UsageError
from harness.exec import Cmd
from harness.images import tools
from harness.paths import write_private
from harness.phases.engine import Context, Phase
from harness.progress import Progress
from harness.providers.base import CONTROL_PLANE, WORKER, NodeBase, ProviderBase
from harness.providers.bringup import bringup


class NoNodeAccess(HarnessError):
    """The provider gives no command access to its nodes (the ``existing`` provider)."""

    exit_code = 2


@dataclass
class RemoteNode(NodeBase):
    """A node of a cluster made elsewhere: known by name and address, takes no commands."""

    name: str
    role: str
    address: str = ""
    interface: str = ""

    def command(self, *argv: str, input: str | None = None, timeout: float | None = None) -> Cmd:
        raise NoNodeAccess(f"node {self.name} belongs to an existing cluster: no command access",
                           fix="use the kind or kubeadm provider for tests that need node access")  # fmt: skip

    def copy_to(self, src: Path, dest: str) -> None:
        self.command()

    def copy_from(self, src: str, dest: Path) -> None:
        self.command()

    def ip(self) -> str:
        return self.address

    def logs(self) -> str:
        return ""

    def interactive(self, *argv: str) -> list[str]:
        self.command()
        return []

    def stop(self) -> None:
        self.command()

    def kill(self) -> None:
        self.command()

    def start(self) -> None:
        self.command()

    def pause(self) -> None:
        self.command()

    def resume(self) -> None:
        self.command()


def connect(ctx: Context) -> None:
    """Copy the kubeconfig into the run folder, check the API answers, record the nodes."""
    state = bringup(ctx)
    cluster, source = state.cluster, check_kubeconfig(state.kubeconfig)
    dest = write_private(Path(ctx.record.dir) / "kubeconfig", source.read_text())
    cluster.kubeconfig = str(dest.resolve())
    kubectl = str(tools.ensure_kubectl(Progress(quiet=True)))
    Cmd([kubectl, "--kubeconfig", cluster.kubeconfig, "version"], timeout=60).run(log=ctx.log, capture=True)
    for node in cluster.get("nodes")["items"]:
        node_labels = node["metadata"].get("labels", {})
        role = CONTROL_PLANE if f"node-role.kubernetes.io/{CONTROL_PLANE}" in node_labels else WORKER
        address = next((a["address"] for a in node["status"].get("addresses", []) if a["type"] == "InternalIP"), "")
        cluster.nodes.append(NodeInfo(node["metadata"]["name"], role, address))
    cluster.status = "ready"
    cluster.save()


class ExistingProvider(ProviderBase):
    name = "existing"
    node_access = False
    makes_resources = False
    options = ("kubeconfig",)

    def __init__(self, kubeconfig: Path | None = None) -> None:
        self.kubeconfig = kubeconfig

    def validate(self, spec: Any) -> None:
        check_kubeconfig(self.kubeconfig)

    def plan(self, spec: Any, cluster: str) -> list[Phase]:
        return [Phase("connect", connect, timeout=120)]

    def delete(self, cluster: str, run: str | None = None) -> list[str]:
        return [f"record of existing cluster {cluster} (the cluster itself is untouched)"]

    def node(self, info: NodeInfo) -> RemoteNode:
        return RemoteNode(info.name, info.role, info.ip)


def check_kubeconfig(path: Path | None) -> Path:
    """The given kubeconfig, else the first file of ``$KUBECONFIG`` (as kubectl reads it)."""
    if path is None:
        first = next((p for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p), "")
        path = Path(first) if first else None
    if path is None:
        raise UsageError("the existing provider needs a kubeconfig",
                         fix="pass --kubeconfig PATH (pytest: --kh-kubeconfig) or set KUBECONFIG")  # fmt: skip
    if not path.is_file():
        raise UsageError(f"kubeconfig {path} does not exist", fix="pass the path of a readable kubeconfig file")
    return path
