"""The session record: one JSON per pytest session (or ``kube-harness create``) beside the run records,
``<reports>/session-<id>/session.json``: what ran (tests, outcomes, durations, properties, faults and
what the cluster did, bundles) on which clusters (their whole run records: phases per node, versions,
node image digest, spec). The HTML report and the JUnit phase test cases are made from it alone.

Runs join the session through ``note_run``: ``create_cluster`` (in any xdist worker) appends its run
folder to the session folder the controller shares with its workers (``KUBE_HARNESS_SESSION_DIR``).
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness.paths import reports_root
from harness.reporting.record import RunRecord, save_json

SESSION_ENV = "KUBE_HARNESS_SESSION"
SESSION_DIR_ENV = "KUBE_HARNESS_SESSION_DIR"
RUNS = "runs"  # in the session folder: one run folder per line


def note_run(record: RunRecord, phase_cases: bool = False) -> None:
    """Count this run in the current session, if there is one (a no-op for plain scripts).
    ``phase_cases``: its phases become test cases (clusters the plugin's fixtures made; not a
    create a test makes itself, perhaps failing on purpose)."""
    folder = os.environ.get(SESSION_DIR_ENV)
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    with (Path(folder) / RUNS).open("a") as fh:  # one short append per line: safe across processes
        fh.write(str(Path(record.dir).resolve()) + ("\tcases" if phase_cases else "") + "\n")


def session_runs(folder: Path, cases_only: bool = False) -> list[RunRecord]:
    """The run records of the runs noted in ``folder`` that still exist, in the order they began
    (``cases_only``: those whose phases are to be test cases)."""
    path = folder / RUNS
    lines = [ln.split("\t") for ln in path.read_text().splitlines() if ln] if path.exists() else []
    dirs = dict.fromkeys(parts[0] for parts in lines if not cases_only or parts[1:] == ["cases"])
    found = [RunRecord.load(Path(d) / "run.json") for d in dirs if (Path(d) / "run.json").exists()]
    return sorted(found, key=lambda r: r.start)


@dataclass
class TestRecord:
    __test__ = False  # not a pytest test class

    nodeid: str
    outcome: str  # passed | failed | skipped | error (failed in setup or teardown)
    duration: float = 0.0
    start: float = 0.0
    message: str = ""  # the failure or skip reason, first lines
    properties: dict[str, Any] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)  # faults and what the cluster did
    bundle: str = ""
    clusters: list[str] = field(default_factory=list)


@dataclass
class SessionRecord:
    session: str
    kind: str = "pytest"  # pytest | create
    start: float = field(default_factory=time.time)
    duration: float = 0.0
    status: str = "running"
    argv: list[str] = field(default_factory=list)
    machine: str = field(default_factory=lambda: f"{platform.node()} {platform.machine()} {os.cpu_count()} cpu")
    properties: dict[str, str] = field(default_factory=dict)
    tests: list[TestRecord] = field(default_factory=list)
    clusters: list[dict[str, Any]] = field(default_factory=list)  # run records, whole
    dir: str = ""

    def __post_init__(self) -> None:
        if not self.dir:
            self.dir = str(reports_root() / f"session-{self.session}")

    @property
    def path(self) -> Path:
        return Path(self.dir) / "session.json"

    def add_runs(self, runs: list[RunRecord]) -> None:
        self.clusters = [asdict(r) for r in runs]
        self.properties.update(suite_properties(self.clusters))

    def finish(self, status: str) -> Path:
        self.status, self.duration = status, round(time.time() - self.start, 3)
        return self.save()

    def save(self) -> Path:
        return save_json(self.path, asdict(self))

    @classmethod
    def load(cls, path: Path) -> SessionRecord:
        doc = json.loads(path.read_text())
        doc["tests"] = [TestRecord(**t) for t in doc.get("tests", [])]
        return cls(**doc)


def suite_properties(clusters: list[dict[str, Any]]) -> dict[str, str]:
    """What a CI dashboard shows of a run: providers, Kubernetes versions, node images, clusters."""

    def joined(key: str) -> str:
        return ",".join(dict.fromkeys(str(c.get(key, "")) for c in clusters if c.get(key)))

    return {"provider": joined("provider"), "kubernetes_version": joined("kubernetes_version"),
            "node_image": joined("node_image"), "node_image_id": joined("node_image_id"),
            "clusters": joined("cluster")}  # fmt: skip


def find(what: str) -> Path:
    """A session or run record from a path (file or folder), a session id or a run id."""
    from harness.errors import UsageError

    root = reports_root()
    candidates = [Path(what), Path(what) / "session.json", Path(what) / "run.json",
                  root / f"session-{what}" / "session.json", root / what / "run.json"]  # fmt: skip
    for path in candidates:
        if path.is_file():
            return path
    raise UsageError(f"no session or run record at {what!r}",
                     fix=f"give a session.json or run.json, its folder, or an id of a folder under {root}/ "
                         "(`ls reports/`; sessions are session-<id>)")  # fmt: skip


@contextlib.contextmanager
def recorded(kind: str, argv: list[str]) -> Iterator[SessionRecord]:
    """A session record for a command outside pytest (``kube-harness create``): the runs it makes
    are noted in a folder of its own; the record is written when the block ends, failed or not
    (not when it made no run: bad input stopped it before anything was made)."""
    import shutil
    import tempfile
    import uuid

    before = os.environ.get(SESSION_DIR_ENV)
    folder = Path(tempfile.mkdtemp(prefix="kube-harness-session-"))
    os.environ[SESSION_DIR_ENV] = str(folder)
    record, status = SessionRecord(uuid.uuid4().hex[:12], kind=kind, argv=argv), "failed"
    try:
        yield record
        status = "passed"
    finally:
        record.add_runs(session_runs(folder))
        if record.clusters:
            record.finish(status)
        shutil.rmtree(folder, ignore_errors=True)
        if before is None:
            os.environ.pop(SESSION_DIR_ENV, None)
        else:
            os.environ[SESSION_DIR_ENV] = before
