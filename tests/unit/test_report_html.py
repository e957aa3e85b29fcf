"""The HTML report (rendered to a string; the rendering in a browser is an integration test), the
engine's per-node steps and progress under pytest."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from harness.phases.engine import Context, Engine, Phase
from harness.reporting.html import latencies, load, phase_seconds, render, write_report
from harness.reporting.record import RunRecord
from harness.reporting.session import SessionRecord, TestRecord
from tests.unit.test_reporting import create_run, loss_events

pytestmark = pytest.mark.unit


def session(tmp: Path) -> SessionRecord:
    record = SessionRecord("s1", dir=str(tmp / "session-s1"))
    record.add_runs([create_run(tmp / "run")])
    record.tests = [
        TestRecord("scenarios/test_failover.py::test_worker_loss", "passed", 50.0, properties={"detect_s": 10.1},
                   events=loss_events()),
        TestRecord("scenarios/test_x.py::test_fails", "failed", 2.0, message="AssertionError: boom",
                   bundle=str(tmp / "session-s1" / "bundles" / "x")),
    ]  # fmt: skip
    return record


def test_report_has_the_phase_timeline_the_fault_timeline_and_relative_bundle_links(tmp_path: Path) -> None:
    record = session(tmp_path)
    html = render(record, tmp_path / "session-s1" / "report.html")
    assert html.count('class="chart phase-timeline"') == 1 and 'class="fault-timeline"' in html
    assert html.count("<svg") == 2 and "<metadata>" not in html
    assert not any(bad in html for bad in ("<script", "<link", 'src="http', 'href="http'))  # nothing fetched
    assert 'href="bundles/x"' in html and "node w2 NotReady (unknown)" in html and "+10.1" in html
    assert "demo-worker2 9.0 s" in html and "kubeadm join: rc 1" in html


def test_compare_puts_phases_and_latencies_side_by_side(tmp_path: Path) -> None:
    a, b = session(tmp_path), session(tmp_path)
    b.clusters[0]["phases"][0]["duration"] = 24.0
    assert phase_seconds(a) == {"kubeadm: init": 12.0, "kubeadm: join-workers": 9.0, "kubeadm: cleanup": 3.0}
    assert latencies(a) == {"test_worker_loss detect_s": 10.1}
    html = render(a, tmp_path / "r.html", compare=b)
    assert 'id="compare"' in html and '<td class="num">2.0</td>' in html  # init took twice as long in B


def test_a_run_record_is_reported_as_a_session_of_one_cluster(tmp_path: Path) -> None:
    run = create_run(tmp_path / "run")
    run.join_discovery, run.insecure = "unsafe", ["nodes joined without checking the cluster CA"]
    run.save()
    record = load(str(tmp_path / "run"))
    assert record.kind == "run" and record.clusters[0]["cluster"] == "demo"
    assert record.properties["provider"] == "kubeadm"
    out = write_report(record, tmp_path / "out" / "report.html")
    assert out.stat().st_mode & 0o777 == 0o600 and "demo" in out.read_text()
    assert "join discovery unsafe" in out.read_text()
    assert "insecure: nodes joined without checking the cluster CA" in out.read_text()


def test_steps_per_node_and_logs_only_when_written(tmp_path: Path) -> None:
    def two_nodes(ctx: Context) -> None:
        with ctx.on_node("a"):
            time.sleep(0.05)
        with ctx.on_node("b"), ctx.on_node("b"):  # nested and repeated work on one node: one step
            pass
        with pytest.raises(RuntimeError), ctx.on_node("b"):
            raise RuntimeError("join failed")

    record = RunRecord("r", "create", dir=str(tmp_path))
    Engine([Phase("join", two_nodes), Phase("quiet", lambda ctx: None)]).run(Context(record))
    join, quiet = record.phases
    assert [(s.node, s.status) for s in join.steps] == [("a", "ok"), ("b", "failed")]
    assert join.steps[0].duration >= 0.05 and join.steps[1].error == "join failed"
    assert join.log == "" and quiet.log == ""  # neither wrote a line: no log named


def test_progress_goes_to_the_followed_file_under_pytest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from harness import progress
    from harness.pytest_plugin.follow import Follower

    lines: list[str] = []
    follower = Follower(lines.append, tmp_path / "progress")
    follower.start()
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    progress.say("==> creating cluster demo")
    with (tmp_path / "progress").open("a") as fh:
        fh.write("half a line")  # waits for its end
    follower.stop()
    assert lines == ["kube-harness: [gw1] ==> creating cluster demo"]
    assert "KUBE_HARNESS_PROGRESS" not in __import__("os").environ
