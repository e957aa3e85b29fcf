"""harness.pytest_plugin.scheduling: shared clusters' tests as their clusters come up (pure logic
and the LoadScheduling hook; the xdist sessions themselves run in tests/plugin)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.pytest_plugin.scheduling import allowance, make_scheduler, order
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


def test_longest_first_within_a_cluster() -> None:
    weight = {"d0": 1.0, "d1": 9.0, "d2": 5.0, "d3": 1.0, "v0": 2.0, "v1": 7.0}
    assert names(order(PENDING, COLLECTION, PLAN, {"D"}, weight)) == ["u0", "d1", "d2", "u1", "d0", "d3", "v1", "v0"]
    # nothing up yet: cluster by cluster in order of first appearance, each longest first
    assert names(order(PENDING, COLLECTION, PLAN, set(), weight)) == ["u0", "d1", "d2", "u1", "d0", "d3", "v1", "v0"]
    assert names(order(PENDING, COLLECTION, PLAN, {"V"}, weight)) == ["u0", "v1", "v0", "u1", "d1", "d2", "d0", "d3"]


def test_a_worker_holds_two_tests_while_cluster_tests_wait() -> None:
    assert [allowance(5, held, True) for held in (0, 1, 2, 3)] == [2, 1, 0, 0]
    assert [allowance(5, held, False) for held in (0, 2, 3)] == [5, 5, 5]  # unit tests: xdist's chunks


def test_scheduler_reorders_before_each_send(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    registry.set_plan(PLAN)
    sched = make_scheduler(FakeConfig(), None, registry)
    node = FakeNode()
    sched.node2pending[node] = []
    sched.collection, sched.pending = list(COLLECTION), list(PENDING)
    sched._send_tests(node, 2)  # nothing up yet: collection order
    registry._update("V", {"name": "kh-v", "users": ["gw1"]})
    sched._send_tests(node, 3)  # the worker holds two and the next test wants a cluster: none sent
    assert names(node.sent) == ["u0", "d0"]
    sched.node2pending[node][:] = []  # both ran
    sched._send_tests(node, 3)
    assert names(node.sent) == ["u0", "d0", "v0", "u1"]
    registry._update("V", {"name": "kh-v", "users": ["gw1"], "released": True})
    assert registry.ready() == set()


def test_scheduler_sends_the_longest_known_first(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    registry.set_plan(PLAN)
    sched = make_scheduler(FakeConfig(), None, registry, {"d2": 30.0, "d3": 3.0})  # d0, d1: the mean
    node = FakeNode()
    sched.node2pending[node] = []
    sched.collection, sched.pending = list(COLLECTION), list(PENDING)
    registry._update("D", {"name": "kh-d", "users": ["gw0"]})
    registry._update("V", {"name": "kh-v", "users": ["gw1"]})
    sched._send_tests(node, 2)
    assert names(node.sent) == ["u0", "v0"]  # V has fewer tests left
    sched.node2pending[node][:] = []
    sched._send_tests(node, 2)
    sched.node2pending[node][:] = []
    sched._send_tests(node, 2)
    assert names(node.sent) == ["u0", "v0", "v1", "u1", "d2", "d0"]
