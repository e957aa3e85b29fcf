"""Upstream conformance from pytest: the ``conformance`` fixture runs a preset of the e2e suite on
the test's cluster and reports every spec that ran as a test case of its own (terminal, JUnit),
named ``<test id>::<spec>``; quarantined specs are reported as skipped with their reason.

    @pytest.mark.conformance
    def test_dns_conformance(conformance):
        conformance("dns")          # fails when a spec failed; each spec is in the JUnit
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from harness.cluster import Cluster
from harness.conformance.run import RunResult, SpecResult
from harness.progress import Progress
from harness.pytest_plugin.cases import report_cases
from harness.reporting.cases import Case, Outcome


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
    """One test case per spec (``harness.pytest_plugin.cases``), named ``<test id>::<spec>``."""
    cases = [Case(f"{item.nodeid}::{spec.name}", _outcome(spec), spec.duration_s, _message(spec), "conformance")
             for spec in result.specs]  # fmt: skip
    report_cases(item.config, item.session, cases, item.location)


def _outcome(spec: SpecResult) -> Outcome:
    return "passed" if spec.status == "passed" else "failed" if spec.status == "failed" else "skipped"


def _message(spec: SpecResult) -> str:
    if spec.status == "passed":
        return ""
    if spec.status == "failed":
        return spec.message or "failed (see ginkgo.log)"
    return f"quarantined: {spec.message}"
