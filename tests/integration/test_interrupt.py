"""Ctrl-C during any phase of ``kube-harness create`` leaves no container, network or volume
(and with ``--keep``, leaves them for inspection); so do SIGTERM and SIGHUP, for ``create``, an
xdist pytest session (clusters made in background threads included) and ``fault``. Each phase is
held open with KUBE_HARNESS_HOLD_PHASE so the signal lands while that phase runs."""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.cluster import Cluster
from harness.errors import HarnessError
from harness.lifecycle import delete_cluster
from harness.phases.engine import HOLD_ENV
from harness.providers.containers import dockerapi

pytestmark = pytest.mark.kh_cluster

KUBEADM_PHASES = [
    "image", "provision", "configure", "preflight", "init", "kubeconfig", "cni", "discovery", "join-workers", "ready",
]  # fmt: skip
KIND_PHASES = ["image", "create", "ready"]


def _start(provider: str, name: str, phase: str, node_image: str, tmp: Path, keep: bool) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "harness.cli.main", "create", "--provider", provider, "--name", name,
            "--node-image", node_image, "--workers", "1"] + (["--keep"] if keep else [])  # fmt: skip
    env = {**os.environ, HOLD_ENV: f"{phase}:120", "KUBE_HARNESS_REPORTS": str(tmp)}
    return subprocess.Popen(argv, env=env, stderr=subprocess.PIPE, text=True, start_new_session=True)


@pytest.fixture
def reap() -> Iterator[list[str]]:
    """Names of clusters a test may make; whatever of them a failed assertion leaves goes at teardown
    (a held create left running would finish its cluster and slow every later test)."""
    names: list[str] = []
    yield names
    for name in names:
        if name in dockerapi.labelled_clusters() or dockerapi.resources({"io.x-k8s.kind.cluster": name}):
            with contextlib.suppress(HarnessError):
                delete_cluster(name)


def _header(proc: subprocess.Popen[str], timeout: float = 60) -> str:
    """The first stderr line of a create (``==> creating ... record PATH)``), waited for at most ``timeout``."""
    assert proc.stderr is not None
    ready, _, _ = select.select([proc.stderr], [], [], timeout)
    assert ready, f"create printed nothing on stderr in {timeout:.0f}s"
    return proc.stderr.readline()


def _wait_running(proc: subprocess.Popen[str], phase: str, timeout: float = 300) -> None:
    """Read the run record named on stderr until ``phase`` is running (held)."""
    header = _header(proc)
    found = re.search(r"record (\S+)\)", header)
    assert found, f"no run record in the first stderr line: {header!r}"
    record = Path(found.group(1))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if record.exists():
            phases = json.loads(record.read_text())["phases"]
            if phases and phases[-1]["name"] == phase and phases[-1]["status"] == "running":
                time.sleep(0.5)  # let the phase log its hold: the SIGINT lands inside the phase
                return
        assert proc.poll() is None, f"create exited early: {proc.stderr.read() if proc.stderr else ''}"
        time.sleep(0.2)
    raise AssertionError(f"phase {phase} never ran")


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _interrupt(provider: str, phase: str, node_image: str, tmp: Path, reap: list[str], keep: bool = False) -> str:
    name = f"kh-int-{provider[:4]}-{phase.replace('-', '')[:10]}"
    reap.append(name)
    proc = _start(provider, name, phase, node_image, tmp, keep)
    try:
        _wait_running(proc, phase)
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole process group
        rc = proc.wait(timeout=180)
        assert rc == 130, f"exit {rc}: {proc.stderr.read() if proc.stderr else ''}"
    finally:
        _stop(proc)
    return name


@pytest.mark.parametrize("phase", KUBEADM_PHASES)
def test_sigint_in_kubeadm_phase_leaves_nothing(phase: str, node_image: str, tmp_path: Path, reap: list[str]) -> None:
    name = _interrupt("kubeadm", phase, node_image, tmp_path, reap)
    assert name not in dockerapi.labelled_clusters(), f"leftovers after Ctrl-C in {phase}"
    assert not dockerapi.containers(name)


@pytest.mark.parametrize("phase", KIND_PHASES)
def test_sigint_in_kind_phase_leaves_nothing(phase: str, node_image: str, tmp_path: Path, reap: list[str]) -> None:
    name = _interrupt("kind", phase, node_image, tmp_path, reap)
    assert name not in dockerapi.labelled_clusters(), f"leftovers after Ctrl-C in {phase}"
    leftovers = subprocess.run(["docker", "ps", "-aq", "--filter", f"label=io.x-k8s.kind.cluster={name}"],
                               capture_output=True, text=True).stdout.split()  # fmt: skip
    assert not leftovers


def test_sigint_with_keep_leaves_the_nodes(node_image: str, tmp_path: Path, reap: list[str]) -> None:
    name = _interrupt("kubeadm", "init", node_image, tmp_path, reap, keep=True)
    try:
        assert dockerapi.containers(name), "--keep should leave the nodes for inspection"
    finally:
        delete_cluster(name)
    assert name not in dockerapi.labelled_clusters()


# --- SIGTERM (a CI cancel) and SIGHUP (a closed terminal) clean up as Ctrl-C does ---------------------


@pytest.mark.parametrize(
    ("provider", "phase", "sig"),
    [
        ("kubeadm", "init", signal.SIGTERM),
        ("kubeadm", "join-workers", signal.SIGHUP),
        ("kind", "create", signal.SIGTERM),
    ],
)
def test_sigterm_and_sighup_in_create_leave_nothing(provider: str, phase: str, sig: int, node_image: str,
                                                    tmp_path: Path, reap: list[str]) -> None:  # fmt: skip
    name = f"kh-sig-{provider[:4]}-{phase.replace('-', '')[:8]}"
    reap.append(name)
    proc = _start(provider, name, phase, node_image, tmp_path, keep=False)
    try:
        _wait_running(proc, phase)
        os.kill(proc.pid, sig)  # the process alone, as a CI runner's cancel does
        rc = proc.wait(timeout=180)
        assert rc == 128 + sig, f"exit {rc}: {proc.stderr.read() if proc.stderr else ''}"
    finally:
        _stop(proc)
    assert name not in dockerapi.labelled_clusters(), f"leftovers after {signal.Signals(sig).name} in {phase}"
    assert not dockerapi.resources({"io.x-k8s.kind.cluster": name})


TWO_CLUSTERS = """
import pytest

def test_default(cluster):
    pass

@pytest.mark.kh_cluster(workers=1)
def test_other(cluster):
    pass
"""


def _held(reports: Path, phase: str, count: int, timeout: float = 300) -> list[str]:
    """Names of the clusters whose create is running ``phase``, once ``count`` of them are."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        held = []
        for path in reports.glob("*/run.json"):
            with contextlib.suppress(ValueError, OSError):
                doc = json.loads(path.read_text())
                if doc["phases"] and doc["phases"][-1]["name"] == phase and doc["phases"][-1]["status"] == "running":
                    held.append(doc["cluster"])
        if len(held) >= count:
            return held
        time.sleep(0.5)
    raise AssertionError(f"{count} creates never reached {phase}")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_signal_to_an_xdist_session_cleans_up_its_clusters_also_background_ones(
    sig: int, node_image: str, tmp_path: Path
) -> None:
    """Two shared clusters come up side by side under ``-n 2`` (one in a background thread); the
    controller alone gets the signal while both are being made: it passes it on to the workers, and
    nothing of either cluster is left."""
    (tmp_path / "test_two.py").write_text(TWO_CLUSTERS)
    reports = tmp_path / "reports"
    env = {**os.environ, HOLD_ENV: "ready:120", "KUBE_HARNESS_REPORTS": str(reports)}
    argv = [sys.executable, "-m", "pytest", "-n", "2", "-p", "xdist", "-p", "no:cacheprovider", "--kh-node-image",
            node_image, "--kh-provider", "kubeadm", str(tmp_path / "test_two.py")]  # fmt: skip
    proc = subprocess.Popen(argv, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)  # fmt: skip
    try:
        names = _held(reports, "ready", 2)
        os.kill(proc.pid, sig)
        out, _ = proc.communicate(timeout=240)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode != 0
    left = set(dockerapi.labelled_clusters()) & set(names)
    assert not left, f"clusters left after {signal.Signals(sig).name}: {left}\n{out[-3000:]}"


def test_sigterm_reverts_a_held_fault(kind_cluster: Cluster) -> None:
    worker = kind_cluster.workers[0].name
    argv = [sys.executable, "-m", "harness.cli.main", "fault", kind_cluster.name, worker, "partition"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        assert "injected" in proc.stdout.readline()
        chain = kind_cluster.node(worker).command("iptables", "-w", "-S", "KH-FAULT").run(check=False)
        assert chain.ok, "the partition is in place"
        proc.send_signal(signal.SIGTERM)
        out = proc.communicate(timeout=60)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "reverted" in out, out
    assert not kind_cluster.node(worker).command("iptables", "-w", "-S", "KH-FAULT").run(check=False).ok
