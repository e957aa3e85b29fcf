"""harness.scenarios.probeset: one probe set per cluster and session, shared by the xdist workers;
the last user deletes its namespace. And the plugin's session directory going away at the end."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from harness.cluster import Cluster
from harness.pytest_plugin import session
from harness.scenarios.probes import Probes
from harness.scenarios.probeset import ProbeSets

pytestmark = pytest.mark.unit


class FakeCluster(Cluster):
    """Records kubectl calls instead of running them."""

    calls: list[tuple[str, ...]]

    def kubectl(self, *args: str, input: str | None = None, check: bool = True) -> str:
        self.calls.append(args)
        return ""


@pytest.fixture  # not named ``cluster``: the plugin would take these for cluster tests and build the image
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeCluster:
    deployed: list[str] = []

    def deploy(cls: type[Probes], kube: Any, namespace: str, nodes: list[str], extra: int = 1) -> Probes:
        deployed.append(namespace)
        return Probes(kube, namespace)

    monkeypatch.setattr(Probes, "deploy", classmethod(deploy))
    c = FakeCluster(name="kh-a", provider="kind", run_id="r")
    c.calls = []
    c.save()  # the cluster is up: its state file exists
    return c


def deletes(c: FakeCluster) -> list[str]:
    return [args[2] for args in c.calls if args[:2] == ("delete", "namespace")]


def test_workers_of_a_session_share_one_namespace(tmp_path: Path, fake: FakeCluster) -> None:
    gw0, gw1 = ProbeSets(tmp_path, "s1", pid=1), ProbeSets(tmp_path, "s1", pid=2)
    a = gw0.get(fake, "probes", ["n1"], extra=1)
    b = gw1.get(fake, "probes", ["n1"], extra=1)
    assert a.namespace == b.namespace == "kh-probes-s1"
    assert gw0.get(fake, "probes", ["n1"], extra=1) is a  # once per process


def test_the_last_worker_out_deletes_the_namespace(tmp_path: Path, fake: FakeCluster) -> None:
    gw0, gw1 = ProbeSets(tmp_path, "s1", pid=1), ProbeSets(tmp_path, "s1", pid=2)
    gw0.get(fake, "probes", ["n1"], extra=1)
    gw1.get(fake, "probes", ["n1"], extra=1)
    gw0.release()
    assert deletes(fake) == []
    gw1.release()
    assert deletes(fake) == ["kh-probes-s1"]


def test_no_delete_when_the_cluster_went_first(tmp_path: Path, fake: FakeCluster) -> None:
    gw0 = ProbeSets(tmp_path, "s1", pid=1)
    gw0.get(fake, "others", ["n1"], extra=0)
    fake.forget()  # released after its last test
    gw0.release()
    assert deletes(fake) == []


def test_sessions_on_one_kept_cluster_do_not_share(tmp_path: Path, fake: FakeCluster) -> None:
    one, two = ProbeSets(tmp_path / "a", "s1"), ProbeSets(tmp_path / "b", "s2")
    assert one.get(fake, "probes", ["n1"], 1).namespace != two.get(fake, "probes", ["n1"], 1).namespace


def test_session_dir_is_removed_and_env_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(session.SESSION_ENV, "outer")
    monkeypatch.setenv(session.SESSION_DIR_ENV, "/nonexistent/outer")
    before = session.start_session()
    inner = session.session_dir()
    inner.mkdir(parents=True)
    (inner / "kube-harness-clusters.json").write_text("{}")
    session.end_session(before)
    assert not inner.exists()
    assert os.environ[session.SESSION_ENV] == "outer" and session.session_dir() == Path("/nonexistent/outer")
