"""harness.wait.wait_for: the polling loop and what its timeout says."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from harness.errors import WaitTimeout
from harness.wait import wait_for

pytestmark = pytest.mark.unit


def sequence(*steps: object) -> Callable[[], object]:
    """A check that goes through ``steps`` (exceptions are raised), then repeats the last one."""
    it: Iterator[object] = iter(steps)
    last: list[object] = [None]

    def check() -> object:
        last[0] = next(it, last[0])
        if isinstance(last[0], Exception):
            raise last[0]
        return last[0]

    return check


def test_returns_the_truthy_value() -> None:
    check = sequence(RuntimeError("not yet"), [], 0, {"ready": True})
    assert wait_for(check, timeout=5, describe="node ready", interval=0.01) == {"ready": True}


def test_timeout_names_what_was_awaited_and_what_was_seen() -> None:
    check = sequence(ConnectionError("connection refused"), 0, [])
    with pytest.raises(WaitTimeout) as err:
        wait_for(check, timeout=0.3, describe="the API server to answer", interval=0.05)
    text = str(err.value)
    assert "waiting for the API server to answer" in text
    assert "last error: ConnectionError: connection refused" in text
    assert "last observed: []" in text
    assert err.value.exit_code == 6


def test_timeout_with_only_errors_has_no_observation() -> None:
    with pytest.raises(WaitTimeout) as err:
        wait_for(sequence(ValueError("bad json")), timeout=0.1, describe="pods", interval=0.05)
    assert "last error: ValueError: bad json" in str(err.value)
    assert "last observed" not in str(err.value)


def test_timeout_with_only_falsy_values_has_no_error() -> None:
    with pytest.raises(WaitTimeout) as err:
        wait_for(sequence(""), timeout=0.1, describe="a log line", interval=0.05)
    assert "last observed: ''" in str(err.value)
    assert "last error" not in str(err.value)
