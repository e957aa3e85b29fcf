"""harness.pytest_plugin.sharing.Registry: one cluster per key across workers, released after its
last test."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cluster import Cluster
from harness.pytest_plugin.sharing import Registry, SharedCreateFailed

pytestmark = pytest.mark.unit


def maker(made: list[str], name: str = "kh-a") -> Cluster:
    made.append(name)
    return Cluster(name=name, provider="kind", run_id="r")


def test_first_worker_creates_the_others_attach(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Cluster, "load", classmethod(lambda cls, name: Cluster(name=name, provider="kind", run_id="r")))
    registry, made = Registry(tmp_path), list[str]()
    assert registry.acquire("k", "gw0", lambda: maker(made)).name == "kh-a"
    assert registry.acquire("k", "gw1", lambda: maker(made, "kh-b")).name == "kh-a"
    assert made == ["kh-a"] and registry.names() == ["kh-a"]


def test_failed_create_is_recorded_for_the_others(tmp_path: Path) -> None:
    registry = Registry(tmp_path)

    def boom() -> Cluster:
        raise RuntimeError("no docker")

    with pytest.raises(RuntimeError):
        registry.acquire("k", "gw0", boom)
    with pytest.raises(SharedCreateFailed, match="no docker"):
        registry.acquire("k", "gw1", boom)


def test_released_after_the_last_of_its_tests(tmp_path: Path) -> None:
    registry, made = Registry(tmp_path), list[str]()
    registry.acquire("k", "gw0", lambda: maker(made))
    assert registry.finished("k", "t1", total=2) is None
    assert registry.finished("k", "t1", total=2) is None  # the same test twice counts once
    assert registry.finished("k", "t2", total=2) == "kh-a"
    assert registry.names() == []  # the session's end leaves it to the releasing worker
    assert registry.finished("k", "t3", total=2) is None  # released once only


def test_a_released_cluster_is_made_again_when_asked_for(tmp_path: Path) -> None:
    registry, made = Registry(tmp_path), list[str]()
    registry.acquire("k", "gw0", lambda: maker(made))
    registry.finished("k", "t1", total=1)
    assert registry.acquire("k", "gw1", lambda: maker(made, "kh-b")).name == "kh-b"
    assert made == ["kh-a", "kh-b"] and registry.names() == ["kh-b"]


def test_unknown_or_failed_cluster_is_never_released(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    assert registry.finished("nope", "t1", total=1) is None


def test_private_cluster_names_differ_between_sessions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two pytest sessions running the same disruptive test at once never pick the same name."""
    from harness.lifecycle import NAME_RE
    from harness.pytest_plugin.fixtures import _private_name

    nodeid = "scenarios/test_failover.py::test_killed_worker_is_evicted_and_comes_back"
    names = []
    for session in ("aaaa1111", "bbbb2222"):
        monkeypatch.setenv("KUBE_HARNESS_SESSION", session)
        names.append(_private_name(nodeid))
    assert names[0] != names[1]
    assert all(NAME_RE.fullmatch(n) for n in names)
    monkeypatch.setenv("KUBE_HARNESS_SESSION", "aaaa1111")
    assert _private_name(nodeid) == names[0], "stable within a session"
