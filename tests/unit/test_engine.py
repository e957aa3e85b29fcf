"""harness.phases.engine: phase order, per-phase logs, skip-after-failure, cleanup, timeouts and Ctrl-C.

Timing is only used to *cause* a timeout or an interrupt; assertions are about order and status,
with ordering recorded by the phases themselves (``Trace``).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from harness.errors import HarnessError
from harness.phases import engine
from harness.phases.engine import Context, Engine, Phase, PhaseCancelled, PhaseFailed
from harness.reporting.record import (
    FAILED,
    INTERRUPTED,
    OK,
    RUNNING,
    SKIPPED,
    TIMEOUT,
    PhaseRecord,
    RunRecord,
    new_run_id,
)

pytestmark = pytest.mark.unit

SAFETY_S = 5.0  # upper bound for any loop in a phase, so a broken engine cannot leave a thread spinning


@pytest.fixture(autouse=True)
def _short_grace(monkeypatch: pytest.MonkeyPatch) -> None:
    """Our phases stop within ~10 ms of cancellation; a broken cancel must not cost 20 s."""
    monkeypatch.setattr(engine, "CANCEL_GRACE_S", 2.0)


class Trace:
    """A thread-safe list of what happened, in order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.events: list[str] = []

    def add(self, event: str) -> None:
        with self._lock:
            self.events.append(event)


@pytest.fixture
def trace() -> Trace:
    return Trace()


def make_ctx(keep: bool = False) -> Context:
    return Context(RunRecord(new_run_id(), "test"), keep=keep)


def statuses(record: RunRecord) -> dict[str, str]:
    return {p.name: p.status for p in record.phases}


def ok(trace: Trace, name: str, when: str = "success") -> Phase:
    def run(ctx: Context) -> None:
        trace.add(name)
        ctx.say(f"hello from {name}")

    return Phase(name, run, when=when)


def boom(trace: Trace, name: str, when: str = "success") -> Phase:
    def run(ctx: Context) -> None:
        trace.add(name)
        ctx.say(f"{name} about to fail")
        raise RuntimeError(f"{name} exploded")

    return Phase(name, run, when=when)


def until_cancelled(trace: Trace, name: str, timeout: float, on_start: Callable[[], None] | None = None) -> Phase:
    """A phase that loops on ctx.check() until the engine cancels it (bounded by SAFETY_S)."""

    def run(ctx: Context) -> None:
        trace.add(f"{name} start")
        if on_start:
            on_start()
        deadline = time.monotonic() + SAFETY_S
        try:
            while time.monotonic() < deadline:
                ctx.check()
                time.sleep(0.01)
            trace.add(f"{name} never cancelled")
        except PhaseCancelled:
            trace.add(f"{name} cancelled")
            raise
        finally:
            trace.add(f"{name} stopped")

    return Phase(name, run, timeout=timeout)


def cleanup(trace: Trace, name: str, when: str = "failure") -> Phase:
    """A cleanup phase that also proves the cancel flag was cleared for it."""

    def run(ctx: Context) -> None:
        trace.add(name)
        ctx.check()  # must not raise: the previous phase's cancellation is over
        ctx.say(f"{name} cleaned up")

    return Phase(name, run, when=when)


# --- the happy path ---------------------------------------------------------------------------


def test_phases_run_in_order_each_with_its_own_log(trace: Trace) -> None:
    ctx = make_ctx()
    result = Engine([ok(trace, "first"), ok(trace, "second"), ok(trace, "third")]).run(ctx)

    assert result is ctx.record
    assert trace.events == ["first", "second", "third"]
    assert statuses(ctx.record) == {"first": OK, "second": OK, "third": OK}
    assert ctx.record.status == OK
    run_dir = Path(os.environ["KUBE_HARNESS_REPORTS"]) / ctx.record.run_id
    for index, rec in enumerate(ctx.record.phases):
        log = Path(rec.log)
        assert log == run_dir / "phases" / f"{index:02d}-{rec.name}.log"
        assert log.read_text() == f"hello from {rec.name}\n"  # only its own lines
        assert rec.duration >= 0
        assert rec.start > 0
        assert rec.error == ""
    assert ctx.record.duration >= 0


def test_record_json_is_saved_and_loadable(trace: Trace) -> None:
    ctx = make_ctx()
    seen_mid_run: list[RunRecord] = []

    def peek(c: Context) -> None:
        seen_mid_run.append(RunRecord.load(c.record.path))

    Engine([ok(trace, "first"), Phase("peek", peek), ok(trace, "last")]).run(ctx)

    mid = seen_mid_run[0]  # saved before the running phase started
    assert [(p.name, p.status) for p in mid.phases] == [("first", OK), ("peek", RUNNING)]
    assert mid.status == RUNNING

    loaded = RunRecord.load(ctx.record.path)
    assert loaded == ctx.record
    assert loaded.status == OK
    assert statuses(loaded) == {"first": OK, "peek": OK, "last": OK}
    assert all(p.duration >= 0 for p in loaded.phases)


def test_context_state_is_shared_between_phases() -> None:
    def produce(ctx: Context) -> None:
        ctx.state["kubeconfig"] = "/tmp/kc"

    got: list[object] = []
    ctx = make_ctx()
    ctx.state = {}
    Engine([Phase("produce", produce), Phase("consume", lambda c: got.append(c.state["kubeconfig"]))]).run(ctx)
    assert got == ["/tmp/kc"]


def test_on_success_failure_phases_are_skipped_and_always_phases_run(trace: Trace) -> None:
    ctx = make_ctx()
    Engine(
        [ok(trace, "create"), cleanup(trace, "delete", "failure"), ok(trace, "export", "always"), ok(trace, "after")]
    ).run(ctx)

    assert trace.events == ["create", "export", "after"]
    assert statuses(ctx.record) == {"create": OK, "delete": SKIPPED, "export": OK, "after": OK}
    assert ctx.record.status == OK
    skipped = ctx.record.phases[1]
    assert skipped.when == "failure"
    assert skipped.log == ""  # a skipped phase writes no log and names none
    assert Path(ctx.record.phases[2].log).name == "02-export.log"  # numbering counts skipped phases


def test_on_phase_receives_each_executed_phase_record(trace: Trace) -> None:
    got: list[tuple[str, str]] = []
    records: list[PhaseRecord] = []

    def on_phase(rec: PhaseRecord) -> None:
        records.append(rec)
        got.append((rec.name, rec.status))

    ctx = make_ctx()
    with pytest.raises(PhaseFailed):
        Engine(
            [
                ok(trace, "a"),
                boom(trace, "b"),
                ok(trace, "c"),
                cleanup(trace, "d", "failure"),
                ok(trace, "e", "always"),
            ],
            on_phase=on_phase,
        ).run(ctx)

    assert got == [("a", OK), ("b", FAILED), ("d", OK), ("e", OK)]  # final status, no skipped "c"
    assert all(any(r is p for p in ctx.record.phases) for r in records)  # the record's own objects


# --- failure ----------------------------------------------------------------------------------


def test_failure_skips_success_phases_and_runs_cleanup(trace: Trace) -> None:
    ctx = make_ctx()
    phases = [
        ok(trace, "image"),
        boom(trace, "create"),
        ok(trace, "test"),
        cleanup(trace, "delete", "failure"),
        ok(trace, "export", "always"),
        ok(trace, "report"),
    ]
    with pytest.raises(PhaseFailed) as err:
        Engine(phases).run(ctx)

    assert trace.events == ["image", "create", "delete", "export"]
    assert statuses(ctx.record) == {
        "image": OK,
        "create": FAILED,
        "test": SKIPPED,
        "delete": OK,
        "export": OK,
        "report": SKIPPED,
    }
    assert ctx.record.status == FAILED
    assert RunRecord.load(ctx.record.path) == ctx.record  # saved after cleanup

    failed = ctx.record.phases[1]
    assert failed.error == "create exploded"
    assert failed.duration >= 0
    exc = err.value
    assert isinstance(exc, HarnessError)
    assert exc.exit_code == 7
    assert "create" in exc.message
    assert FAILED in exc.message
    assert "create exploded" in exc.message
    assert exc.fix is not None
    assert failed.log in exc.fix
    assert failed.log.endswith("01-create.log")


def test_failure_traceback_lands_in_the_phase_log(trace: Trace) -> None:
    ctx = make_ctx()
    with pytest.raises(PhaseFailed):
        Engine([boom(trace, "create"), cleanup(trace, "delete")]).run(ctx)

    text = Path(ctx.record.phases[0].log).read_text()
    assert text.startswith("create about to fail\n")
    assert "Traceback (most recent call last)" in text
    assert "RuntimeError: create exploded" in text
    assert "phase create failed: create exploded" in text
    cleanup_log = Path(ctx.record.phases[1].log).read_text()
    assert "Traceback" not in cleanup_log
    assert cleanup_log == "delete cleaned up\n"


def test_keep_skips_failure_phases_but_runs_always_phases(trace: Trace) -> None:
    ctx = make_ctx(keep=True)
    with pytest.raises(PhaseFailed):
        Engine([boom(trace, "create"), ok(trace, "test"), cleanup(trace, "delete"), ok(trace, "export", "always")]).run(
            ctx
        )

    assert trace.events == ["create", "export"]
    assert statuses(ctx.record) == {"create": FAILED, "test": SKIPPED, "delete": SKIPPED, "export": OK}
    assert ctx.record.status == FAILED


def test_keep_without_failure_changes_nothing(trace: Trace) -> None:
    ctx = make_ctx(keep=True)
    Engine([ok(trace, "create"), cleanup(trace, "delete"), ok(trace, "export", "always")]).run(ctx)
    assert statuses(ctx.record) == {"create": OK, "delete": SKIPPED, "export": OK}


def test_the_first_failure_is_the_one_reported(trace: Trace) -> None:
    ctx = make_ctx()
    with pytest.raises(PhaseFailed) as err:
        Engine(
            [boom(trace, "create"), boom(trace, "delete", "failure"), ok(trace, "export", "always")],
        ).run(ctx)

    assert trace.events == ["create", "delete", "export"]  # a failing cleanup does not stop later ones
    assert statuses(ctx.record) == {"create": FAILED, "delete": FAILED, "export": OK}
    assert "phase create failed" in err.value.message
    assert err.value.fix is not None
    assert "00-create.log" in err.value.fix


def test_a_failing_always_phase_fails_the_run(trace: Trace) -> None:
    ctx = make_ctx()
    with pytest.raises(PhaseFailed) as err:
        Engine([ok(trace, "create"), boom(trace, "export", "always"), cleanup(trace, "delete")]).run(ctx)
    assert statuses(ctx.record) == {"create": OK, "export": FAILED, "delete": OK}
    assert "export" in err.value.message


# --- timeout ----------------------------------------------------------------------------------


def test_timeout_cancels_the_phase_before_cleanup_runs(trace: Trace) -> None:
    ctx = make_ctx()
    phases = [
        until_cancelled(trace, "wait", 0.2),
        ok(trace, "test"),
        cleanup(trace, "delete", "failure"),
        cleanup(trace, "export", "always"),
    ]
    with pytest.raises(PhaseFailed) as err:
        Engine(phases).run(ctx)

    # the cancelled phase had stopped (via ctx.check()) before any cleanup started
    assert trace.events == ["wait start", "wait cancelled", "wait stopped", "delete", "export"]
    assert statuses(ctx.record) == {"wait": TIMEOUT, "test": SKIPPED, "delete": OK, "export": OK}
    assert ctx.record.status == TIMEOUT
    assert not ctx.cancelled.is_set()

    timed_out = ctx.record.phases[0]
    assert "did not finish within" in timed_out.error
    assert f"phase wait {TIMEOUT}" in err.value.message
    assert err.value.fix is not None
    assert timed_out.log in err.value.fix
    log = Path(timed_out.log).read_text()
    assert "PhaseCancelled" in log
    assert f"phase wait {TIMEOUT}: did not finish within" in log
    assert RunRecord.load(ctx.record.path).status == TIMEOUT


def test_a_phase_that_finishes_in_time_is_not_cancelled(trace: Trace) -> None:
    ctx = make_ctx()
    Engine([Phase("quick", lambda c: c.check(), timeout=5), cleanup(trace, "next", "always")]).run(ctx)
    assert statuses(ctx.record) == {"quick": OK, "next": OK}


# --- Ctrl-C -----------------------------------------------------------------------------------


@pytest.fixture
def sigint_to_main() -> Iterator[Callable[[], None]]:
    """``send()`` schedules a real SIGINT to the main thread 0.1 s later (like Ctrl-C in a terminal).

    ``_thread.interrupt_main()`` is not used: it only sets Python's signal flag, which does not wake a
    main thread blocked in ``Event.wait(timeout)`` — the KeyboardInterrupt would surface only when the
    wait returned, i.e. after the phase timeout. A real signal interrupts the wait at once.
    """
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("needs to run in the main thread")
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timers: list[threading.Timer] = []
    main_id = threading.main_thread().ident
    assert main_id is not None

    def send() -> None:
        timer = threading.Timer(0.1, signal.pthread_kill, args=(main_id, signal.SIGINT))
        timers.append(timer)
        timer.start()

    yield send
    for timer in timers:
        timer.cancel()
        timer.join()
    signal.signal(signal.SIGINT, previous)


def test_ctrl_c_interrupts_the_phase_runs_cleanup_and_reraises(
    trace: Trace, sigint_to_main: Callable[[], None]
) -> None:
    ctx = make_ctx()
    calls: list[tuple[str, str]] = []
    phases = [
        ok(trace, "image"),
        until_cancelled(trace, "create", 30, on_start=sigint_to_main),
        ok(trace, "test"),
        cleanup(trace, "delete", "failure"),
        cleanup(trace, "export", "always"),
    ]
    with pytest.raises(KeyboardInterrupt):
        Engine(phases, on_phase=lambda r: calls.append((r.name, r.status))).run(ctx)

    assert trace.events == ["image", "create start", "create cancelled", "create stopped", "delete", "export"]
    assert statuses(ctx.record) == {
        "image": OK,
        "create": INTERRUPTED,
        "test": SKIPPED,
        "delete": OK,
        "export": OK,
    }
    assert calls == [("image", OK), ("create", INTERRUPTED), ("delete", OK), ("export", OK)]
    assert ctx.record.status == INTERRUPTED
    assert RunRecord.load(ctx.record.path).status == INTERRUPTED
    interrupted = ctx.record.phases[1]
    assert interrupted.error == "KeyboardInterrupt"
    assert "phase create interrupted: KeyboardInterrupt" in Path(interrupted.log).read_text()


def test_ctrl_c_with_keep_skips_failure_cleanup(trace: Trace, sigint_to_main: Callable[[], None]) -> None:
    ctx = make_ctx(keep=True)
    phases = [
        until_cancelled(trace, "create", 30, on_start=sigint_to_main),
        cleanup(trace, "delete", "failure"),
        cleanup(trace, "export", "always"),
    ]
    with pytest.raises(KeyboardInterrupt):
        Engine(phases).run(ctx)
    assert trace.events == ["create start", "create cancelled", "create stopped", "export"]
    assert statuses(ctx.record) == {"create": INTERRUPTED, "delete": SKIPPED, "export": OK}


def test_a_second_ctrl_c_does_not_stop_cleanup(trace: Trace, sigint_to_main: Callable[[], None]) -> None:
    """Ctrl-C twice (the second while cleanup runs, or during the grace after a cancel): the
    cleanup still runs to its end, and the run ends with the first interruption."""
    ctx = make_ctx()

    def slow_delete(c: Context) -> None:
        trace.add("delete start")
        sigint_to_main()  # the user presses Ctrl-C again while things are being removed
        time.sleep(0.5)
        trace.add("delete done")

    phases = [
        until_cancelled(trace, "create", 30, on_start=sigint_to_main),
        Phase("delete", slow_delete, when="failure"),
    ]
    with pytest.raises(KeyboardInterrupt):
        Engine(phases).run(ctx)
    assert trace.events == ["create start", "create cancelled", "create stopped", "delete start", "delete done"]
    assert statuses(ctx.record) == {"create": INTERRUPTED, "delete": OK}


# --- a phase outliving the grace period -----------------------------------------------------


def test_a_phase_outliving_the_grace_stays_cancelled_and_keeps_its_own_log(
    trace: Trace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "CANCEL_GRACE_S", 0.05)
    release, late_done = threading.Event(), threading.Event()

    def stuck(ctx: Context) -> None:  # e.g. blocked in a command that ignores cancellation
        release.wait(SAFETY_S)
        try:
            ctx.check()
            trace.add("stuck kept running")
            ctx.say("stuck: late line")
        except PhaseCancelled:
            trace.add("stuck cancelled")
        finally:
            late_done.set()

    def delete(ctx: Context) -> None:
        release.set()  # let the stuck phase wake up while cleanup is running
        late_done.wait(SAFETY_S)
        trace.add("delete")
        ctx.say("delete: done")

    ctx = make_ctx()
    with pytest.raises(PhaseFailed):
        Engine([Phase("stuck", stuck, timeout=0.1), Phase("delete", delete, when="failure")]).run(ctx)

    assert Path(ctx.record.phases[1].log).read_text() == "delete: done\n"
    assert trace.events == ["stuck cancelled", "delete"]
