"""Cluster-aware xdist scheduling for ``--dist load`` (the default of ``pytest -n N``).

xdist hands tests out in collection order. The plugin makes every shared cluster of the session
ahead of need, side by side (see ``_shared_clusters``), so under plain ``load`` scheduling a cluster
that the collection wants last sits ready and idle, burning CPU, until the tests reach it, and the
other clusters' tests run slower meanwhile. Here, each time xdist sends a worker more tests, the
tests that want a shared cluster are reordered among themselves: those of a cluster that is up
first, the cluster with the fewest tests left first, so it is used as soon as it is ready and
released after its last test, and a cluster's longest tests first (``durations``: as long as
they took last time), so no long test is left to run alone at the end; then the others, cluster by
cluster, longest first. Tests that want no shared cluster (unit tests, private clusters,
``disruptive`` tests) keep their places.

While the next test to send wants a shared cluster, a worker holds at most two tests: the one it
runs and the next (a pytest worker needs the next item to finish the current one). xdist's own
chunks (a quarter of a worker's share at first) would commit a worker to a run of tests picked
before the clusters came up, and the longest ones to one worker; short queues let every send choose.

Which test wants which cluster (the plan) and which clusters are up come from the session's
registry (``harness.pytest_plugin.sharing``), written by the workers. Any other ``--dist`` mode is
left to xdist.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from harness.pytest_plugin.durations import weights
from harness.pytest_plugin.sharing import Registry


def order(
    pending: list[int], collection: Sequence[str], plan: dict[str, str], ready: set[str],
    weight: dict[str, float] | None = None,
) -> list[int]:  # fmt: skip
    """``pending`` (indices into ``collection``) with the shared-cluster tests reordered in their
    own places: ready clusters' tests first (fewest tests left first), then the others cluster by
    cluster (in order of first appearance); within a cluster the heaviest ``weight`` first."""
    slots = [n for n, i in enumerate(pending) if collection[i] in plan]
    if not slots or not (ready or weight):
        return pending
    weight = weight or {}
    left = Counter(plan[collection[pending[n]]] for n in slots)
    first: dict[str, int] = {}
    for n in slots:
        first.setdefault(plan[collection[pending[n]]], n)

    def rank(i: int) -> tuple[int, int, str, float]:
        key, heavy = plan[collection[i]], -weight.get(collection[i], 0.0)
        return (0, left[key], key, heavy) if key in ready else (1, first[key], key, heavy)

    moved = sorted((pending[n] for n in slots), key=rank)  # stable: collection order within a rank
    out = list(pending)
    for n, i in zip(slots, moved, strict=True):
        out[n] = i
    return out


HELD = 2  # tests a worker holds while shared-cluster tests wait: the running one and the next


def allowance(num: int, held: int, wants_cluster: bool) -> int:
    """How many of the ``num`` tests xdist would send a worker holding ``held`` to send now."""
    return max(0, min(num, HELD - held)) if wants_cluster else num


def make_scheduler(config: Any, log: Any, registry: Registry, durations: dict[str, float] | None = None) -> Any:
    """A ``LoadScheduling`` that reorders before each send (``durations``: node id -> seconds
    from earlier sessions); None (xdist's own) if this xdist has no ``LoadScheduling._send_tests``
    to hook into."""
    try:
        from xdist.scheduler import LoadScheduling
    except ImportError:  # pragma: no cover - the hook is only called by xdist
        return None
    if not callable(getattr(LoadScheduling, "_send_tests", None)):
        return None

    class ClusterAwareScheduling(LoadScheduling):
        def _send_tests(self, node: Any, num: int) -> None:
            if self.collection and self.pending:
                plan = registry.plan()
                weight = weights(durations or {}, plan)
                self.pending[:] = order(self.pending, self.collection, plan, registry.ready(), weight)
                num = allowance(num, len(self.node2pending[node]), self.collection[self.pending[0]] in plan)
            super()._send_tests(node, num)

    return ClusterAwareScheduling(config, log)
