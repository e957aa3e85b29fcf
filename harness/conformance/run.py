"""Run a preset of the upstream e2e suite against a cluster with ginkgo, with progress, and read
its JUnit back: one result per spec that ran, plus the quarantined ones with their reason."""

from __future__ import annotations

import re
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from harness.conformance.presets import Selection
from harness.conformance.suite import Suite
from harness.exec import Cmd
from harness.progress import Progress
from harness.redact import redact

SUITE_TIMEOUT_S = 3 * 3600
FAILED = re.compile(r"•\s*\[(?:FAILED|PANICKED|TIMEDOUT|INTERRUPTED)\]")


@dataclass
class SpecResult:
    name: str
    status: str  # passed | failed | quarantined
    duration_s: float
    message: str = ""


@dataclass
class RunResult:
    preset: str
    out: Path
    duration_s: float
    rc: int
    specs: list[SpecResult] = field(default_factory=list)

    def of(self, status: str) -> list[SpecResult]:
        return [s for s in self.specs if s.status == status]

    def count(self, status: str) -> int:
        return len(self.of(status))

    def summary(self) -> dict[str, object]:
        return {"preset": self.preset, "specs": len(self.specs), "passed": self.count("passed"),
                "failed": self.count("failed"), "quarantined": self.count("quarantined"),
                "duration_s": round(self.duration_s, 1)}  # fmt: skip


def ginkgo_argv(suite: Suite, selection: Selection, kubeconfig: str, out: Path, parallel: int) -> list[str]:
    """ginkgo running the prebuilt e2e.test: its reports in ``out``, the e2e flags after ``--``."""
    argv = [str(suite.ginkgo), f"--procs={parallel}", "--no-color", "-v", f"--timeout={SUITE_TIMEOUT_S}s",
            f"--output-dir={out}", "--junit-report=junit.xml", "--json-report=report.json",
            *selection.ginkgo_args(), str(suite.e2e_test), "--",
            f"--kubeconfig={kubeconfig}", f"--kubectl-path={suite.kubectl}", "--provider=skeleton",
            f"--report-dir={out}", "--dump-logs-on-failure=false"]  # fmt: skip
    return argv


def run_suite(suite: Suite, selection: Selection, kubeconfig: str, out: Path, parallel: int,
              progress: Progress) -> RunResult:  # fmt: skip
    """Run; the log streams into ``out/ginkgo.log``; a line every 30 s says how many specs are done."""
    out.mkdir(parents=True, exist_ok=True)
    log = out / "ginkgo.log"
    argv = ginkgo_argv(suite, selection, kubeconfig, out, parallel)
    env = {"PATH": f"{suite.bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
    progress.say(f"==> conformance {selection.preset.name}: {selection.preset.about} at --parallel {parallel} "
                 f"(log: {log})")  # fmt: skip
    stop, start = threading.Event(), time.monotonic()
    ticker = threading.Thread(target=_tick, args=(log, selection.preset.name, start, stop, progress), daemon=True)
    ticker.start()
    try:
        res = Cmd(argv, env=env, timeout=SUITE_TIMEOUT_S + 600).run(check=False, log=log)
    finally:
        stop.set()
    for report in ("junit.xml", "report.json"):  # ginkgo writes these itself: redact them like every log
        if (out / report).exists():
            (out / report).write_text(redact((out / report).read_text(errors="replace")))
    result = RunResult(selection.preset.name, out, time.monotonic() - start, res.rc)
    result.specs = read_junit(out / "junit.xml", selection) if (out / "junit.xml").exists() else []
    s = result.summary()
    progress.say(f"{'ok ' if not s['failed'] and res.rc == 0 else 'xx '} conformance {s['preset']}: {s['passed']} "
                 f"passed, {s['failed']} failed, {s['quarantined']} quarantined of {s['specs']} "
                 f"({s['duration_s']:.0f}s; JUnit {out / 'junit.xml'})")  # fmt: skip
    return result


def _tick(log: Path, preset: str, start: float, stop: threading.Event, progress: Progress) -> None:
    while not stop.wait(30):
        text = log.read_text(errors="replace") if log.exists() else ""
        done, failed = text.count("•"), len(FAILED.findall(text))  # ginkgo prints one • per spec that ran
        progress.say(f"... conformance {preset}: {done} specs done, {failed} failed ({time.monotonic() - start:.0f}s)")


def read_junit(path: Path, selection: Selection) -> list[SpecResult]:
    """Specs that ran (passed/failed) and quarantined ones, from ginkgo's JUnit; specs the focus
    left out (reported as skipped) are dropped, as are the suite's Before/AfterSuite nodes."""
    out = []
    for case in ET.parse(path).iter("testcase"):
        name = _spec_name(case.get("name", ""))
        status = case.get("status") or _status(case)
        duration = float(case.get("time") or 0)
        if not name or name.startswith(("[SynchronizedBeforeSuite]", "[SynchronizedAfterSuite]", "[BeforeSuite]",
                                        "[AfterSuite]", "[ReportAfterSuite]", "[ReportBeforeSuite]")):  # fmt: skip
            if status in ("failed", "panicked", "timedout"):
                out.append(SpecResult(name, "failed", duration, _message(case)))
            continue
        if status == "passed":
            out.append(SpecResult(name, "passed", duration))
        elif status in ("failed", "panicked", "timedout", "interrupted", "aborted"):
            out.append(SpecResult(name, "failed", duration, _message(case)))
        elif (q := selection.quarantined(name)) is not None and re.search(selection.focus, name):
            out.append(SpecResult(name, "quarantined", 0.0, q.reason))
    return out


def _spec_name(raw: str) -> str:
    return raw.removeprefix("[It] ").strip()


def _status(case: ET.Element) -> str:
    if case.find("failure") is not None or case.find("error") is not None:
        return "failed"
    return "skipped" if case.find("skipped") is not None else "passed"


def _message(case: ET.Element) -> str:
    node = case.find("failure") if case.find("failure") is not None else case.find("error")
    if node is None:
        return ""
    return (node.get("message") or node.text or "").strip()[:4000]
