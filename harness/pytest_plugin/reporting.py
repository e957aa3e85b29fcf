"""What a pytest session reports beyond pass/fail.

In every process (xdist workers included), around each test's call: an events journal (faults)
and, for a disruptive test, an ``Observer`` of its cluster; the events and the test's cluster (name,
provider, run id) go to the test's report as user properties, which xdist carries to the controller.

In the controller (or pytest without xdist), the ``Reporter``:
- a header (provider, Kubernetes version, node image) and the bring-up and build progress of any
  process, one line per phase (``follow.py``);
- at the end, before JUnit is written: every create phase as a test case (``cases.py``), suite
  properties (provider, versions, node image, clusters) and the suite name ``kube-harness[<provider>]``
  when the ini leaves pytest's default; the session record (``harness.reporting.session``) and, when
  asked (``--kh-html``), the HTML report; a closing summary of kept clusters, bundles and reports.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from harness.reporting import events
from harness.reporting.cases import phase_cases
from harness.reporting.session import SessionRecord, TestRecord, session_runs

CLUSTER_PROPERTY = "kube_harness_cluster"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    test_cluster: Any = getattr(item, "funcargs", {}).get("cluster")
    observer: contextlib.AbstractContextManager[Any] = contextlib.nullcontext()
    if item.get_closest_marker("kh_disruptive") and getattr(test_cluster, "kubeconfig", None):
        from harness.pytest_plugin.fixtures import NAMESPACE_KEY
        from harness.reporting.observe import Observer

        namespaces = [item.stash[NAMESPACE_KEY]] if NAMESPACE_KEY in item.stash else []
        observer = Observer(test_cluster.kubeconfig, namespaces)
    with events.journal() as got:
        try:
            with observer:
                return (yield)
        finally:
            if got:
                item.user_properties.append((events.PROPERTY, events.encode(got)))


def cluster_properties(item: pytest.Item) -> None:
    """Link the test to its cluster's run (name, provider, run id) in its report."""
    test_cluster = getattr(item, "funcargs", {}).get("cluster")
    if test_cluster is not None and not any(k == CLUSTER_PROPERTY for k, _ in item.user_properties):
        item.user_properties.append((CLUSTER_PROPERTY, f"{test_cluster.name} {test_cluster.provider} "
                                                       f"{test_cluster.run_id}"))  # fmt: skip


class Reporter:
    """Registered in the controller only (see the module's text)."""

    def __init__(self, config: pytest.Config, session_id: str, html: str | None) -> None:
        self.config, self.html = config, html
        self.record = SessionRecord(session_id, argv=[str(a) for a in config.invocation_params.args])
        self.tests: dict[str, TestRecord] = {}
        self.follower: Any = None
        self.written = False
        self.html_error = ""  # why the HTML report could not be written, when it could not

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        from harness.images.build import DEFAULT_VERSION

        version = DEFAULT_VERSION
        with contextlib.suppress(Exception):  # a bad spec is reported where it is used, with its fix
            from harness.spec import load_spec

            version = (
                load_spec(config.getoption("kh_spec")).kubernetes_version if config.getoption("kh_spec") else version
            )
        image = config.getoption("kh_node_image") or "the default, built here (kube-harness image build)"
        return [f"kube-harness: provider {config.getoption('kh_provider')}, Kubernetes {version}, node image {image}",
                f"kube-harness: session {self.record.session}, reports {self.record.dir}"]  # fmt: skip

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        from harness.pytest_plugin.follow import Follower

        terminal = self.config.pluginmanager.get_plugin("terminalreporter")
        self.follower = Follower(terminal.write_line if terminal else lambda s: print(s, file=sys.stderr))
        self.follower.start()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if "phase" in report.keywords or "conformance" in report.keywords:
            return  # our own cases: in the session record as clusters and conformance reports
        test = self.tests.setdefault(report.nodeid, TestRecord(report.nodeid, "passed", start=report.start))
        test.duration = round(test.duration + report.duration, 3)
        props = dict(report.user_properties)
        test.events = events.decode(str(props.pop(events.PROPERTY, ""))) or test.events
        test.bundle = str(props.pop("kube_harness_bundle", test.bundle))
        if cluster := props.pop(CLUSTER_PROPERTY, None):
            test.clusters = [str(cluster)]
        test.properties.update({k: v for k, v in props.items() if isinstance(v, str | int | float)})
        if report.failed or (report.skipped and report.when != "teardown"):
            test.outcome = "skipped" if report.skipped else ("failed" if report.when == "call" else "error")
            test.message = _first_lines(report.longreprtext)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """Before JUnit is written: phases as cases, suite properties, then the session record."""
        from harness.pytest_plugin.cases import report_cases
        from harness.pytest_plugin.session import session_dir

        if self.follower:
            self.follower.stop()
        runs = [r for r in session_runs(session_dir(), cases_only=True) if r.kind == "create"]
        for run in runs:
            report_cases(self.config, session, phase_cases(_as_dict(run)))
        self.record.tests = list(self.tests.values())
        self.record.add_runs(session_runs(session_dir()))
        _junit_suite(self.config, self.record.properties)
        self.written = bool(runs or self.html or os.environ.get("ARTIFACTS"))  # not for unit-only sessions
        if self.written:
            self.record.finish("passed" if exitstatus == 0 else "failed")
        if self.html:
            from harness.reporting.html import write_report

            try:
                write_report(self.record, Path(self.html))
            except Exception as exc:  # a report must never turn a session's verdict into a crash
                self.html_error = f"{type(exc).__name__}: {exc}"

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        lines = [f"session record: {self.record.path}"] if self.written else []
        if self.html:
            failed = f" NOT WRITTEN ({self.html_error})" if self.html_error else ""
            lines.append(f"HTML report: {self.html}{failed}")
        lines += [f"failure bundle: {t.bundle}" for t in self.record.tests if t.bundle]
        lines += [f"kept cluster {name}: export KUBECONFIG={path}" for name, path in _kept(self.record)]
        if not lines:
            return
        terminalreporter.write_sep("-", "kube-harness")
        for line in lines:
            terminalreporter.write_line(line)


def _kept(record: SessionRecord) -> list[tuple[str, str]]:
    """Clusters of the session still there after it (kept, or reused): name and kubeconfig."""
    from harness.cluster import Cluster

    names = dict.fromkeys(c["cluster"] for c in record.clusters if c["kind"] == "create" and c["cluster"])
    return [(n, Cluster.load(n).kubeconfig) for n in names if Cluster.state_dir_path(n).exists()]


def _as_dict(run: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(run)


def _first_lines(text: str, limit: int = 2000) -> str:
    return text if len(text) <= limit else text[: limit - 20] + "\n... (cut)"


def _junit_suite(config: pytest.Config, properties: dict[str, str]) -> None:
    """Suite properties in the JUnit file, and the provider in the suite name (pytest's default
    name ``pytest`` says nothing when one CI run holds the JUnit of two providers)."""
    try:
        from _pytest.junitxml import xml_key
    except ImportError:  # pragma: no cover - pytest moved it: the JUnit file goes without them
        return
    xml = config.stash.get(xml_key, None)
    if xml is None:
        return
    for name, value in properties.items():
        if value:
            xml.add_global_property(f"kube_harness_{name}", value)
    if xml.suite_name == "pytest":
        xml.suite_name = f"kube-harness[{config.getoption('kh_provider')}]"
