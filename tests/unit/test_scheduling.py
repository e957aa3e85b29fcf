"""harness.pytest_plugin.scheduling: shared clusters' tests as their clusters come up (pure logic
and the LoadScheduling hook; the xdist sessions themselves run in tests/plugin)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.pytest_plugin.scheduling import make_scheduler, order
from harness.pytest_plugin.sharing import Registry

pytestmark = pytest.mark.unit

# u*: no shared cluster; d*: the default cluster (4 tests); v*: a variant cluster (2 tests)
COLLECTION = ["u0", "d0", "d1", "u1", "d2", "d3", "v0", "v1"]
PLAN = {"d0": "D", "d1": "D", "d2": "D", "d3": "D", "v0": "V", "v1": "V"}
PENDING = list(range(len(COLLECTION)))


def names(pending: list[int]) -> list[str]:
    return [COLLECTION[i] for i in pending]


def test_nothing_up_keeps_collection_order() -> None:
    assert order(PENDING, COLLECTION, PLAN, set()) == PENDING
    assert order(PENDING, COLLECTION, {}, {"D"}) == PENDING


def test_the_cluster_that_is_up_goes_first_in_the_cluster_tests_places() -> None:
    assert names(order(PENDING, COLLECTION, PLAN, {"V"})) == ["u0", "v0", "v1", "u1", "d0", "d1", "d2", "d3"]


def test_of_two_clusters_up_the_one_with_fewer_tests_left_first() -> None:
    assert names(order(PENDING, COLLECTION, PLAN, {"D", "V"})) == ["u0", "v0", "v1", "u1", "d0", "d1", "d2", "d3"]
    pending = [0, 1, 2, 3, 4, 5, 7, 6]  # v0 re-queued (its worker went away): V's order is kept
    assert names(order(pending, COLLECTION, PLAN, {"D"})) == ["u0", "d0", "d1", "u1", "d2", "d3", "v1", "v0"]


class FakeConfig:
    def getvalue(self, name: str) -> Any:
        return ["2*popen"] if name == "tx" else None

    def getoption(self, name: str) -> Any:
        return None


class FakeNode:
    def __init__(self) -> None:
        self.sent: list[int] = []
        self.shutting_down = False

    def send_runtest_some(self, indices: list[int]) -> None:
        self.sent += indices


def test_scheduler_reorders_before_each_send(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    registry.set_plan(PLAN)
    sched = make_scheduler(FakeConfig(), None, registry)
    node = FakeNode()
    sched.node2pending[node] = []
    sched.collection, sched.pending = list(COLLECTION), list(PENDING)
    sched._send_tests(node, 2)  # nothing up yet: collection order
    registry._update("V", {"name": "kh-v", "users": ["gw1"]})
    sched._send_tests(node, 3)
    assert names(node.sent) == ["u0", "d0", "v0", "u1", "v1"]
    registry._update("V", {"name": "kh-v", "users": ["gw1"], "released": True})
    assert registry.ready() == set()
