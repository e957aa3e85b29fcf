"""One way to run a command on the host (and, through providers, on nodes).

``Cmd`` is a description (argv, env, cwd, input, timeout); ``Cmd.run()`` executes it and returns a
``Result`` with argv, exit code, output and duration. A failure raises ``CommandError`` whose text
is a command line the user can paste into a shell, plus the tail of the output.

Everything a command leaves in a log or an error message passes through ``harness.redact`` (the
pasted line's token and certificate-key arguments, and the output): the ``Result`` keeps the real
output for the caller.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from harness.errors import CommandError
from harness.redact import Stream, redact

TAIL_LINES = 25


def paste(argv: Sequence[str], env: Mapping[str, str] | None = None, cwd: str | None = None) -> str:
    """A shell line that reproduces the command (env overrides and cwd included), secrets redacted."""
    line = shlex.join(argv)
    if env:
        line = " ".join(f"{k}={shlex.quote(v)}" for k, v in sorted(env.items())) + " " + line
    if cwd:
        line = f"(cd {shlex.quote(cwd)} && {line})"
    return redact(line)


def tail(text: str, lines: int = TAIL_LINES) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


@dataclass
class Result:
    argv: list[str]
    rc: int
    stdout: str
    stderr: str
    duration: float
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | None = None

    @property
    def ok(self) -> bool:
        return self.rc == 0

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def paste(self) -> str:
        return paste(self.argv, self.env, self.cwd)

    def check(self) -> Result:
        if self.rc != 0:
            cause = error_line(self.output)
            raise CommandError(
                f"command failed (exit {self.rc}, {self.duration:.1f}s): {self.paste()}\n"
                + (f"  said: {redact(cause)}\n" if cause else "")
                + f"--- output tail ---\n{redact(tail(self.output))}"
            )
        return self


def error_line(output: str) -> str:
    """The command's own last error line (kubeadm ends its output with a hint about stack traces,
    which is not what went wrong)."""
    for line in reversed(output.rstrip().splitlines()[-200:]):
        text = line.strip()
        if re.search(r"\berror\b|\[ERROR|\bfailed\b|\bfatal\b", text, re.I) and "stack trace" not in text:
            return text[:400]
    return ""


@dataclass
class Cmd:
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | None = None
    input: str | bytes | None = None
    timeout: float | None = None

    def __post_init__(self) -> None:
        self.argv = [str(a) for a in self.argv]

    def paste(self) -> str:
        return paste(self.argv, self.env, self.cwd)

    def run(self, check: bool = True, log: Path | IO[str] | None = None, capture: bool = False) -> Result:
        """Run to completion. With ``log`` the output streams into that file and is not kept, unless
        ``capture``: then it is kept and appended to the log afterwards (for short commands)."""
        env = {**os.environ, **self.env} if self.env else None
        start = time.monotonic()
        try:
            if log is not None and not capture:
                rc, out, err = self._run_logged(env, log)
            else:
                rc, out, err = self._run_captured(env)
                if log is not None:
                    _append(log, f"$ {self.paste()}\n{redact(out + err)}" + (f"(exit {rc})\n" if rc else ""))
        except FileNotFoundError as exc:
            raise CommandError(f"command not found: {self.argv[0]} (while running: {self.paste()})") from exc
        except subprocess.TimeoutExpired as exc:
            raise CommandError(f"command timed out after {self.timeout}s: {self.paste()}") from exc
        result = Result(self.argv, rc, out, err, time.monotonic() - start, self.env, self.cwd)
        return result.check() if check else result

    def _run_captured(self, env: dict[str, str] | None) -> tuple[int, str, str]:
        data = self.input.encode() if isinstance(self.input, str) else self.input
        proc = subprocess.run(self.argv, input=data, capture_output=True, env=env, cwd=self.cwd, timeout=self.timeout)
        return proc.returncode, proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace")

    def _run_logged(self, env: dict[str, str] | None, log: Path | IO[str]) -> tuple[int, str, str]:
        """Stream the output into ``log`` line by line through the redactor; on failure the log's tail
        (already redacted) is the output the error shows."""
        if isinstance(log, Path):
            log.parent.mkdir(parents=True, exist_ok=True)
            with log.open("a") as fh:
                return self._run_logged(env, fh)
        log.write(f"$ {self.paste()}\n")
        log.flush()
        data = self.input.encode() if isinstance(self.input, str) else self.input
        proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE if data is not None else subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=self.cwd)  # fmt: skip
        fired = threading.Event()

        def expire() -> None:
            fired.set()
            proc.kill()

        timer = threading.Timer(self.timeout, expire) if self.timeout else None
        if timer:
            timer.start()
        try:
            _feed(proc, data)
            _copy(proc, Stream(log), log)
            rc = proc.wait()
        finally:
            if timer:
                timer.cancel()
            if proc.poll() is None:  # interrupted (Ctrl-C) while the command ran
                proc.kill()
                proc.wait()
        if fired.is_set():
            raise subprocess.TimeoutExpired(self.argv, self.timeout or 0)
        out = ""
        name = getattr(log, "name", None)
        if rc != 0 and isinstance(name, str) and os.path.exists(name):
            out = Path(name).read_text(errors="replace")[-20000:] + f"\n(full log: {name})"
        return rc, out, ""


def _feed(proc: subprocess.Popen[bytes], data: bytes | None) -> None:
    if data is not None and proc.stdin is not None:
        threading.Thread(target=_write_close, args=(proc.stdin, data), daemon=True).start()


def _write_close(pipe: IO[bytes], data: bytes) -> None:
    try:
        pipe.write(data)
        pipe.close()
    except OSError:  # the command exited without reading it all
        pass


def _copy(proc: subprocess.Popen[bytes], stream: Stream, log: IO[str]) -> None:
    assert proc.stdout is not None
    for raw in iter(proc.stdout.readline, b""):
        stream.write(raw.decode(errors="replace"))
        log.flush()
    stream.close()
    log.flush()


def _append(log: Path | IO[str], text: str) -> None:
    if isinstance(log, Path):
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a") as fh:
            fh.write(text)
    else:
        log.write(text)
        log.flush()


def run(*argv: str | os.PathLike[str], check: bool = True, **kwargs: object) -> Result:
    """Shorthand: ``run("docker", "info")``."""
    return Cmd([str(a) for a in argv], **kwargs).run(check=check)  # type: ignore[arg-type]
