"""The typed state one cluster's bring-up phases share (instead of a dict of guesses)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.cluster import Cluster
    from harness.phases.engine import Context
    from harness.providers.base import Provider


@dataclass
class BringUp:
    cluster: Cluster
    spec: Any  # harness.spec.ClusterSpec
    provider: Provider
    kubeconfig: Path | None = None  # the existing provider: the kubeconfig it was given
    image: str = ""  # the node image container nodes boot
    box: str = ""  # the vagrant box VM nodes boot
    endpoint: str = ""  # host:port of the API as nodes and pods reach it
    token: str = ""  # the bootstrap token (registered with the redactor when made)
    certificate_key: str = ""  # the key of the uploaded control-plane certificates
    ca_hash: str = ""  # sha256:<hex> of the cluster CA's public key, for join discovery
    ca_data: str = ""  # the cluster CA certificate, base64 PEM, for file discovery
    started: bool = False  # the provider's own tool (kind) ran: what it made under the name is ours


def bringup(ctx: Context) -> BringUp:
    """The state of the run a phase belongs to."""
    state = ctx.state
    if not isinstance(state, BringUp):
        raise TypeError(f"phase context holds {type(state).__name__}, not a BringUp")
    return state


def record_discovery(ctx: Context, mode: str, how: str = "the spec's join_discovery") -> None:
    """Put how nodes join (learn the cluster CA) in the run record; an unpinned join as insecure."""
    if len(bringup(ctx).cluster.nodes) < 2:
        return  # nothing joins
    ctx.record.join_discovery = mode
    if mode == "unsafe":
        ctx.record.insecure.append(f"nodes joined without checking the cluster CA against a pinned hash "
                                   f"(unsafeSkipCAVerification: {how})")  # fmt: skip


def forget_after(cluster: Cluster, remove: Callable[[], list[str]]) -> list[str]:
    """Run ``remove``; then forget the cluster's state (if it is still this run's). When something
    could not be removed the state stays, marked ``failed`` with the leftovers, and the error goes on."""
    from harness.errors import CleanupError

    try:
        gone = remove()
    except CleanupError as exc:
        cluster.status, cluster.leftovers = "failed", exc.leftovers
        cluster.save_if_mine()
        raise
    cluster.forget_if_mine()
    return gone
