"""What happened during a test, with wall-clock times: faults injected and reverted, and what the
cluster did meanwhile (see ``observe.py``). The pytest plugin opens a journal around each test's
call and hands the events to the test's report (``kube_harness_events``), so they reach the session
record from xdist workers too. Outside a journal ``emit`` does nothing: faults used from the CLI or
a script cost nothing.

    with events.journal() as got:
        with faults.kill_node(cluster, "demo-worker2"):
            ...
    got  # [{"type": "fault", "fault": "kill-node", "target": "demo-worker2", "injected_at": ..., ...}, ...]
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

PROPERTY = "kube_harness_events"  # the user property that carries a test's events (JSON)

_lock = threading.Lock()
_journals: list[list[dict[str, Any]]] = []


def emit(kind: str, at: float | None = None, **fields: Any) -> None:
    """Add an event (``type`` = ``kind``, ``at`` = now unless given) to every open journal."""
    event = {"type": kind, "at": round(time.time() if at is None else at, 3), **fields}
    with _lock:
        for journal in _journals:
            journal.append(event)


@contextlib.contextmanager
def journal() -> Iterator[list[dict[str, Any]]]:
    """Collect the events emitted (by any thread) while the block runs."""
    got: list[dict[str, Any]] = []
    with _lock:
        _journals.append(got)
    try:
        yield got
    finally:
        with _lock:  # by identity: an equal journal may be open too (pytest inside pytest)
            _journals[:] = [j for j in _journals if j is not got]


def encode(got: list[dict[str, Any]]) -> str:
    return json.dumps(sorted(got, key=lambda e: e["at"]), separators=(",", ":"), default=str)


def decode(text: str) -> list[dict[str, Any]]:
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return []
    return [e for e in value if isinstance(e, dict)] if isinstance(value, list) else []
