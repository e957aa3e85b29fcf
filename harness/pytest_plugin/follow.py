"""Progress under pytest: every process of the session appends its progress lines (cluster phases,
image builds) to one file (``harness.progress``, ``KUBE_HARNESS_PROGRESS``); the controller follows
it in a thread and writes each line through pytest's terminal reporter. Output capture and xdist
would otherwise swallow them: a bring-up or a first image build looked like a hang."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from pathlib import Path

from harness.progress import PROGRESS_ENV

POLL_S = 0.5


class Follower:
    def __init__(self, write: Callable[[str], None], path: Path | None = None) -> None:
        from harness.pytest_plugin.session import session_dir

        self.write = write
        self.path = path or session_dir() / "progress"
        self.offset = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="kube-harness-progress")

    def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.touch()
        os.environ[PROGRESS_ENV] = str(self.path)  # xdist workers start after this and inherit it
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._drain()  # what came in since the last look
        os.environ.pop(PROGRESS_ENV, None)

    def _loop(self) -> None:
        while not self._stop.wait(POLL_S):
            self._drain()

    def _drain(self) -> None:
        try:
            with self.path.open("rb") as fh:
                fh.seek(self.offset)
                data = fh.read()
        except OSError:
            return
        complete = data[: data.rfind(b"\n") + 1]  # a line still being written waits for the next look
        self.offset += len(complete)
        for line in complete.decode(errors="replace").splitlines():
            with contextlib.suppress(Exception):  # a closed terminal must not kill the thread
                self.write(f"kube-harness: {line}")
