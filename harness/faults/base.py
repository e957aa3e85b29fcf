"""The Fault context manager: inject on enter, revert on exit (also after errors and Ctrl-C); on
exit it emits a ``fault`` event (``harness.reporting.events``) with both times."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType

from harness.reporting import events


@dataclass
class Fault:
    """``name`` on ``target``; ``inject``/``revert`` are callables; times are wall-clock seconds."""

    name: str
    target: str
    inject: Callable[[], None]
    revert: Callable[[], None]
    injected_at: float = 0.0
    reverted_at: float = 0.0
    notes: dict[str, str] = field(default_factory=dict)

    def __enter__(self) -> Fault:
        try:
            self.inject()
        except BaseException:
            self.revert()  # a half-injected fault is undone too
            raise
        self.injected_at = time.time()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:  # fmt: skip
        try:
            self.revert()
        finally:
            self.reverted_at = time.time()
            events.emit("fault", at=self.injected_at, **self.record())

    def record(self) -> dict[str, float | str]:
        return {"fault": self.name, "target": self.target, "injected_at": self.injected_at,
                "reverted_at": self.reverted_at, **self.notes}  # fmt: skip
