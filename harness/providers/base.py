"""The small interfaces everything above providers talks through (kind's ``nodes.Node`` and
``providers.Provider``).

A ``Node`` runs commands (``node.command(...)`` returns a ``Cmd`` to run), reads and writes files,
says its IP and console, and is powered off, killed, paused, resumed and rebooted by its backend.
The kubeadm flow, faults, scenarios, the CLI and gc use nothing else, so they work the same on a
container and on a VM over SSH. A ``Provider`` validates a spec, plans the phases that make its
nodes and bootstrap them, finds and deletes its clusters, and turns a recorded node into a ``Node``.
Providers are looked up by name in ``harness.providers.registry``.
"""

from __future__ import annotations

import contextlib
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from harness.exec import Cmd, Result

if TYPE_CHECKING:
    from harness.cluster import Cluster, NodeInfo
    from harness.phases.engine import Phase

LABEL_PREFIX = "kube-harness.io"
LABEL_CLUSTER = f"{LABEL_PREFIX}/cluster"
LABEL_RUN = f"{LABEL_PREFIX}/run"
LABEL_WORKER = f"{LABEL_PREFIX}/worker"
LABEL_ROLE = f"{LABEL_PREFIX}/role"
LABEL_PID = f"{LABEL_PREFIX}/pid"
LABEL_SESSION = f"{LABEL_PREFIX}/session"  # the pytest session (shared by its xdist workers)
LABEL_KEEP = f"{LABEL_PREFIX}/keep"  # "true": kept until `kube-harness delete`; gc never removes it
LABEL_PROVIDER = f"{LABEL_PREFIX}/provider"
KIND_CLUSTER_LABEL = "io.x-k8s.kind.cluster"  # kind's own label on its node containers

CONTROL_PLANE = "control-plane"
WORKER = "worker"
LOAD_BALANCER = "load-balancer"


def node_names(cluster: str, control_planes: int, workers: int) -> list[tuple[str, str]]:
    """kind's naming, for every provider: <c>-control-plane, <c>-control-plane2, ..., <c>-worker, ..."""

    def numbered(role: str, count: int) -> list[tuple[str, str]]:
        return [(f"{cluster}-{role}{'' if i == 1 else i}", role) for i in range(1, count + 1)]

    return numbered(CONTROL_PLANE, control_planes) + numbered(WORKER, workers)


def labels(cluster: str, run_id: str, role: str | None = None, keep: bool = False, provider: str | None = None,
           owner: dict[str, str] | None = None) -> dict[str, str]:  # fmt: skip
    """Labels every resource of a cluster carries. ``owner``: what the caller says about who made
    it (the creating pid, the pytest session and xdist worker): providers never guess it."""
    out = {LABEL_CLUSTER: cluster, LABEL_RUN: run_id, **(owner or {})}
    if keep:
        out[LABEL_KEEP] = "true"
    if provider:
        out[LABEL_PROVIDER] = provider
    if role:
        out[LABEL_ROLE] = role
    return out


@runtime_checkable
class Node(Protocol):
    name: str
    role: str

    @property
    def interface(self) -> str:
        """The NIC on the cluster network (network faults drop traffic on it)."""
        ...

    def command(self, *argv: str, input: str | None = None, timeout: float | None = None) -> Cmd:
        """A command to run on the node (as root)."""
        ...

    def exec(self, *argv: str, input: str | None = None, timeout: float | None = None) -> Result:
        """``command(...).run()``: the result, or CommandError on a non-zero exit."""
        ...

    def write_file(self, dest: str, content: str, mode: str = "0644") -> None: ...

    def read_file(self, path: str) -> str: ...

    def copy_to(self, src: Path, dest: str) -> None: ...

    def copy_from(self, src: str, dest: Path) -> None: ...

    def ip(self) -> str: ...

    def logs(self) -> str:
        """The node's console output (container logs, VM serial console)."""
        ...

    def interactive(self, *argv: str) -> list[str]:
        """The host command line that runs ``argv`` on the node with a terminal (``shell``)."""
        ...

    # -- power (faults): each keeps the node's addresses ----------------------------------------
    def stop(self) -> None:
        """A clean shutdown."""
        ...

    def kill(self) -> None:
        """Power cut."""
        ...

    def start(self) -> None:
        """Power on (nothing if it runs)."""
        ...

    def pause(self) -> None:
        """Freeze every process of the node."""
        ...

    def resume(self) -> None:
        """Thaw a paused node (nothing if it is not paused)."""
        ...

    def reboot(self) -> None:
        """Restart the node and return once it powers on (the caller waits for systemd)."""
        ...


class NodeBase:
    """What every node implements through ``command``: exec, files, the default interactive line."""

    name: str
    interface: str = "eth0"

    def command(self, *argv: str, input: str | None = None, timeout: float | None = None) -> Cmd:
        raise NotImplementedError

    def exec(self, *argv: str, input: str | None = None, timeout: float | None = None) -> Result:
        return self.command(*argv, input=input, timeout=timeout).run()

    def write_file(self, dest: str, content: str, mode: str = "0644") -> None:
        """Write ``content`` to ``dest`` on the node (through stdin, no temp files)."""
        path = shlex.quote(dest)
        script = (
            f'mkdir -p "$(dirname {path})" && (umask 077 && cat > {path}) && chmod {mode} {path}'  # private until chmod
        )
        self.command("sh", "-c", script, input=content).run()

    def read_file(self, path: str) -> str:
        return self.command("cat", path).run().stdout

    def stop(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        raise NotImplementedError

    def reboot(self) -> None:
        """A clean shutdown and power on (addresses kept)."""
        self.stop()
        self.start()

    def __str__(self) -> str:
        return self.name


@runtime_checkable
class Provider(Protocol):
    name: str
    node_access: bool  # nodes take commands (false: a cluster reached through its kubeconfig only)
    makes_resources: bool  # it makes what it deletes (false: it only records a cluster made elsewhere)
    options: tuple[str, ...]  # keyword options its constructor takes (see registry.OPTIONS)

    def validate(self, spec: Any) -> None:
        """Everything about the spec and the host checkable before anything exists (UsageError)."""
        ...

    def plan(self, spec: Any, cluster: str) -> list[Phase]:
        """The phases that make the cluster (cleanup phases included) on a ``BringUp`` state."""
        ...

    def delete(self, cluster: str, run: str | None = None) -> list[str]:
        """Remove every resource of the cluster (of run ``run`` only, if given); idempotent; what
        went, as lines. CleanupError names what could not be removed."""
        ...

    def clusters(self) -> dict[str, dict[str, str]]:
        """The clusters this backend holds resources of: name -> their labels."""
        ...

    def name_taken(self, cluster: str) -> bool:
        """Something of this backend already uses the name (ours or not)."""
        ...

    def node(self, info: NodeInfo) -> Node:
        """The node a cluster's state recorded."""
        ...

    def spare_node(self, cluster: Cluster, name: str | None = None) -> contextlib.AbstractContextManager[Node]:
        """A booted node on the cluster's network from its image, not joined; removed afterwards."""
        ...

    def background(self, cluster: str, until: Callable[[], bool]) -> contextlib.AbstractContextManager[None]:
        """While making the cluster: give its nodes a small CPU share until ``until()`` (or ready)."""
        ...

    def timeout_scale(self, cluster: Cluster) -> float:
        """How many times slower than a node container this cluster's nodes start pods (VMs under
        QEMU TCG: 4): waits on pods and nodes multiply their timeouts by it, never their targets."""
        ...


@dataclass(frozen=True)
class NodeNetwork:
    """The L2 network a provider's nodes sit on, as another backend's machines can join it."""

    bridge: str  # the host's bridge device
    subnet: str  # CIDR
    gateway: str  # the host's address on it


@runtime_checkable
class Machines(Protocol):
    """A provider whose machines another provider can borrow (VM workers beside container
    control planes): it makes named nodes on the cluster's network and removes them with the rest."""

    def make(self, cluster: Cluster, nodes: list[tuple[str, str]], image: str) -> list[NodeInfo]:
        """The cluster's network (if not there yet) and one booted node per (name, role)."""
        ...

    def network(self, cluster: str) -> NodeNetwork: ...

    def load_balancer(self, cluster: Cluster, control_planes: list[NodeInfo]) -> NodeInfo:
        """The API load balancer of an HA cluster, in front of ``control_planes``, on the network."""
        ...

    def node(self, info: NodeInfo) -> Node: ...

    def delete(self, cluster: str, run: str | None = None) -> list[str]: ...


class ProviderBase:
    """Defaults for providers: no options, nothing held, no spare nodes, no CPU shares."""

    name = ""
    backend = ""  # providers sharing a backend (its clusters, its names) say so: it is asked once
    node_access = True
    makes_resources = True
    options: tuple[str, ...] = ()

    def validate(self, spec: Any) -> None:
        return None

    def clusters(self) -> dict[str, dict[str, str]]:
        return {}

    def name_taken(self, cluster: str) -> bool:
        return cluster in self.clusters()

    def spare_node(self, cluster: Cluster, name: str | None = None) -> contextlib.AbstractContextManager[Node]:
        raise NotImplementedError(f"the {self.name} provider makes no spare nodes")

    @contextlib.contextmanager
    def background(self, cluster: str, until: Callable[[], bool]) -> Iterator[None]:
        yield

    def timeout_scale(self, cluster: Cluster) -> float:
        return 1.0
