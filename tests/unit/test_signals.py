"""harness.signals and the engine: SIGTERM and SIGHUP clean up as SIGINT does, in the main thread
and in engines running in other threads; cleanup itself is not cut short; injected failures."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness import signals
from harness.errors import UsageError
from harness.phases.engine import FAIL_ENV, Context, Engine, InjectedFailure, Phase, PhaseFailed
from harness.reporting.record import FAILED, INTERRUPTED, OK, RunRecord

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def _clean_state() -> Iterator[None]:
    signals.reset()
    yield
    signals.reset()


@pytest.fixture
def handlers() -> Iterator[None]:
    previous = signals.install()
    yield
    signals.restore(previous)


def ctx(tmp_path: Path) -> Context:
    return Context(RunRecord("r", "test", dir=str(tmp_path / "run")))


def long(c: Context) -> None:
    """A phase that checks for cancellation between its steps, as real phases do."""
    for _ in range(600):
        c.check()
        time.sleep(0.05)


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_each_signal_raises_interrupted_with_its_exit_code(handlers: None, sig: int, code: int) -> None:
    with pytest.raises(signals.Interrupted) as info:
        os.kill(os.getpid(), sig)
        time.sleep(1)
    assert isinstance(info.value, KeyboardInterrupt)
    assert info.value.signum == sig and signals.exit_code(info.value) == code
    assert signals.INTERRUPTED.is_set()


def test_the_same_signal_twice_at_once_counts_once(handlers: None) -> None:
    with pytest.raises(signals.Interrupted):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(1)
    os.kill(os.getpid(), signal.SIGTERM)  # the forwarded copy: ignored, cleanup goes on
    time.sleep(0.05)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_mid_phase_runs_cleanup(handlers: None, tmp_path: Path, sig: int) -> None:
    cleaned: list[str] = []

    def fire() -> None:
        time.sleep(0.3)
        os.kill(os.getpid(), sig)

    threading.Thread(target=fire).start()
    run = ctx(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        Engine([Phase("long", long), Phase("cleanup", lambda c: cleaned.append("yes"), when="failure")]).run(run)
    assert cleaned == ["yes"]
    assert [p.status for p in run.record.phases] == [INTERRUPTED, OK]


def test_an_engine_in_another_thread_sees_the_interruption_and_cleans_up(tmp_path: Path) -> None:
    cleaned: list[str] = []
    outcome: list[BaseException] = []
    run = ctx(tmp_path)

    def background() -> None:
        phases = [Phase("long", long),
                  Phase("cleanup", lambda c: (time.sleep(0.5), cleaned.append("yes")), when="failure")]  # fmt: skip
        try:
            Engine(phases).run(run)
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=background)
    thread.start()
    time.sleep(0.3)
    signals.INTERRUPTED.set()  # what the main thread's handler does
    thread.join(10)
    assert not thread.is_alive()
    assert cleaned == ["yes"], "the cleanup phase ran to its end although INTERRUPTED was set"
    assert isinstance(outcome[0], KeyboardInterrupt)
    assert run.record.phases[0].status == INTERRUPTED


@pytest.mark.parametrize("when", ["", ":after"])
def test_an_injected_failure_fails_its_phase_and_runs_cleanup(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                              when: str) -> None:  # fmt: skip
    ran: list[str] = []
    monkeypatch.setenv(FAIL_ENV, f"work{when}")
    run = ctx(tmp_path)
    with pytest.raises(PhaseFailed, match="KUBE_HARNESS_FAIL_PHASE"):
        Engine([Phase("work", lambda c: ran.append("work")), Phase("next", lambda c: ran.append("next")),
                Phase("cleanup", lambda c: ran.append("cleanup"), when="failure")]).run(run)  # fmt: skip
    assert ran == (["work", "cleanup"] if when else ["cleanup"])
    assert run.record.phases[0].status == FAILED and InjectedFailure.__name__


def test_bad_input_found_in_a_phase_is_raised_as_itself(tmp_path: Path) -> None:
    def taken(c: Context) -> None:
        raise UsageError("a cluster named 'x' already exists", fix="pick another name")

    with pytest.raises(UsageError, match="already exists"):
        Engine([Phase("claim", taken)]).run(ctx(tmp_path))


def test_children_lists_this_processes_children() -> None:
    import subprocess

    proc = subprocess.Popen(["sleep", "5"])
    try:
        assert proc.pid in signals.children()
    finally:
        proc.kill()
        proc.wait()
