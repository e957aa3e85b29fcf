"""Progress of long steps on stderr (what, elapsed) with each step's full output in a log file.

Under pytest the plugin sets ``KUBE_HARNESS_PROGRESS`` to a file its controller follows: the lines
go there instead (from any xdist worker) and pytest's terminal shows them, captured or not.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from harness.paths import reports_root

PROGRESS_ENV = "KUBE_HARNESS_PROGRESS"


def say(text: str) -> None:
    """One progress line: to the followed file under pytest, else stderr."""
    target = os.environ.get(PROGRESS_ENV)
    if target:
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        with open(target, "a") as fh:  # one short append per line: whole lines across processes
            fh.write((f"[{worker}] " if worker else "") + text.replace("\n", " ") + "\n")
        return
    print(text, file=sys.stderr, flush=True)


@dataclass
class Progress:
    """Prints ``==> what`` and, every ``tick`` seconds, ``... what (elapsed)``; logs go to ``log_dir``."""

    log_dir: Path = field(default_factory=lambda: reports_root() / "build" / time.strftime("%Y%m%d-%H%M%S"))
    tick: float = 30.0
    quiet: bool = False
    timings: dict[str, float] = field(default_factory=dict)

    def log(self, name: str) -> Path:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        return self.log_dir / f"{name}.log"

    def say(self, text: str) -> None:
        if not self.quiet:
            say(text)

    @contextlib.contextmanager
    def step(self, what: str, name: str | None = None) -> Iterator[Path]:
        """Announce a step, tick while it runs, report its duration; yields its log file path."""
        log = self.log(name or _slug(what))
        self.say(f"==> {what}  (log: {log})")
        start = time.monotonic()
        stop = threading.Event()
        ticker = threading.Thread(target=self._ticker, args=(what, start, stop), daemon=True)
        ticker.start()
        try:
            yield log
        except BaseException:
            self.say(f"xx  {what} failed after {time.monotonic() - start:.0f}s (log: {log})")
            raise
        finally:
            stop.set()
        elapsed = time.monotonic() - start
        self.timings[name or _slug(what)] = round(elapsed, 1)
        self.say(f"ok  {what} ({elapsed:.0f}s)")

    def _ticker(self, what: str, start: float, stop: threading.Event) -> None:
        while not stop.wait(self.tick):
            self.say(f"... {what} ({time.monotonic() - start:.0f}s)")


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")[:60]
