"""The small interfaces everything above providers talks through (kind's lesson).

A ``Node`` runs commands (``node.command(...)`` returns a ``Cmd`` to run), copies files and says
its IP, role and logs; phases and faults use nothing else, so they work the same on a container
and, later, on a VM over SSH. A ``Provider`` makes and removes the nodes of a cluster.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol, runtime_checkable

from harness.exec import Cmd, Result

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


def xdist_worker() -> str:
    """The pytest-xdist worker id (gw0, gw1, ...) or ``main`` outside xdist."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def labels(cluster: str, run_id: str, role: str | None = None, keep: bool = False,
           provider: str | None = None) -> dict[str, str]:  # fmt: skip
    """Labels every container, network and volume of a cluster carries (``keep``: a kept cluster)."""
    out = {LABEL_CLUSTER: cluster, LABEL_RUN: run_id, LABEL_WORKER: xdist_worker(), LABEL_PID: str(os.getpid())}
    if keep:
        out[LABEL_KEEP] = "true"
    if provider:
        out[LABEL_PROVIDER] = provider
    if session := os.environ.get("KUBE_HARNESS_SESSION"):
        out[LABEL_SESSION] = session
    if role:
        out[LABEL_ROLE] = role
    return out


@runtime_checkable
class Node(Protocol):
    name: str
    role: str

    def command(self, *argv: str, input: str | None = None, timeout: float | None = None) -> Cmd:
        """A command to run on the node (as root)."""
        ...

    def exec(self, *argv: str, input: str | None = None, timeout: float | None = None) -> Result:
        """``command(...).run()``: the result, or CommandError on a non-zero exit."""
        ...

    def copy_to(self, src: Path, dest: str) -> None: ...

    def copy_from(self, src: str, dest: Path) -> None: ...

    def ip(self) -> str: ...

    def logs(self) -> str:
        """The node's console output (container logs, VM serial console)."""
        ...


class Provider(Protocol):
    name: str

    def nodes(self, cluster: str) -> list[Node]: ...

    def delete(self, cluster: str) -> None:
        """Remove every resource of the cluster (idempotent)."""
        ...

    def clusters(self) -> list[str]: ...
