"""The one polling loop of the code base.

``wait_for(check, timeout=..., describe=...)`` calls ``check`` until it returns a truthy value and
returns that value. ``check`` may raise (the error is kept) or return a falsy value (kept as the
last observation). On timeout a ``WaitTimeout`` says what was awaited, for how long, the last error
and the last observation. tenacity does the retrying.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import tenacity

from harness.errors import WaitTimeout

T = TypeVar("T")


class _NotYet(Exception):
    def __init__(self, observed: object) -> None:
        super().__init__(repr(observed))
        self.observed = observed


def wait_for(
    check: Callable[[], T],
    *,
    timeout: float,
    describe: str,
    interval: float = 1.0,
    max_interval: float | None = None,
) -> T:
    """Poll ``check`` until truthy; raise ``WaitTimeout`` naming ``describe`` after ``timeout`` s."""
    state: dict[str, object] = {"error": None, "observed": None, "tries": 0}

    def attempt() -> T:
        state["tries"] = int(state["tries"]) + 1  # type: ignore[call-overload]
        try:
            value = check()
        except _NotYet:
            raise
        except Exception as exc:
            state["error"] = exc
            raise
        if not value:
            state["observed"] = value
            raise _NotYet(value)
        return value

    wait = (
        tenacity.wait_fixed(interval)
        if max_interval is None
        else tenacity.wait_exponential(multiplier=interval, max=max_interval)
    )
    start = time.monotonic()
    try:
        return tenacity.Retrying(
            stop=tenacity.stop_after_delay(timeout), wait=wait, reraise=False, retry=tenacity.retry_if_exception_type()
        )(attempt)
    except tenacity.RetryError:
        elapsed = time.monotonic() - start
        raise WaitTimeout(_timeout_message(describe, elapsed, state)) from None


def _timeout_message(describe: str, elapsed: float, state: dict[str, object]) -> str:
    lines = [f"timed out after {elapsed:.1f}s waiting for {describe} ({state['tries']} tries)"]
    if state["error"] is not None:
        err = state["error"]
        lines.append(f"  last error: {type(err).__name__}: {err}")
    if state["observed"] is not None:
        lines.append(f"  last observed: {state['observed']!r}")
    return "\n".join(lines)


def eventually(check: Callable[[], T], *, timeout: float, interval: float = 1.0) -> T:
    """Retry an asserting ``check`` until it passes; after ``timeout`` s re-raise its last
    ``AssertionError`` (the scenario's own message, naming the broken part) with the time waited.
    For state the cluster converges to (kube-proxy rules, endpoints, DNS records)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except AssertionError as exc:
            if time.monotonic() >= deadline:
                raise AssertionError(f"{exc}\n(still so after retrying for {timeout:.0f}s)") from None
        time.sleep(interval)
