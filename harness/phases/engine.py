"""Phase engine: ordered phases with timeouts, skip-after-failure, always-run cleanup, a log per phase.

A phase's ``when`` decides if it runs: ``success`` (default: only while everything before it
succeeded), ``failure`` (only after a failure, a timeout or Ctrl-C — cleanup such as deleting a
half-made cluster; skipped when the context says ``keep``) or ``always`` (e.g. exporting logs).
Each phase runs in a worker thread so its timeout holds even when a command hangs; Ctrl-C (or
SIGTERM, SIGHUP: see ``harness.signals``) in the main thread marks the phase interrupted, runs the
cleanup phases, then re-raises. An engine running in another thread (a cluster made in the
background) sees the interruption through ``signals.INTERRUPTED`` within a fraction of a second and
does the same.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from harness import signals
from harness.errors import HarnessError, UsageError
from harness.redact import redact
from harness.reporting.record import (
    FAILED,
    INTERRUPTED,
    OK,
    SKIPPED,
    TIMEOUT,
    PhaseRecord,
    RunRecord,
    StepRecord,
)

CANCEL_GRACE_S = 20.0
HOLD_ENV = "KUBE_HARNESS_HOLD_PHASE"  # "name[:seconds]": pause before that phase (debugging, tests)
FAIL_ENV = "KUBE_HARNESS_FAIL_PHASE"  # "name[:after]": that phase fails, before (or after) its work (tests)
WATCH_S = 0.25  # how often a phase's wait looks at signals.INTERRUPTED


class PhaseFailed(HarnessError):
    """A phase failed or timed out; cleanup has run. The message names the phase and its log."""

    exit_code = 7


class PhaseCancelled(Exception):
    pass


@dataclass
class Context:
    """What a phase gets: the run's record, its own log file, the state its run's phases share
    (a ``harness.providers.bringup.BringUp`` for cluster creates), and options."""

    record: RunRecord
    keep: bool = False
    state: Any = None
    log: Path = Path("/dev/null")
    cancelled: threading.Event = field(default_factory=threading.Event)
    phase: PhaseRecord | None = None
    _steps_lock: threading.Lock = field(default_factory=threading.Lock)

    def check(self) -> None:
        """Phases call this between steps: stops a phase whose run timed out or was interrupted."""
        if self.cancelled.is_set():
            raise PhaseCancelled("cancelled")

    @contextlib.contextmanager
    def on_node(self, node: str) -> Iterator[None]:
        """Work of this phase on ``node`` (the record's per-node timeline): one step per node and
        phase, from the first start to the last end; failed if any part failed."""
        start = time.time()
        try:
            yield
        except BaseException as exc:
            self._step(node, start, FAILED, redact(str(exc)) or type(exc).__name__)
            raise
        self._step(node, start, OK, "")

    def _step(self, node: str, start: float, status: str, error: str) -> None:
        if self.phase is None:
            return
        with self._steps_lock:
            step = next((s for s in self.phase.steps if s.node == node), None)
            if step is None:
                step = StepRecord(node, start=round(start, 3))
                self.phase.steps.append(step)
            end = max(step.start + step.duration, time.time())
            step.start = min(step.start, round(start, 3))
            step.duration = round(end - step.start, 3)
            if status != OK and step.status == OK:
                step.status, step.error = status, error

    def say(self, text: str) -> None:
        """Append to the phase's log (secrets redacted)."""
        with self.log.open("a") as fh:
            fh.write(redact(text.rstrip()) + "\n")


@dataclass
class Phase:
    name: str
    run: Callable[[Context], None]
    timeout: float = 300.0
    when: str = "success"  # success | failure | always


@dataclass
class _Outcome:
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)


class Engine:
    def __init__(self, phases: list[Phase], on_phase: Callable[[PhaseRecord], None] | None = None) -> None:
        self.phases = phases
        self.on_phase = on_phase or (lambda rec: None)

    def run(self, ctx: Context) -> RunRecord:
        """Run every phase; raises PhaseFailed (or KeyboardInterrupt) after cleanup when one fails."""
        failure: tuple[PhaseRecord, BaseException] | None = None
        for index, phase in enumerate(self.phases):
            rec = PhaseRecord(phase.name, when=phase.when)
            ctx.record.phases.append(rec)
            if not self._should_run(phase, failure is not None, ctx.keep):
                rec.status = SKIPPED
                ctx.record.save()
                continue
            error = self._run_one(phase, rec, ctx, ctx.record.phase_log(index, phase.name))
            if error is not None and failure is None:
                failure = (rec, error)
        ctx.record.finish(OK if failure is None else failure[0].status)
        if failure is not None:
            rec, error = failure
            if isinstance(error, KeyboardInterrupt | UsageError):  # bad input found late: said as it is
                raise error
            where = rec.log or ctx.record.dir
            raise PhaseFailed(f"phase {rec.name} {rec.status}: {rec.error}", fix=f"see the phase log {where}")
        return ctx.record

    @staticmethod
    def _should_run(phase: Phase, failed: bool, keep: bool) -> bool:
        if phase.when == "always":
            return True
        if phase.when == "failure":
            return failed and not keep
        return not failed

    def _run_one(self, phase: Phase, rec: PhaseRecord, run_ctx: Context, log: Path) -> BaseException | None:
        # each phase gets its own log and cancel flag: a phase that outlives the grace stays cancelled
        ctx = replace(run_ctx, log=log, cancelled=threading.Event(), phase=rec, _steps_lock=threading.Lock())
        ctx.log.parent.mkdir(parents=True, exist_ok=True)
        rec.start = time.time()
        ctx.record.save()
        outcome = _Outcome()
        worker = threading.Thread(target=self._target, args=(phase, ctx, outcome), daemon=True, name=phase.name)
        worker.start()
        error: BaseException | None
        try:
            finished = _wait(outcome.done, phase.timeout, interruptible=phase.when == "success")
            error = outcome.error if finished else TimeoutError(f"did not finish within {phase.timeout:g}s")
            rec.status = OK if error is None else (TIMEOUT if not finished else FAILED)
        except KeyboardInterrupt as exc:
            error, rec.status = exc, INTERRUPTED
        if error is not None and not outcome.done.is_set():
            ctx.cancelled.set()  # the phase stops at its next ctx.check(); give it a moment to
            _wait(outcome.done, CANCEL_GRACE_S, interruptible=False)  # so cleanup does not race its last steps
        rec.duration = round(time.time() - rec.start, 3)
        if error is not None:
            rec.error = redact(str(error)) or type(error).__name__
            ctx.say(f"phase {phase.name} {rec.status}: {rec.error}")
        rec.log = str(log) if log.exists() else ""
        ctx.record.save()
        self.on_phase(rec)
        return error

    @staticmethod
    def _target(phase: Phase, ctx: Context, outcome: _Outcome) -> None:
        try:
            _hold(phase, ctx)
            _inject(phase, ctx, after=False)
            phase.run(ctx)
            _inject(phase, ctx, after=True)
        except BaseException as exc:
            outcome.error = exc
            ctx.say("".join(traceback.format_exception(exc)))
        finally:
            outcome.done.set()


def _wait(done: threading.Event, timeout: float, interruptible: bool) -> bool:
    """Wait for the phase; a plain wait, so a signal still reaches the main thread. In any thread,
    an interruption (``signals.INTERRUPTED``) ends the wait of a phase that is not cleanup; the
    wait of a cleanup phase (or of the grace after a cancel) outlasts further signals."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        try:
            if done.wait(min(WATCH_S, max(left, 0))):
                return True
        except KeyboardInterrupt:
            if interruptible:
                raise
            continue  # a second Ctrl-C while cleaning up: the first already stops the run; cleanup goes on
        if left <= 0:
            return False
        if interruptible and signals.INTERRUPTED.is_set():
            raise signals.Interrupted()


class InjectedFailure(HarnessError):
    """The failure ``KUBE_HARNESS_FAIL_PHASE`` asked for (tests of cleanup and records)."""


def _inject(phase: Phase, ctx: Context, after: bool) -> None:
    """With ``KUBE_HARNESS_FAIL_PHASE=name`` (or ``name:after``), fail that phase before (after) its work."""
    name, _, when = os.environ.get(FAIL_ENV, "").partition(":")
    if name == phase.name and (when == "after") == after:
        raise InjectedFailure(f"{FAIL_ENV} asked phase {name} to fail {'after' if after else 'before'} its work")


def _hold(phase: Phase, ctx: Context) -> None:
    """With ``KUBE_HARNESS_HOLD_PHASE=name[:seconds]``, wait (cancellably) before running ``name``."""
    name, _, seconds = os.environ.get(HOLD_ENV, "").partition(":")
    if name != phase.name:
        return
    ctx.say(f"holding before {name} ({HOLD_ENV})")
    deadline = time.monotonic() + float(seconds or 60)
    while time.monotonic() < deadline:
        ctx.check()
        time.sleep(0.1)
