"""The host-wide lock under which cluster names and Docker subnets are chosen and claimed.

Two ``create``s (or pytest sessions) on one host, whatever their cache directories, take this lock
while they check that a name is free and claim it (the state file, the labelled network), and while
Docker picks and fixes a network's subnet, so they never pick the same name or subnet. It is held
for well under a second each time.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from filelock import FileLock, Timeout

LOCK_DIR_ENV = "KUBE_HARNESS_LOCK_DIR"


def host_lock(timeout: float = 120) -> FileLock:
    """``$KUBE_HARNESS_LOCK_DIR/kube-harness-host.lock`` (default: the system temp directory)."""
    root = Path(os.environ.get(LOCK_DIR_ENV) or tempfile.gettempdir())
    root.mkdir(parents=True, exist_ok=True)
    return FileLock(str(root / "kube-harness-host.lock"), timeout=timeout)


@contextlib.contextmanager
def waiting_lock(path: Path, waiting: Callable[[str], None]) -> Iterator[None]:
    """Hold the file lock at ``path``; if another process has it, say so through ``waiting``
    (with the lock's path) and wait for it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        waiting(str(path))
        lock.acquire()
    try:
        yield
    finally:
        lock.release()
