"""Session reporting logic: events, observations, timelines, phase cases, the session record, HTML."""

from __future__ import annotations

import threading
from dataclasses import asdict
from pathlib import Path
from types import SimpleNamespace as NS

import pytest

from harness.faults.base import Fault
from harness.reporting import cases, events, observe, timeline
from harness.reporting.record import PhaseRecord, RunRecord, StepRecord
from harness.reporting.session import SessionRecord, TestRecord, find, note_run, session_runs, suite_properties

pytestmark = pytest.mark.unit
T = 1_800_000_000.0


def test_journal_collects_events_from_any_thread_and_nothing_outside_it() -> None:
    events.emit("fault", fault="lost")  # no journal open: dropped
    with events.journal() as got:
        worker = threading.Thread(target=events.emit, args=("node",), kwargs={"node": "w1", "ready": "false"})
        worker.start()
        worker.join()
        events.emit("pod", pod="ns/a")
    assert [e["type"] for e in got] == ["node", "pod"] and all(e["at"] > 0 for e in got)
    assert events.decode(events.encode(got)) == sorted(got, key=lambda e: e["at"])
    assert events.decode("not json") == [] and events.decode('{"a": 1}') == []


def test_a_fault_emits_both_times_also_when_its_revert_fails() -> None:
    def boom() -> None:
        raise RuntimeError("revert failed")

    with events.journal() as got:
        with Fault("stop-kubelet", "w2", lambda: None, lambda: None):
            pass
        with pytest.raises(RuntimeError), Fault("kill-node", "w1", lambda: None, boom):
            pass
    assert [(e["fault"], e["target"]) for e in got] == [("stop-kubelet", "w2"), ("kill-node", "w1")]
    assert all(e["reverted_at"] >= e["injected_at"] > 0 and e["at"] == round(e["injected_at"], 3) for e in got)


def _node(name: str, ready: str, taints: list[str]) -> NS:
    return NS(metadata=NS(name=name), status=NS(conditions=[NS(type="Ready", status=ready)]),
              spec=NS(taints=[NS(key=t.split(":")[0], effect=t.split(":")[1]) for t in taints]))  # fmt: skip


def test_observer_states_and_changes() -> None:
    before = observe.node_states([_node("w1", "True", []), _node("w2", "True", [])])
    after = observe.node_states([_node("w1", "Unknown", ["node.kubernetes.io/unreachable:NoExecute"])])
    assert after["w1"] == {"ready": "unknown", "taints": ["node.kubernetes.io/unreachable:NoExecute"]}
    assert observe.changes("node", "node", before, after) == [
        {"type": "node", "node": "w1", "ready": "unknown", "taints": ["node.kubernetes.io/unreachable:NoExecute"]},
        {"type": "node", "node": "w2", "gone": True},
    ]
    assert observe.changes("node", "node", after, after) == []
    pod = NS(metadata=NS(namespace="ns", name="web-1", deletion_timestamp="now"), spec=NS(node_name="w1"),
             status=NS(conditions=[NS(type="Ready", status="True")]))  # fmt: skip
    assert observe.pod_states([pod]) == {"ns/web-1": {"node": "w1", "ready": True, "deleting": True}}
    endpoint = NS(node_name="w2", conditions=NS(ready=True))
    eps = NS(metadata=NS(namespace="ns", name="web-abc", labels={"kubernetes.io/service-name": "web"}),
             endpoints=[endpoint, NS(node_name="w1", conditions=NS(ready=False))])  # fmt: skip
    assert observe.endpoint_states([eps]) == {"ns/web": {"nodes": ["w2"]}}


def loss_events() -> list[dict]:
    return [
        {"type": "node", "at": T - 5, "node": "w2", "ready": "true", "taints": []},
        {"type": "pod", "at": T - 5, "pod": "ns/web-1", "node": "w2", "ready": True, "deleting": False},
        {"type": "pod", "at": T - 5, "pod": "kube-system/coredns-1", "node": "w2", "ready": True, "deleting": False},
        {"type": "endpoints", "at": T - 5, "service": "ns/web", "nodes": ["w1", "w2"]},
        {"type": "fault", "at": T, "fault": "kill-node", "target": "w2", "injected_at": T, "reverted_at": T + 40},
        {"type": "node", "at": T + 10.1, "node": "w2", "ready": "unknown",
         "taints": ["node-role.kubernetes.io/control-plane:NoSchedule", "node.kubernetes.io/unreachable:NoExecute"]},
        {"type": "pod", "at": T + 14.8, "pod": "ns/web-1", "node": "w2", "ready": False, "deleting": True},
        {"type": "pod", "at": T + 15, "pod": "kube-system/coredns-1", "node": "w2", "ready": False, "deleting": True},
        {"type": "endpoints", "at": T + 15.2, "service": "ns/web", "nodes": ["w1"]},
        {"type": "api", "at": T + 16, "ok": False, "error": "timeout"},
    ]  # fmt: skip


def test_timeline_in_seconds_from_the_fault_with_the_milestones_a_reader_looks_for() -> None:
    tl = timeline.build(loss_events())
    assert tl is not None and tl.faults[0]["injected_at"] == 0 and tl.faults[0]["reverted_at"] == 40
    said = dict((what, t) for t, what in tl.milestones)
    assert said["node w2 NotReady (unknown)"] == 10.1
    assert said["node w2 taints: node.kubernetes.io/unreachable:NoExecute"] == 10.1  # the standing taint is no news
    assert said["pod ns/web-1 on w2 deleted (evicted)"] == 14.8 and tl.deletions == [14.8]
    assert said["Service ns/web: Ready endpoints on w1"] == 15.2 and "API not answering (timeout)" in said
    assert not any("coredns" in what for what in said)  # kube-system pods are drawn, not listed
    assert not any(t < 0 for t in said.values())  # the baseline is drawn, not listed
    counts = tl.counts()
    assert counts["Ready pods in ns"] == [(-5.0, 1), (14.8, 0)] and counts["Ready endpoints ns/web"][-1] == (15.2, 1)
    assert timeline.build([]) is None


def test_a_fault_event_from_someone_elses_code_is_drawn_not_a_crash() -> None:
    tl = timeline.build([{"type": "fault", "at": 5.0, "fault": "lost"}, {"type": "fault", "at": 6.0}])
    assert tl is not None and [what for _, what in tl.milestones] == [
        "fault lost on ? injected",
        "fault ? on ? injected",
    ]


def create_run(tmp: Path) -> RunRecord:
    run = RunRecord("20261204-000000-abcdef", "create", cluster="demo", provider="kubeadm", start=T, dir=str(tmp))
    run.phases = [
        PhaseRecord("init", "ok", T, 12.0, steps=[StepRecord("demo-control-plane", T, 12.0)]),
        PhaseRecord("join-workers", "failed", T + 12, 9.0, log=str(tmp / "phases/01-join-workers.log"),
                    error="kubeadm join: rc 1",
                    steps=[StepRecord("demo-worker", T + 12, 5.0),
                           StepRecord("demo-worker2", T + 12, 9.0, "failed", "rc 1")]),
        PhaseRecord("ready", "skipped"),
        PhaseRecord("cleanup", "ok", T + 21, 3.0, when="failure"),
        PhaseRecord("export-logs", "skipped", when="always"),
    ]  # fmt: skip
    return run


def test_phase_cases_show_a_failed_join_as_that_workers(tmp_path: Path) -> None:
    got = {c.nodeid.split("::")[-1]: c for c in cases.phase_cases(asdict(create_run(tmp_path)))}
    assert list(got) == ["00-init", "01-join-workers", "01-join-workers[demo-worker]",
                         "01-join-workers[demo-worker2]", "02-ready", "03-cleanup"]  # fmt: skip
    assert all(c.nodeid.startswith("kube-harness/kubeadm/demo::create::") for c in got.values())
    assert got["01-join-workers[demo-worker]"].outcome == "passed" and got["00-init"].duration == 12.0
    worker2 = got["01-join-workers[demo-worker2]"]
    assert worker2.outcome == "failed" and "rc 1" in worker2.message and "01-join-workers.log" in worker2.message
    assert got["02-ready"].outcome == "skipped" and "earlier phase failed" in got["02-ready"].message


def test_runs_join_the_session_once_each_in_start_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBE_HARNESS_SESSION_DIR", str(tmp_path / "session"))
    late, early = create_run(tmp_path / "a"), create_run(tmp_path / "b")
    late.start, early.start = T + 5, T
    for run in (late, early, late):
        run.save()
        note_run(run)
    assert [r.dir for r in session_runs(tmp_path / "session")] == [early.dir, late.dir]
    monkeypatch.delenv("KUBE_HARNESS_SESSION_DIR")
    note_run(late)  # no session: nothing to do


def test_session_record_is_private_redacted_and_loads(tmp_path: Path) -> None:
    from harness import redact

    token = "abcdef.0123456789abcdef"
    redact.register(token)
    record = SessionRecord("s1", dir=str(tmp_path / "session-s1"))
    record.tests = [TestRecord("t.py::test_a", "failed", message=f"kubeadm join --token {token}")]
    record.add_runs([create_run(tmp_path)])
    path = record.finish("failed")
    assert token not in path.read_text() and path.parent.stat().st_mode & 0o777 == 0o700
    again = SessionRecord.load(path)
    assert again.tests[0].outcome == "failed" and again.clusters[0]["phases"][1]["steps"][1]["status"] == "failed"
    assert again.properties["provider"] == "kubeadm" and again.properties["clusters"] == "demo"
    assert find(str(path.parent)) == path and find(str(path)) == path


def test_suite_properties_join_distinct_values_and_find_names_the_fix() -> None:
    clusters = [{"provider": "kind", "cluster": "a"}, {"provider": "kubeadm", "cluster": "b"}, {"provider": "kind"}]
    assert suite_properties(clusters)["provider"] == "kind,kubeadm" and suite_properties(clusters)["node_image"] == ""
    from harness.errors import UsageError

    with pytest.raises(UsageError, match="no session or run record") as err:
        find("nope")
    assert "session-<id>" in (err.value.fix or "")


def test_a_cli_create_writes_a_session_record_of_its_run_even_when_it_fails(tmp_path: Path) -> None:
    from harness.reporting.session import recorded

    with pytest.raises(RuntimeError), recorded("create", ["create", "--name", "demo"]) as session:
        run = create_run(tmp_path / "run")
        run.save()
        note_run(run)
        raise RuntimeError("join failed")
    again = SessionRecord.load(session.path)
    assert again.kind == "create" and again.status == "failed" and again.clusters[0]["cluster"] == "demo"
    with recorded("create", ["create", "--bad"]) as nothing:
        pass  # refused before anything was made: no record
    assert not nothing.path.exists()
