"""The cluster handle: name, provider, run id, kubeconfig, nodes; persisted so the CLI finds it.

State lives in ``<cache>/state/clusters/<name>.json``: written when a create starts, updated when it
finishes, removed on delete. ``kubectl`` runs the cached kubectl against the cluster's kubeconfig.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import UsageError, name_taken
from harness.exec import Cmd
from harness.paths import cache_root, write_private
from harness.providers import registry
from harness.providers.base import CONTROL_PLANE, LABEL_PID, WORKER, Node, Provider, labels

if TYPE_CHECKING:
    from harness.k8s.rest import Rest


def state_dir() -> Path:
    return cache_root() / "state" / "clusters"


@dataclass
class NodeInfo:
    """A node as the state records it; its provider turns it into a ``Node`` (``Cluster.node``)."""

    name: str
    role: str
    ip: str = ""
    meta: dict[str, str] = field(default_factory=dict)  # what the provider needs to reach it again


@dataclass
class Cluster:
    name: str
    provider: str
    run_id: str
    kubeconfig: str = ""
    nodes: list[NodeInfo] = field(default_factory=list)
    endpoint: str = ""
    keep: bool = False  # kept: stays until `kube-harness delete` (labelled so; gc never removes it)
    status: str = "creating"  # creating | ready | failed
    spec: dict[str, Any] = field(default_factory=dict)
    created: float = field(default_factory=time.time)
    pid: int = field(default_factory=os.getpid)  # the creating process; gc collects when it is gone
    leftovers: list[str] = field(default_factory=list)  # what a failed delete could not remove
    owner: dict[str, str] = field(default_factory=dict)  # labels the caller gave: pid, session, worker

    def labels(self, role: str | None = None) -> dict[str, str]:
        """The labels of every resource made for this cluster."""
        owner = {LABEL_PID: str(self.pid), **self.owner}
        return labels(self.name, self.run_id, role, keep=self.keep, provider=self.provider, owner=owner)

    # -- nodes -------------------------------------------------------------------------------
    @property
    def backend(self) -> Provider:
        """The cluster's provider: it turns recorded nodes into ``Node`` objects."""
        return registry.get(self.provider)

    def node(self, name: str) -> Node:
        for n in self.nodes:
            if n.name == name or n.name == f"{self.name}-{name}":
                return self.backend.node(n)
        raise UsageError(f"no node {name!r} in cluster {self.name}", fix=f"pick one of: {self.node_names()}")

    def select(self, pattern: str) -> list[Node]:
        """Nodes by kinder's names: ``@all``, ``@cp*`` / ``@w*`` (every control plane / worker),
        ``@cp1`` / ``@w2`` (the first control plane, the second worker), ``@lb``, or a node name."""
        if not pattern.startswith("@"):
            return [self.node(pattern)]
        found = re.fullmatch(r"@(all|lb|cp|w)(\*|[1-9][0-9]*)?", pattern)
        others = [self.backend.node(n) for n in self.nodes if n.role not in (CONTROL_PLANE, WORKER)]
        groups = {"all": self.all_nodes, "cp": self.control_planes, "w": self.workers, "lb": others}
        if found and found.group(1) in ("all", "lb") and not found.group(2):
            return groups[found.group(1)]
        if found and found.group(1) in ("cp", "w") and found.group(2) == "*":
            return groups[found.group(1)]
        if found and found.group(1) in ("cp", "w") and found.group(2) and found.group(2) != "*":
            members = groups[found.group(1)]
            if int(found.group(2)) <= len(members):
                return [members[int(found.group(2)) - 1]]
        raise UsageError(f"no node {pattern!r} in cluster {self.name}",
                         fix=f"use @all, @cp*, @cp1, @w*, @w1, @lb or a node name: {self.node_names()}")  # fmt: skip

    def node_names(self) -> str:
        return ", ".join(n.name for n in self.nodes)

    @property
    def all_nodes(self) -> list[Node]:
        backend = self.backend
        return [backend.node(n) for n in self.nodes if n.role in (CONTROL_PLANE, WORKER)]

    @property
    def timeout_scale(self) -> float:
        """How many times slower its nodes are than node containers (1 but for VMs under TCG)."""
        return self.backend.timeout_scale(self)

    @property
    def node_access(self) -> bool:
        """Whether nodes take commands (false for clusters reached only through a kubeconfig)."""
        return self.backend.node_access

    @property
    def control_planes(self) -> list[Node]:
        return [n for n in self.all_nodes if n.role == CONTROL_PLANE]

    @property
    def workers(self) -> list[Node]:
        return [n for n in self.all_nodes if n.role == WORKER]

    def load_image(self, *images: str, archive: Path | None = None) -> dict[str, int]:
        """Local Docker images (or a ``docker save`` archive) into every node's containerd, as
        ``kind load docker-image`` does, on any provider; node -> images it lacked (0: had them)."""
        from harness.images import load

        if archive is not None:
            return load.load_archive(self, load.read_archive(archive))
        return load.load_images(self, list(images))

    # -- API access ----------------------------------------------------------------------------
    @property
    def api(self) -> Rest:
        """Plain-JSON reads and watches through this process's client for the kubeconfig."""
        from harness.k8s.client import client_for

        return client_for(self.kubeconfig).rest

    def pod_exec(self, namespace: str, pod: str, *argv: str, timeout: float = 60, check: bool = True) -> str:
        """``kubectl exec -n NAMESPACE POD -- ARGV...`` through the API (no kubectl process); stdout.
        A non-zero exit raises CommandError (with the kubectl command to paste) when ``check``."""
        from harness.k8s.podexec import pod_exec

        result = pod_exec(self.kubeconfig, namespace, pod, list(argv), timeout=timeout)
        return (result.check() if check else result).stdout

    def get(self, kind: str, name: str | None = None, namespace: str | None = None, labels: str = "",
            fields: str = "") -> dict[str, Any]:  # fmt: skip
        """``kubectl get KIND [NAME] -n NAMESPACE -l LABELS -o json``, without a kubectl process."""
        return self.api.get(kind, name, namespace, labels=labels, fields=fields)

    def kubectl(self, *args: str, input: str | None = None, check: bool = True, timeout: float = 180) -> str:
        from harness.images import tools
        from harness.progress import Progress

        argv = [str(tools.ensure_kubectl(Progress())), "--kubeconfig", self.kubeconfig, *args]
        return Cmd(argv, input=input, timeout=timeout).run(check=check).stdout

    def kubectl_json(self, *args: str) -> dict[str, Any]:
        return dict(json.loads(self.kubectl(*args, "-o", "json")))

    # -- state ---------------------------------------------------------------------------------
    @property
    def state_path(self) -> Path:
        return state_dir() / f"{self.name}.json"

    def save(self) -> None:
        write_private(self.state_path, json.dumps(asdict(self), indent=2))

    def forget(self) -> None:
        self.state_path.unlink(missing_ok=True)

    def _mine(self) -> bool:
        """The state file is this run's (a losing create of the same name must not touch the winner's)."""
        try:
            return bool(json.loads(self.state_path.read_text()).get("run_id") == self.run_id)
        except (OSError, ValueError):
            return False

    def forget_if_mine(self) -> None:
        if self._mine():
            self.forget()

    def save_if_mine(self) -> None:
        if self._mine():
            self.save()

    def claim(self) -> None:
        """Write the state file only if no cluster of this name has one (under the host lock)."""
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self.state_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise name_taken(self.name) from None
        os.close(fd)
        self.save()

    @staticmethod
    def state_dir_path(name: str) -> Path:
        return state_dir() / f"{name}.json"

    @classmethod
    def load(cls, name: str) -> Cluster:
        path = state_dir() / f"{name}.json"
        if not path.exists():
            known = ", ".join(sorted(p.stem for p in state_dir().glob("*.json"))) or "none"
            raise UsageError(f"no cluster named {name!r}", fix=f"see `kube-harness list` (known: {known})")
        doc = json.loads(path.read_text())
        doc["nodes"] = [NodeInfo(**{k: v for k, v in n.items() if k != "access"}) for n in doc.get("nodes", [])]
        doc.setdefault("pid", 0)
        return cls(**doc)

    @classmethod
    def all(cls) -> list[Cluster]:
        return [cls.load(p.stem) for p in sorted(state_dir().glob("*.json"))]
