"""SIGINT, SIGTERM and SIGHUP all mean the same: stop, clean up, exit.

A terminal's Ctrl-C (SIGINT), a CI cancel (SIGTERM) and a closed terminal (SIGHUP) each raise
``Interrupted`` (a KeyboardInterrupt) in the main thread, so every ``finally``, context manager and
cleanup phase that handles Ctrl-C handles the others the same way, and set ``INTERRUPTED``, which
phases running in other threads (clusters made in the background) watch. The same signal arriving
twice within a second (the process group's copy and a forwarded one) counts once, so it does not
cut the cleanup short; a later one does, as a second Ctrl-C does.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
INTERRUPTED = threading.Event()
REPEAT_S = 1.0
_first: dict[str, float] = {}


class Interrupted(KeyboardInterrupt):
    """Raised in the main thread by SIGINT, SIGTERM or SIGHUP; ``signum`` says which."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def exit_code(exc: BaseException) -> int:
    """The shell's code for death by that signal: 130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP."""
    return exc.exit_code if isinstance(exc, Interrupted) else 130


def _handler(forward: Callable[[int], None] | None) -> Callable[[int, FrameType | None], None]:
    def handle(signum: int, frame: FrameType | None) -> None:
        now = time.monotonic()
        if INTERRUPTED.is_set() and now - _first.get("at", 0) < REPEAT_S:
            return  # the same interruption, delivered twice
        if not INTERRUPTED.is_set():
            _first["at"] = now
        INTERRUPTED.set()
        if forward is not None:
            forward(signum)
        raise Interrupted(signum)

    return handle


def install(forward: Callable[[int], None] | None = None) -> dict[int, Any]:
    """Handle SIGINT, SIGTERM and SIGHUP (main thread only; elsewhere nothing happens); ``forward``
    also passes the signal on (to xdist workers). Returns the handlers replaced, for ``restore``."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {sig: signal.signal(sig, _handler(forward)) for sig in SIGNALS}


def restore(previous: dict[int, Any]) -> None:
    for sig, handler in previous.items():
        with contextlib.suppress(ValueError, TypeError):
            signal.signal(sig, handler)


def reset() -> None:
    """Forget an interruption (tests; a process that handled one and goes on)."""
    INTERRUPTED.clear()
    _first.clear()


def children(pid: int | None = None) -> list[int]:
    """The direct child processes of ``pid`` (default: this process), from /proc."""
    pid = pid or os.getpid()
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            out += [int(p) for p in task.read_text().split()]
    return out


def forward_to_children(signum: int) -> None:
    """Pass ``signum`` on to this process's children (xdist workers a CI cancel did not reach)."""
    for child in children():
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(child, signum)
