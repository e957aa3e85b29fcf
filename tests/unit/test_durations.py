"""harness.pytest_plugin.durations: what the scheduler learns of test durations between sessions."""

from __future__ import annotations

from typing import Any

import pytest

from harness.pytest_plugin.durations import CLUSTER_WAIT, KEY, Recorder, load, weights

pytestmark = pytest.mark.unit


class FakeCache:
    def __init__(self, data: dict[str, Any] | None = None) -> None:
        self.data = dict(data or {})

    def get(self, key: str, default: Any) -> Any:
        return self.data.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self.data[key] = value


class Report:
    def __init__(self, nodeid: str, when: str, duration: float, outcome: str = "passed",
                 props: list[tuple[str, object]] | None = None) -> None:  # fmt: skip
        self.nodeid, self.when, self.duration, self.outcome = nodeid, when, duration, outcome
        self.user_properties = props or []
        self.passed, self.failed, self.skipped = (outcome == o for o in ("passed", "failed", "skipped"))


def run(recorder: Recorder, nodeid: str, setup: float, call: float, teardown: float, **kw: Any) -> None:
    props = kw.get("props")
    recorder.pytest_runtest_logreport(Report(nodeid, "setup", setup, props=props))
    recorder.pytest_runtest_logreport(Report(nodeid, "call", call, kw.get("outcome", "passed"), props))
    recorder.pytest_runtest_logreport(Report(nodeid, "teardown", teardown, props=props))


def test_a_test_counts_setup_call_and_teardown_less_its_wait_for_the_cluster() -> None:
    cache = FakeCache({KEY: {"t::old": 4.0, "t::a": 99.0}})
    recorder = Recorder(cache, lambda: ["t::a", "t::b", "t::first"])
    run(recorder, "t::a", 1.0, 2.0, 0.5)
    run(recorder, "t::first", 31.0, 1.0, 0.25, props=[(CLUSTER_WAIT, 30.0)])
    run(recorder, "t::b", 1.0, 2.0, 0.5, outcome="failed")  # a failure says nothing of its length
    run(recorder, "t::unplanned", 1.0, 2.0, 0.5)  # no shared cluster: the scheduler never asks
    recorder.pytest_sessionfinish()
    assert cache.data[KEY] == {"t::old": 4.0, "t::a": 3.5, "t::first": 2.25}


def test_nothing_seen_writes_nothing() -> None:
    cache = FakeCache()
    Recorder(cache, lambda: ["t::a"]).pytest_sessionfinish()
    assert cache.data == {}


def test_load_tolerates_no_cache_and_junk() -> None:
    assert load(None) == {}
    assert load(FakeCache({KEY: ["junk"]})) == {}
    assert load(FakeCache({KEY: {"t::a": 2, "t::b": "x"}})) == {"t::a": 2.0}


def test_unknown_tests_weigh_the_mean_of_the_known() -> None:
    assert weights({}, ["t::a"]) == {}
    assert weights({"t::a": 2.0, "t::b": 4.0, "t::gone": 100.0}, ["t::a", "t::b", "t::new"]) == {
        "t::a": 2.0, "t::b": 4.0, "t::new": 3.0}  # fmt: skip
