"""How long each shared-cluster test took last time, for the xdist scheduler's longest-first order.

xdist knows nothing of test durations, so with plain ``load`` scheduling a long test collected last
runs alone at the end while the other worker has finished. The controller (or pytest without
xdist) records the duration of every passing test that used a shared cluster (setup, call and
teardown, less the time its ``cluster`` fixture waited for the cluster to come up: the
``kube_harness_cluster_wait`` user property, which only says which test came first) and merges it
into pytest's cache (``.pytest_cache``, key ``kube-harness/durations``); the next session's
scheduler sends a cluster's longest tests first. Tests never seen yet count as the mean of those
known. Without the cache (``-p no:cacheprovider``) or after ``--cache-clear`` the order is the
collection order: only the hint is lost.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

KEY = "kube-harness/durations"
CLUSTER_WAIT = "kube_harness_cluster_wait"


def load(cache: Any) -> dict[str, float]:
    """Node id -> seconds from earlier sessions ({} without a cache or a readable entry)."""
    data = cache.get(KEY, {}) if cache is not None else {}
    if not isinstance(data, dict):
        return {}
    return {str(k): float(v) for k, v in data.items() if isinstance(v, int | float)}


def weights(durations: dict[str, float], nodeids: Iterable[str]) -> dict[str, float]:
    """Duration of each node id, the mean of the known ones for a test not seen before ({} when
    none is known)."""
    ids = list(nodeids)
    known = [durations[i] for i in ids if i in durations]
    if not known:
        return {}
    default = sum(known) / len(known)
    return {i: durations.get(i, default) for i in ids}


class Recorder:
    """Registered by the plugin in the controller (or in pytest without xdist) when pytest's cache
    is on: records how long every passing test took and, at the end, merges those of the tests in
    ``planned()`` into the cache."""

    def __init__(self, cache: Any, planned: Callable[[], Iterable[str]]) -> None:
        self.cache, self.planned = cache, planned
        self.seen: dict[str, float] = {}
        self.running: dict[str, tuple[float, bool]] = {}  # node id -> (seconds so far, no failure)

    def pytest_runtest_logreport(self, report: Any) -> None:
        total, ok = self.running.pop(report.nodeid, (0.0, True))
        total, ok = total + report.duration, ok and not (report.failed or report.skipped)
        if report.when != "teardown":
            self.running[report.nodeid] = (total, ok)
        elif ok:
            waited = sum(float(v) for k, v in report.user_properties if k == CLUSTER_WAIT)
            self.seen[report.nodeid] = round(max(0.0, total - waited), 2)

    def pytest_sessionfinish(self) -> None:
        planned = set(self.planned())
        kept = {k: v for k, v in self.seen.items() if k in planned}
        if kept:
            self.cache.set(KEY, {**load(self.cache), **kept})
