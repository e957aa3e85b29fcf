"""Upstream conformance from pytest: the ``conformance`` fixture runs a preset of the e2e suite on
the test's cluster and reports every spec that ran as a test case of its own (terminal, JUnit),
named ``<test id>::<spec>``; quarantined specs are reported as skipped with their reason.

    @pytest.mark.conformance
    def test_dns_conformance(conformance):
        conformance("dns")          # fails when a spec failed; each spec is in the JUnit
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import pytest

from harness.cluster import Cluster
from harness.conformance.run import RunResult, SpecResult
from harness.progress import Progress


@pytest.fixture
def conformance(request: pytest.FixtureRequest, cluster: Cluster) -> Callable[..., RunResult]:
    """``conformance(preset, focus=None, skip=None, parallel=4)``: run it on ``cluster``; the test
    fails (naming the failed specs) when any spec failed."""

    def run(preset: str, **options: Any) -> RunResult:
        from harness.conformance.api import conformance as run_conformance

        result = run_conformance(cluster, preset, Progress(), **options)
        request.node.user_properties.append(("conformance_report", str(result.out)))
        report_specs(request.node, result)
        failed = result.of("failed")
        if failed or result.rc != 0:
            names = "\n  ".join(s.name for s in failed[:20])
            where = f"ginkgo exit {result.rc}; {result.out / 'ginkgo.log'}"
            count = f"{len(failed)} of {len(result.specs)} specs failed"
            pytest.fail(f"conformance {preset}: {count} ({where}):\n  {names}", pytrace=False)
        return result

    return run


def report_specs(item: pytest.Item, result: RunResult) -> None:
    """One call and one teardown report per spec, through pytest's own hook: the terminal, JUnit
    and any plugin beside ours see them as test cases."""
    hook = item.config.hook
    item.session.testscollected += len(result.specs)  # the terminal's progress counts them as tests too
    for spec in result.specs:
        nodeid = f"{item.nodeid}::{spec.name}"
        phases: tuple[tuple[Literal["call", "teardown"], Literal["passed", "failed", "skipped"]], ...] = (
            ("call", _outcome(spec)), ("teardown", "passed"))  # fmt: skip
        for when, outcome in phases:
            report = pytest.TestReport(nodeid, item.location, {spec.name: 1, "conformance": 1}, outcome,
                                       _longrepr(spec) if when == "call" else None, when,
                                       duration=spec.duration_s if when == "call" else 0.0)  # fmt: skip
            hook.pytest_runtest_logreport(report=report)


def _outcome(spec: SpecResult) -> Literal["passed", "failed", "skipped"]:
    return "passed" if spec.status == "passed" else "failed" if spec.status == "failed" else "skipped"


def _longrepr(spec: SpecResult) -> Any:
    if spec.status == "passed":
        return None
    if spec.status == "failed":
        return spec.message or "failed (see ginkgo.log)"
    return ("conformance", 0, f"Skipped: quarantined: {spec.message}")  # pytest's form of a skip
