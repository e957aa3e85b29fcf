"""Cluster-aware xdist scheduling for ``--dist load`` (the default of ``pytest -n N``).

xdist hands tests out in collection order. The plugin makes every shared cluster of the session
ahead of need, side by side (see ``_shared_clusters``), so under plain ``load`` scheduling a cluster
that the collection wants last sits ready and idle, burning CPU, until the tests reach it, and the
other clusters' tests run slower meanwhile. Here, each time xdist sends a worker more tests, the
tests that want a shared cluster are reordered among themselves: those of a cluster that is up
first, the cluster with the fewest tests left first, so it is used as soon as it is ready and
released after its last test; then the others in collection order. Tests that want no shared
cluster (unit tests, private clusters, ``disruptive`` tests) keep their places.

Which test wants which cluster (the plan) and which clusters are up come from the session's
registry (``harness.pytest_plugin.sharing``), written by the workers. Any other ``--dist`` mode is
left to xdist.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from harness.pytest_plugin.sharing import Registry


def order(pending: list[int], collection: Sequence[str], plan: dict[str, str], ready: set[str]) -> list[int]:
    """``pending`` (indices into ``collection``) with the shared-cluster tests reordered in their
    own places: ready clusters' tests first (fewest tests left first), then the rest as they were."""
    slots = [n for n, i in enumerate(pending) if collection[i] in plan]
    if not slots or not ready:
        return pending
    left = Counter(plan[collection[pending[n]]] for n in slots)

    def rank(i: int) -> tuple[int, int]:
        key = plan[collection[i]]
        return (0, left[key]) if key in ready else (1, 0)

    moved = sorted((pending[n] for n in slots), key=rank)  # stable: collection order within a rank
    out = list(pending)
    for n, i in zip(slots, moved, strict=True):
        out[n] = i
    return out


def make_scheduler(config: Any, log: Any, registry: Registry) -> Any:
    """A ``LoadScheduling`` that reorders before each send; None (xdist's own) if this xdist has
    no ``LoadScheduling._send_tests`` to hook into."""
    try:
        from xdist.scheduler import LoadScheduling
    except ImportError:  # pragma: no cover - the hook is only called by xdist
        return None
    if not callable(getattr(LoadScheduling, "_send_tests", None)):
        return None

    class ClusterAwareScheduling(LoadScheduling):
        def _send_tests(self, node: Any, num: int) -> None:
            if self.collection and self.pending:
                self.pending[:] = order(self.pending, self.collection, registry.plan(), registry.ready())
            super()._send_tests(node, num)

    return ClusterAwareScheduling(config, log)
