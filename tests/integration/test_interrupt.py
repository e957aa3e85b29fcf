"""Ctrl-C during any phase of ``kube-harness create`` leaves no container, network or volume
(and with ``--keep``, leaves them for inspection). Each phase is held open with
KUBE_HARNESS_HOLD_PHASE so the SIGINT lands while that phase runs."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.lifecycle import delete_cluster
from harness.phases.engine import HOLD_ENV
from harness.providers import dockerapi

pytestmark = pytest.mark.cluster

KUBEADM_PHASES = [
    "image", "provision", "configure", "preflight", "init", "kubeconfig", "cni", "discovery", "join-workers", "ready",
]  # fmt: skip
KIND_PHASES = ["image", "create", "ready"]


def _start(provider: str, name: str, phase: str, node_image: str, tmp: Path, keep: bool) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "harness.cli.main", "create", "--provider", provider, "--name", name,
            "--node-image", node_image, "--workers", "1"] + (["--keep"] if keep else [])  # fmt: skip
    env = {**os.environ, HOLD_ENV: f"{phase}:120", "KUBE_HARNESS_REPORTS": str(tmp)}
    return subprocess.Popen(argv, env=env, stderr=subprocess.PIPE, text=True, start_new_session=True)


def _wait_running(proc: subprocess.Popen[str], phase: str, timeout: float = 300) -> None:
    """Read the run record named on stderr until ``phase`` is running (held)."""
    assert proc.stderr is not None
    header = proc.stderr.readline()
    record = Path(re.search(r"record (\S+)\)", header).group(1))  # type: ignore[union-attr]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if record.exists():
            phases = json.loads(record.read_text())["phases"]
            if phases and phases[-1]["name"] == phase and phases[-1]["status"] == "running":
                time.sleep(0.5)  # let the phase log its hold: the SIGINT lands inside the phase
                return
        assert proc.poll() is None, f"create exited early: {proc.stderr.read()}"
        time.sleep(0.2)
    raise AssertionError(f"phase {phase} never ran")


def _interrupt(provider: str, phase: str, node_image: str, tmp: Path, keep: bool = False) -> str:
    name = f"kh-int-{provider[:4]}-{phase.replace('-', '')[:10]}"
    proc = _start(provider, name, phase, node_image, tmp, keep)
    try:
        _wait_running(proc, phase)
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole process group
        rc = proc.wait(timeout=180)
        assert rc == 130, f"exit {rc}: {proc.stderr.read() if proc.stderr else ''}"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    return name


@pytest.mark.parametrize("phase", KUBEADM_PHASES)
def test_sigint_in_kubeadm_phase_leaves_nothing(phase: str, node_image: str, tmp_path: Path) -> None:
    name = _interrupt("kubeadm", phase, node_image, tmp_path)
    assert name not in dockerapi.labelled_clusters(), f"leftovers after Ctrl-C in {phase}"
    assert not dockerapi.containers(name)


@pytest.mark.parametrize("phase", KIND_PHASES)
def test_sigint_in_kind_phase_leaves_nothing(phase: str, node_image: str, tmp_path: Path) -> None:
    name = _interrupt("kind", phase, node_image, tmp_path)
    assert name not in dockerapi.labelled_clusters(), f"leftovers after Ctrl-C in {phase}"
    leftovers = subprocess.run(["docker", "ps", "-aq", "--filter", f"label=io.x-k8s.kind.cluster={name}"],
                               capture_output=True, text=True).stdout.split()  # fmt: skip
    assert not leftovers


def test_sigint_with_keep_leaves_the_nodes(node_image: str, tmp_path: Path) -> None:
    name = _interrupt("kubeadm", "init", node_image, tmp_path, keep=True)
    try:
        assert dockerapi.containers(name), "--keep should leave the nodes for inspection"
    finally:
        delete_cluster(name)
    assert name not in dockerapi.labelled_clusters()
