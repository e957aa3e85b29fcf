"""One id and one directory per pytest session, shared by the controller and its xdist workers.

The controller (or pytest without xdist) sets them in the environment at configure time, before
xdist starts its workers, which inherit them, and removes the directory (lock and registry files)
at unconfigure, after the workers are gone. Cluster labels carry the session id.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

from harness.progress import PROGRESS_ENV
from harness.providers.base import LABEL_SESSION, LABEL_WORKER
from harness.reporting.session import SESSION_DIR_ENV, SESSION_ENV


def start_session() -> dict[str, str | None]:
    """Called by the non-worker process: a new session id and shared directory; returns the
    environment it replaced, for ``end_session`` (pytester runs a session inside a session)."""
    before = {k: os.environ.get(k) for k in (SESSION_ENV, SESSION_DIR_ENV, PROGRESS_ENV)}
    sid = uuid.uuid4().hex[:12]
    os.environ[SESSION_ENV] = sid
    os.environ[SESSION_DIR_ENV] = str(Path(tempfile.gettempdir()) / f"kube-harness-session-{sid}")
    os.environ.pop(PROGRESS_ENV, None)  # the plugin's reporter sets it when it shows progress
    return before


def end_session(before: dict[str, str | None]) -> None:
    """Remove the session's directory and put back the environment ``start_session`` replaced."""
    shutil.rmtree(session_dir(), ignore_errors=True)
    for key, value in before.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def session_id() -> str:
    return os.environ.get(SESSION_ENV, "")


def xdist_worker() -> str:
    """The pytest-xdist worker id (gw0, gw1, ...) or ``main`` outside xdist."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def owner() -> dict[str, str]:
    """The labels saying which session and worker made a cluster (the session's end sweeps by them)."""
    return {LABEL_WORKER: xdist_worker(), **({LABEL_SESSION: session_id()} if session_id() else {})}


def session_dir() -> Path:
    if SESSION_DIR_ENV not in os.environ:
        start_session()
    return Path(os.environ[SESSION_DIR_ENV])


USED = "kube-harness-used"


def mark_used() -> None:
    """This session made (or is making) a cluster: its end sweeps what is left of it."""
    session_dir().mkdir(parents=True, exist_ok=True)
    (session_dir() / USED).touch()


def session_used_clusters() -> bool:
    return (session_dir() / USED).exists()
