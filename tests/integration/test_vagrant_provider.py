"""The vagrant provider on real VMs (the ``vm`` tier): a VM worker beside a container control plane
is a whole machine (its own kernel, cgroup v2, systemd as on metal), survives the power faults,
and nothing is left after delete, SIGINT in `vagrant up`, or SIGINT/SIGTERM in any create phase.

Needs `kube-harness host prepare --with-vms` (libvirt, Vagrant, QEMU); the box is built from the
node image on first use.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness import faults
from harness.cluster import Cluster
from harness.k8s import checks
from harness.lifecycle import managed_cluster
from harness.phases.engine import HOLD_ENV
from harness.providers import registry
from harness.providers.containers import dockerapi
from harness.providers.vms import virsh
from harness.pytest_plugin.session import owner
from harness.spec import spec_from_kwargs
from harness.wait import wait_for

pytestmark = pytest.mark.vm


def leftovers(name: str) -> list[str]:
    """Everything of cluster ``name`` on libvirt and Docker, and its state file."""
    from harness.cluster import state_dir

    left = [f"libvirt {what}" for what in virsh.clusters() if what == name]
    left += [f"volume {v}" for v in virsh.volumes([f"{name}-control-plane", f"{name}-worker", f"{name}-worker2"])]
    left += [f"docker {r}" for r in dockerapi.resources({"kube-harness.io/cluster": name})]
    left += [f"state {p.name}" for p in state_dir().glob(f"{name}.json")]
    return left


@pytest.fixture(scope="module")
def vm_cluster(node_image: str) -> Iterator[Cluster]:
    spec = spec_from_kwargs(name="kh-vmt", node_image=node_image, workers=1)
    with managed_cluster(spec, provider="vagrant", owner=owner()) as cluster:
        yield cluster
    assert leftovers("kh-vmt") == []


def test_the_vm_worker_is_a_whole_machine(vm_cluster: Cluster) -> None:
    worker = vm_cluster.workers[0]
    host_kernel = os.uname().release
    out = worker.exec("sh", "-c", "uname -r; stat -fc %T /sys/fs/cgroup; systemd-detect-virt; ps -o comm= -p 1")
    kernel, cgroupfs, virt, init = out.stdout.split()
    assert kernel != host_kernel, "the worker runs the host's kernel: not a VM"
    assert cgroupfs == "cgroup2fs" and virt in ("qemu", "kvm") and init == "systemd", out.stdout
    container = vm_cluster.control_planes[0].command("systemd-detect-virt", "-c").run(check=False).stdout.strip()
    assert container not in ("", "none"), "the control plane should be a node container in this layout"
    join_ready = checks.ready_nodes(vm_cluster)
    assert join_ready.get(worker.name), f"{worker.name} not Ready: {join_ready}"


def test_a_vm_worker_reboots_and_comes_back_ready(vm_cluster: Cluster) -> None:
    worker = vm_cluster.workers[0]
    boot_id = worker.read_file("/proc/sys/kernel/random/boot_id").strip()
    with faults.restart_node(vm_cluster, worker.name):
        pass
    assert worker.read_file("/proc/sys/kernel/random/boot_id").strip() != boot_id, "the VM did not reboot"
    wait_for(lambda: checks.ready_nodes(vm_cluster).get(worker.name), timeout=600, interval=5,
             describe=f"{worker.name} Ready after its reboot")  # fmt: skip


def test_pause_suspends_the_vm_and_resume_thaws_it(vm_cluster: Cluster) -> None:
    worker = vm_cluster.workers[0]
    with faults.pause_node(vm_cluster, worker.name):
        assert virsh.state(worker.name) == "paused"
    assert virsh.state(worker.name) == "running"
    assert worker.exec("true").ok


def test_a_partition_drops_the_cluster_nic_and_keeps_ssh(vm_cluster: Cluster) -> None:
    worker = vm_cluster.workers[0]
    cp_ip = vm_cluster.control_planes[0].ip()
    with faults.partition(vm_cluster, worker.name):
        res = worker.command("ping", "-c", "1", "-W", "2", cp_ip).run(check=False)
        assert not res.ok, "the control plane answers through a partition"
    assert worker.command("ping", "-c", "1", "-W", "5", cp_ip).run(check=False).ok


def _create(name: str, tmp: Path, node_image: str, hold: str | None = None) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "harness.cli.main", "create", "--provider", "vagrant", "--name", name,
            "--node-image", node_image, "--workers", "1"]  # fmt: skip
    env = {**os.environ, "KUBE_HARNESS_REPORTS": str(tmp), **({HOLD_ENV: f"{hold}:600"} if hold else {})}
    return subprocess.Popen(argv, env=env, stderr=subprocess.PIPE, text=True, start_new_session=True)


def _record(proc: subprocess.Popen[str]) -> Path:
    assert proc.stderr is not None
    return Path(re.search(r"record (\S+)\)", proc.stderr.readline()).group(1))  # type: ignore[union-attr]


def _running(record: Path) -> str:
    phases = json.loads(record.read_text())["phases"] if record.exists() else []
    return str(phases[-1]["name"]) if phases and phases[-1]["status"] == "running" else ""


def _stop(proc: subprocess.Popen[str], sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
        rc = proc.wait(timeout=600)
        assert rc == 128 + sig, f"exit {rc}: {proc.stderr.read() if proc.stderr else ''}"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


def test_sigint_during_vagrant_up_leaves_nothing(node_image: str, tmp_path: Path) -> None:
    name = "kh-vmint-up"
    proc = _create(name, tmp_path, node_image)
    record, deadline = _record(proc), time.monotonic() + 900
    while not any(d.startswith(name) for d in virsh.domains()):  # the VM is defined: vagrant up is under way
        assert proc.poll() is None and time.monotonic() < deadline, "no VM was ever defined"
        time.sleep(1)
    assert _running(record) == "provision"
    _stop(proc, signal.SIGINT)
    assert leftovers(name) == []


def _phases() -> list[str]:
    """The vagrant provider's create phases for the spec these tests use (cleanup aside): taken from
    its plan, so a phase added later is covered without editing this list."""
    spec = spec_from_kwargs(name="kh-vmint", workers=1, vms={"timeout_scale": 1})  # no accelerator probe
    return [p.name for p in registry.get("vagrant").plan(spec, "kh-vmint") if p.when != "failure"]


@pytest.mark.slow
@pytest.mark.parametrize("phase", _phases())
def test_a_signal_in_any_phase_leaves_nothing(phase: str, node_image: str, tmp_path: Path) -> None:
    """SIGINT or SIGTERM (alternating) while each phase runs (held at its start, so what the earlier
    phases made is all there): the create exits 128+signal and no VM, volume, libvirt network,
    container or state file of the cluster is left."""
    sig = signal.SIGINT if _phases().index(phase) % 2 == 0 else signal.SIGTERM
    name = f"kh-vmsig-{_phases().index(phase)}"
    proc = _create(name, tmp_path, node_image, hold=phase)
    record, deadline = _record(proc), time.monotonic() + 1800
    while _running(record) != phase:
        assert proc.poll() is None and time.monotonic() < deadline, f"{phase} never ran"
        time.sleep(1)
    _stop(proc, sig)
    assert leftovers(name) == []
