"""A command in a pod through the API's exec stream (what ``kubectl exec`` does), without a kubectl
process: ~0.005 CPU-s and ~0.09 s a call against ~0.07 CPU-s and ~0.2 s, measured on 2 cores; the
probe scenarios make hundreds of these, so it is what lets two xdist workers share the CPU.

The result is an ``harness.exec.Result`` whose paste-able command is the equivalent ``kubectl exec``.
"""

from __future__ import annotations

import json
import time
from typing import Any

from kubernetes.stream import stream
from kubernetes.stream.ws_client import ERROR_CHANNEL

from harness.errors import WaitTimeout
from harness.exec import Result
from harness.k8s.client import client_for

NOT_RUN = 126  # the container runtime could not start the command (the shell's "cannot execute")


def pod_exec(kubeconfig: str, namespace: str, pod: str, argv: list[str], timeout: float = 60,
             container: str | None = None) -> Result:  # fmt: skip
    """Run ``argv`` in ``pod``; its exit code and output (raises WaitTimeout after ``timeout`` s)."""
    core = client_for(kubeconfig).core
    shown = ["kubectl", "--kubeconfig", kubeconfig, "exec", "-n", namespace, pod]
    shown += (["-c", container] if container else []) + ["--", *argv]
    extra = {"container": container} if container else {}
    start = time.monotonic()
    ws = stream(core.connect_get_namespaced_pod_exec, pod, namespace, command=argv, stderr=True, stdin=False,
                stdout=True, tty=False, _preload_content=False, _request_timeout=timeout, **extra)  # fmt: skip
    try:
        ws.run_forever(timeout=timeout)
        if ws.is_open():
            raise WaitTimeout(f"timed out after {timeout:.0f}s waiting for `{' '.join(shown[3:])}` to end")
        stdout, stderr = ws.read_stdout(timeout=0) or "", ws.read_stderr(timeout=0) or ""
        rc, why = exit_code(ws.read_channel(ERROR_CHANNEL, timeout=0))
    finally:
        ws.close()
    return Result(shown, rc, stdout, stderr + why, round(time.monotonic() - start, 3))


def exit_code(status: str) -> tuple[int, str]:
    """The exit code in an exec stream's status (the error channel), and the runtime's message when
    the command never ran."""
    if not status:
        return 0, ""
    doc: dict[str, Any] = json.loads(status)
    if doc.get("status") == "Success":
        return 0, ""
    causes = doc.get("details", {}).get("causes") or []
    code = next((c.get("message", "") for c in causes if c.get("reason") == "ExitCode"), "")
    if code.isdigit():
        return int(code), ""
    return NOT_RUN, str(doc.get("message", status))
