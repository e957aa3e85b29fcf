"""The plugin's session reporting, on inner pytest sessions (no cluster: a test writes a create run
record as ``create_cluster`` does): create phases as JUnit test cases, suite properties and name,
the session record with a test's fault events, the HTML report, ``$ARTIFACTS`` and the header."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.reporting import charts

pytestmark = pytest.mark.unit

# matplotlib (numpy) loaded before pytester snapshots sys.modules: numpy cannot be loaded twice in a
# process, and pytester drops what an in-process inner session imported
charts._plt()

INNER = """
from harness.faults.base import Fault
from harness.reporting.record import PhaseRecord, RunRecord, StepRecord
from harness.reporting.session import note_run


def test_makes_a_cluster(tmp_path):
    run = RunRecord("20261204-000000-abcdef", "create", cluster="demo", provider="kubeadm",
                    kubernetes_version="v1.37.2", node_image="kube-harness/node:v1.37.2", node_image_id="sha256:1")
    run.phases = [PhaseRecord("init", "ok", run.start, 2.0),
                  PhaseRecord("join-workers", "failed", run.start + 2, 1.0, error="rc 1",
                              steps=[StepRecord("w1", run.start + 2, 0.5),
                                     StepRecord("w2", run.start + 2, 1.0, "failed", "rc 1")]),
                  PhaseRecord("cleanup", "ok", run.start + 3, 0.5, when="failure")]
    run.save()
    note_run(run, phase_cases=True)


def test_injects_a_fault():
    with Fault("kill-node", "w2", lambda: None, lambda: None):
        pass


def test_fails():
    assert 1 == 2
"""


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_inner=INNER)
    return pytester.runpytest("-p", "no:cacheprovider", *args)


def test_phases_are_junit_cases_with_suite_properties(pytester: pytest.Pytester) -> None:
    res = _run(pytester, "--junitxml=junit.xml")
    res.assert_outcomes(passed=2 + 3, failed=1 + 2)  # 3 tests; 5 phase cases (init, join, its 2 nodes, cleanup)
    tree = ET.parse(pytester.path / "junit.xml")
    suite = tree.getroot().find("testsuite")
    assert suite is not None and suite.get("name") == "kube-harness[kind]"
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["kube_harness_provider"] == "kubeadm" and props["kube_harness_node_image_id"] == "sha256:1"
    cases = {(c.get("classname"), c.get("name")): c for c in tree.iter("testcase")}
    worker2 = cases[("kube-harness.kubeadm.demo.create", "01-join-workers[w2]")]
    assert worker2.find("failure") is not None and "rc 1" in ET.tostring(worker2, encoding="unicode")
    assert cases[("kube-harness.kubeadm.demo.create", "00-init")].find("failure") is None


def test_session_record_and_html(pytester: pytest.Pytester) -> None:
    res = _run(pytester, "--kh-html=out/report.html")
    text = res.stdout.str()
    assert "kube-harness: provider kind, Kubernetes v1." in text  # the header
    record_line = next(line for line in text.splitlines() if line.startswith("session record: "))
    record = json.loads(Path(record_line.split(": ", 1)[1]).read_text())
    tests = {t["nodeid"].split("::")[-1]: t for t in record["tests"]}
    assert set(tests) == {"test_makes_a_cluster", "test_injects_a_fault", "test_fails"}  # no phase case here
    assert tests["test_fails"]["outcome"] == "failed" and "assert 1 == 2" in tests["test_fails"]["message"]
    assert [e["fault"] for e in tests["test_injects_a_fault"]["events"]] == ["kill-node"]
    assert record["clusters"][0]["cluster"] == "demo" and record["status"] == "failed"
    html = (pytester.path / "out" / "report.html").read_text()
    assert 'class="chart phase-timeline"' in html and 'class="fault-timeline"' in html


def test_artifacts_is_the_output_root(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    artifacts = pytester.path / "artifacts"
    monkeypatch.delenv("KUBE_HARNESS_REPORTS", raising=False)
    monkeypatch.setenv("ARTIFACTS", str(artifacts))
    _run(pytester)
    assert len(list(artifacts.glob("junit_kind_*.xml"))) == 1
    assert len(list(artifacts.glob("session-*/session.json"))) == 1
    assert list(artifacts.glob("*/run.json"))  # the run record went there too
