"""Test cases that are not pytest tests: the phases of a cluster create (as kinder's workflow runner
reports its tasks) and the specs of an upstream conformance run. ``harness.pytest_plugin.cases``
reports them through pytest's own hook, so the terminal, JUnit and other plugins see them.

A create's phases are named ``kube-harness/<provider>/<cluster>::create::<NN>-<phase>`` (JUnit:
class ``kube-harness.<provider>.<cluster>.create``, name ``<NN>-<phase>``; no brackets before the
last part, which JUnit's name mangling reads as parameters); a phase
that ran on more than one node also gets a case per node (``...::<NN>-join-workers[<node>]``), so a
failed worker join shows as that worker's. Cleanup phases that had no reason to run are left out;
phases skipped after a failure are reported skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from harness.reporting.record import OK, SKIPPED

Outcome = Literal["passed", "failed", "skipped"]


@dataclass(frozen=True)
class Case:
    nodeid: str
    outcome: Outcome
    duration: float = 0.0
    message: str = ""  # the failure (or the skip reason)
    keyword: str = "kube_harness"  # marks the case's origin in its report's keywords


def phase_cases(run: dict[str, Any]) -> list[Case]:
    """The cases of one create run record (as a dict: ``asdict(RunRecord)``)."""
    base = f"kube-harness/{run.get('provider') or 'unknown'}/{run.get('cluster') or run['run_id']}::create"
    cases: list[Case] = []
    failed_before = False
    for index, phase in enumerate(run.get("phases", [])):
        name = f"{base}::{index:02d}-{phase['name']}"
        if phase["status"] == SKIPPED:
            if phase.get("when") == "success" and failed_before:
                cases.append(Case(name, "skipped", message="not run: an earlier phase failed", keyword="phase"))
            continue
        cases.append(Case(name, _outcome(phase["status"]), phase["duration"], _message(phase), keyword="phase"))
        failed_before = failed_before or phase["status"] != OK
        steps = phase.get("steps") or []
        if len(steps) > 1:
            cases += [Case(f"{name}[{s['node']}]", _outcome(s["status"]), s["duration"],
                           _message(phase, s.get("error", "")) if s["status"] != OK else "", keyword="phase")
                      for s in steps]  # fmt: skip
    return cases


def _outcome(status: str) -> Outcome:
    return "passed" if status == OK else "failed"


def _message(phase: dict[str, Any], error: str = "") -> str:
    if phase["status"] == OK and not error:
        return ""
    where = f" (log: {phase['log']})" if phase.get("log") else ""
    return f"phase {phase['name']} {phase['status']}: {error or phase.get('error') or phase['status']}{where}"
