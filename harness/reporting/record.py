"""The run record: what one harness run did, phase by phase, as JSON under ``reports/<run-id>/``.

JUnit and HTML reports are rendered from this record alone, so it carries everything they need:
per-phase start, duration, status, log file and error, plus free-form measurements. The record is
written through the redactor, and its directory (phase logs, the cluster's kubeconfig) is 0700.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness.paths import private_dir, reports_root
from harness.redact import redact

OK, FAILED, SKIPPED, TIMEOUT, INTERRUPTED, RUNNING = "ok", "failed", "skipped", "timeout", "interrupted", "running"


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)


@dataclass
class StepRecord:
    """What one phase did on one node: from its first command there to the end of its last."""

    node: str
    start: float = 0.0
    duration: float = 0.0
    status: str = OK
    error: str = ""


@dataclass
class PhaseRecord:
    name: str
    status: str = RUNNING
    start: float = 0.0
    duration: float = 0.0
    log: str = ""  # set only once the log exists (a phase that wrote nothing, or was skipped, has none)
    error: str = ""
    when: str = "success"
    steps: list[StepRecord] = field(default_factory=list)


@dataclass
class RunRecord:
    run_id: str
    kind: str  # what the run did: create, delete, scenario, ...
    cluster: str = ""
    provider: str = ""
    kubernetes_version: str = ""
    node_image: str = ""
    node_image_id: str = ""  # the image's content digest (Docker image id), so two runs can be compared
    join_discovery: str = ""  # how nodes learned the cluster CA when they joined
    insecure: list[str] = field(default_factory=list)  # what the run did without a security check it could have had
    spec: dict[str, Any] = field(default_factory=dict)
    phases: list[PhaseRecord] = field(default_factory=list)
    measurements: dict[str, float] = field(default_factory=dict)
    status: str = RUNNING
    start: float = field(default_factory=time.time)
    duration: float = 0.0
    dir: str = ""

    def __post_init__(self) -> None:
        if not self.dir:
            self.dir = str(reports_root() / self.run_id)

    @property
    def path(self) -> Path:
        return Path(self.dir) / "run.json"

    def phase_log(self, index: int, name: str) -> Path:
        return Path(self.dir) / "phases" / f"{index:02d}-{name}.log"

    def finish(self, status: str) -> None:
        self.status = status
        self.duration = round(time.time() - self.start, 3)
        self.save()

    def save(self) -> Path:
        return save_json(self.path, asdict(self))

    @classmethod
    def load(cls, path: Path) -> RunRecord:
        doc = json.loads(path.read_text())
        doc["phases"] = [_phase(p) for p in doc.get("phases", [])]
        return cls(**doc)


def save_json(path: Path, doc: dict[str, Any]) -> Path:
    """A record written whole (atomically), redacted, in a folder only its owner reads."""
    private_dir(path.parent)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(redact(json.dumps(doc, indent=2, default=str)))
    tmp.replace(path)
    return path


def _phase(doc: dict[str, Any]) -> PhaseRecord:
    steps = [StepRecord(**s) for s in doc.pop("steps", [])]
    return PhaseRecord(**doc, steps=steps)
