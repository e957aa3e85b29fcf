"""Outcomes of an inner pytest session's own tests, apart from the create-phase cases the plugin
reports for each cluster it made (``kube-harness/<provider>/<cluster>::create::...``). The inner
session must run with ``-rA`` (its short summary names every case)."""

from __future__ import annotations

import re
from collections import Counter

import pytest

LINE = re.compile(r"^(PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS) (?:\[\d+\] )?(\S+)")


def split(result: pytest.RunResult) -> tuple[Counter[str], Counter[str]]:
    """(outcomes of the session's tests, outcomes of the phase cases), by outcome name."""
    tests: Counter[str] = Counter()
    phases: Counter[str] = Counter()
    for line in result.stdout.lines:
        found = LINE.match(line)
        if found:
            (phases if found.group(2).startswith("kube-harness/") else tests)[found.group(1).lower()] += 1
    return tests, phases


def own_outcomes(result: pytest.RunResult, **expected: int) -> None:
    """Like ``assert_outcomes`` for the session's own tests; and some phase case was reported."""
    tests, phases = split(result)
    assert dict(tests) == {k: v for k, v in expected.items() if v}, result.stdout.str()[-3000:]
    assert phases, "no create phase was reported as a test case"
