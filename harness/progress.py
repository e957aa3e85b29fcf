"""Progress of long steps on stderr (what, elapsed) with each step's full output in a log file."""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from harness.paths import reports_root


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
            print(text, file=sys.stderr, flush=True)

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
