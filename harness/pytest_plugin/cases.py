"""Report cases that are not pytest items (create phases, conformance specs) as test cases of their
own: a call and a teardown report each, through ``pytest_runtest_logreport`` (between log start and
finish, as pytest's own runner does), so the terminal,
JUnit and any plugin beside ours see them as tests (and xdist carries them from a worker)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

from harness.reporting.cases import Case


def report_cases(config: pytest.Config, session: pytest.Session, cases: Iterable[Case],
                 location: tuple[str, int | None, str] | None = None) -> int:  # fmt: skip
    """Report every case; returns how many. ``location``: the item they belong to, if any."""
    cases = list(cases)
    session.testscollected += len(cases)  # the terminal's progress counts them as tests too
    for case in cases:
        where = location or (case.nodeid.split("::")[0], None, case.nodeid.split("::", 1)[-1])
        config.hook.pytest_runtest_logstart(nodeid=case.nodeid, location=where)
        for when in ("call", "teardown"):
            outcome = case.outcome if when == "call" else "passed"
            report = pytest.TestReport(case.nodeid, where, {case.keyword: 1, case.nodeid.split("::")[-1]: 1},
                                       outcome, _longrepr(case) if when == "call" else None, when,
                                       duration=case.duration if when == "call" else 0.0)  # fmt: skip
            config.hook.pytest_runtest_logreport(report=report)
        config.hook.pytest_runtest_logfinish(nodeid=case.nodeid, location=where)
    return len(cases)


def _longrepr(case: Case) -> Any:
    if case.outcome == "passed":
        return None
    if case.outcome == "failed":
        return case.message or "failed"
    return (case.nodeid.split("::")[0], 0, f"Skipped: {case.message}")  # pytest's form of a skip
