"""One id and one directory per pytest session, shared by the controller and its xdist workers.

The controller (or pytest without xdist) sets them in the environment at configure time, before
xdist starts its workers, which inherit them. Cluster labels carry the session id.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

SESSION_ENV = "KUBE_HARNESS_SESSION"
SESSION_DIR_ENV = "KUBE_HARNESS_SESSION_DIR"


def start_session() -> str:
    """Called by the non-worker process: a new session id and shared directory."""
    sid = uuid.uuid4().hex[:12]
    os.environ[SESSION_ENV] = sid
    os.environ[SESSION_DIR_ENV] = str(Path(tempfile.gettempdir()) / f"kube-harness-session-{sid}")
    return sid


def session_id() -> str:
    return os.environ.get(SESSION_ENV, "")


def session_dir() -> Path:
    if SESSION_DIR_ENV not in os.environ:
        start_session()
    return Path(os.environ[SESSION_DIR_ENV])
