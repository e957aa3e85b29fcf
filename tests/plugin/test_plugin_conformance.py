"""The conformance fixture's reporting: every spec of a run becomes a test case of its own, in the
terminal and the JUnit, with its outcome (a quarantined spec as skipped with its reason)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

pytestmark = pytest.mark.unit

INNER = """
from pathlib import Path

from harness.conformance.run import RunResult, SpecResult
from harness.pytest_plugin.conformance import report_specs


def test_preset(request):
    result = RunResult("dns", Path("."), 1.0, 1, [
        SpecResult("[sig-network] DNS resolves [Conformance]", "passed", 2.5),
        SpecResult("[sig-network] DNS breaks [Conformance]", "failed", 3.0, "timed out waiting"),
        SpecResult("[sig-network] DNS via the internet [Conformance]", "quarantined", 0.0, "needs the internet"),
    ])
    report_specs(request.node, result)
"""


def test_each_spec_is_a_test_case_with_its_outcome(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_inner=INNER)
    res = pytester.runpytest("-p", "no:cacheprovider", "--junitxml=junit.xml", "-rA")
    res.assert_outcomes(passed=2, failed=1, skipped=1)
    assert "[100%]" in res.stdout.str() and "[133%]" not in res.stdout.str()
    cases = {c.get("name"): c for c in ET.parse(pytester.path / "junit.xml").iter("testcase")}
    failed = cases["[sig-network] DNS breaks [Conformance]"]  # classname test_inner.test_preset
    assert failed.find("failure") is not None and "timed out waiting" in ET.tostring(failed, encoding="unicode")
    skipped = cases["[sig-network] DNS via the internet [Conformance]"].find("skipped")
    assert skipped is not None and "needs the internet" in (skipped.get("message") or "")
    assert cases["[sig-network] DNS resolves [Conformance]"].get("time") == "2.500"
