"""``kube-harness report``: one self-contained HTML file from a session (or run) record — per cluster a
Gantt of its phases per node, per disruptive test its fault against what the cluster did, the tests
with links to their bundles and logs, and with ``--compare`` two sessions' phase and latency figures
side by side. Charts are inline SVG (``charts.py``); nothing is fetched when the page is opened.
Links are relative to the HTML file, so a folder of artifacts moved as a whole keeps them working.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from harness.errors import UsageError
from harness.paths import private_dir
from harness.redact import redact
from harness.reporting import timeline
from harness.reporting.session import SessionRecord, find

TEMPLATE = "report.html.j2"


def load(what: str) -> SessionRecord:
    """A session record, or a run record wrapped as a session of one cluster."""
    from dataclasses import asdict

    from harness.reporting.record import RunRecord

    path = find(what)
    if path.name == "run.json":
        run = RunRecord.load(path)
        record = SessionRecord(run.run_id, kind="run", start=run.start, duration=run.duration, status=run.status,
                               dir=str(path.parent))  # fmt: skip
        record.add_runs([run])
        record.clusters = [asdict(run)]
        return record
    return SessionRecord.load(path)


def _environment() -> Any:
    try:
        import jinja2
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise UsageError(f"the HTML report needs matplotlib and jinja2: {exc}",
                         fix="pip install 'kube-harness[report]' (matplotlib and jinja2)") from exc  # fmt: skip
    env = jinja2.Environment(loader=jinja2.PackageLoader("harness.reporting", "templates"),
                             autoescape=True, trim_blocks=True, lstrip_blocks=True)  # fmt: skip
    env.filters["when"] = lambda t: time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(t)) if t else "-"
    return env


def render(record: SessionRecord, out: Path, compare: SessionRecord | None = None) -> str:
    from harness.reporting import charts

    env = _environment()
    env.filters["link"] = lambda p: os.path.relpath(Path(p).resolve(), out.resolve().parent) if p else ""
    clusters = [{**c, "chart": charts.phases_chart(c)} for c in record.clusters if c.get("kind") == "create"]
    disruptive = []
    for test in record.tests:
        tl = timeline.build(test.events)
        if tl is not None and tl.faults:
            disruptive.append({"test": test, "chart": charts.fault_chart(tl), "milestones": tl.milestones})
    counts = {o: sum(t.outcome == o for t in record.tests) for o in ("passed", "failed", "error", "skipped")}
    html = env.get_template(TEMPLATE).render(
        record=record, clusters=clusters, disruptive=disruptive, counts=counts,
        compare=_compare(record, compare) if compare else None, generated=time.time(),
    )  # fmt: skip
    return redact(html)


def write_report(record: SessionRecord, out: Path, compare: SessionRecord | None = None) -> Path:
    html = render(record, out, compare)
    private_dir(out.parent) if out.parent != Path(".") else None
    out.write_text(html)
    out.chmod(0o600)
    return out


def phase_seconds(record: SessionRecord) -> dict[str, float]:
    """Mean duration of each phase over the session's create runs (phase name -> seconds)."""
    got: dict[str, list[float]] = {}
    for c in record.clusters:
        for p in c.get("phases", []) if c.get("kind") == "create" else []:
            if p["status"] != "skipped":
                got.setdefault(f"{c.get('provider')}: {p['name']}", []).append(p["duration"])
    return {k: round(sum(v) / len(v), 2) for k, v in got.items()}


def latencies(record: SessionRecord) -> dict[str, float]:
    """Every numeric ``*_s`` property of a test (failover latencies and the like), by test and name."""
    out = {}
    for t in record.tests:
        for k, v in t.properties.items():
            if k.endswith("_s") and isinstance(v, int | float):
                out[f"{t.nodeid.split('::')[-1]} {k}"] = float(v)
    return out


def _compare(a: SessionRecord, b: SessionRecord) -> dict[str, Any]:
    from harness.reporting import charts

    rows = []
    for kind, left, right in (("phase", phase_seconds(a), phase_seconds(b)), ("latency", latencies(a), latencies(b))):
        for name in dict.fromkeys([*left, *right]):
            x, y = left.get(name), right.get(name)
            rows.append({"kind": kind, "name": name, "a": x, "b": y, "ratio": round(y / x, 2) if x and y else None})
    phases = phase_seconds(a), phase_seconds(b)
    names = list(dict.fromkeys([*phases[0], *phases[1]]))
    labels = (f"A {a.session}", f"B {b.session}")
    return {"a": a, "b": b, "rows": rows, "chart": charts.compare_chart(names, *phases, labels) if names else ""}
