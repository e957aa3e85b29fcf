"""VMs on this host: Vagrant, vagrant-libvirt, libvirtd and QEMU (``host prepare --with-vms``),
and which accelerator guests get (``accelerator()``, ``doctor``).

No systemd runs on the project's machines, so libvirt's daemons are started the way their
packages' units would (``virtlogd -d``, ``libvirtd -d``). ``/dev/kvm`` existing proves nothing:
on these machines it belongs to a PVM hypervisor where ``-cpu host`` fails ("failed to set MSR
0x10a") and the default CPU hangs silently in early boot. So the verdict comes from booting a real
Linux kernel under ``-accel kvm`` and watching its serial console; it is cached per host kernel
release (the hypervisor comes with the kernel), because the probe can take ~15 s.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from harness.errors import CommandError
from harness.exec import Cmd
from harness.paths import cache_root
from harness.progress import Progress
from harness.wait import wait_for

# dnsmasq-base is only a Recommends of libvirt-daemon-system, and prepare installs without
# recommends: without it libvirt networks have no DHCP and vagrant never learns a guest's address.
# extlinux and syslinux-common are for building the box (bootloader and MBR code).
VM_PACKAGES = ["vagrant", "vagrant-libvirt", "libvirt-daemon-system", "qemu-system-x86", "qemu-utils",
               "dnsmasq-base", "extlinux", "syslinux-common"]  # fmt: skip
DAEMONS = ("virtlogd", "libvirtd")
LIBVIRT_URI = "qemu:///system"
QEMU = "qemu-system-x86_64"
KVM_DEV = Path("/dev/kvm")
PROBE_TIMEOUT = 15.0
TCG_COST = "guest CPU ~8-20x slower than the host; a VM control plane needs slow-guest settings"


def parse_dpkg_status(text: str) -> set[str]:
    """Installed package names from ``dpkg-query -W -f '${Package} ${db:Status-Status}\\n'``."""
    out = set()
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1] == "installed":
            out.add(parts[0].split(":")[0])
    return out


def missing_vm_packages(pkgs: list[str] = VM_PACKAGES) -> list[str]:
    res = Cmd(["dpkg-query", "-W", "-f", "${Package} ${db:Status-Status}\n", *pkgs], timeout=60).run(check=False)
    have = parse_dpkg_status(res.stdout)
    return [p for p in pkgs if p not in have]


def _running(name: str) -> bool:
    return bool(Cmd(["pidof", name], timeout=10).run(check=False).stdout.split())


def libvirt_version() -> str | None:
    """What ``virsh version`` says, or None while libvirtd does not answer."""
    res = Cmd(["virsh", "-c", LIBVIRT_URI, "version"], timeout=20).run(check=False)
    return res.stdout.strip() if res.rc == 0 else None


def versions_line(virsh_version: str) -> str:
    """``libvirt 9.0.0, QEMU 7.2.22`` from ``virsh version`` output."""
    lib = re.search(r"Using library: (.+)", virsh_version)
    hyp = re.search(r"Running hypervisor: (.+)", virsh_version)
    return ", ".join(m.group(1).strip() for m in (lib, hyp) if m) or "libvirtd answers"


def daemon_argv(name: str, systemd: bool) -> list[str]:
    """How to start a libvirt daemon: its unit under systemd, else as its own daemon (``-d``)."""
    return ["systemctl", "start", name] if systemd else [name, "-d"]


def start_daemons(progress: Progress) -> list[str]:
    """Start virtlogd and libvirtd where they do not run; returns the ones started."""
    started = []
    systemd = Path("/run/systemd/system").exists()
    for name in DAEMONS:
        if _running(name):
            progress.say(f"ok  {name} runs")
            continue
        argv = daemon_argv(name, systemd)
        Cmd(argv, timeout=60).run()
        progress.say(f"ok  {name} started ({' '.join(argv)})")
        started.append(name)
    wait_for(libvirt_version, timeout=60, interval=0.5, describe=f"`virsh -c {LIBVIRT_URI} version` to answer")
    return started


def prepare_vms(state: dict[str, Any], progress: Progress) -> None:
    """The ``--with-vms`` part of ``host prepare``: packages, daemons; records what it changed."""
    from harness.host.prepare import install_packages

    pkgs = missing_vm_packages()
    if not pkgs:
        progress.say(f"ok  VM packages: all present ({', '.join(VM_PACKAGES)})")
    else:
        install_packages(pkgs, progress)
        state["packages_installed"] = sorted({*state.get("packages_installed", []), *pkgs})
    started = start_daemons(progress)
    if started:
        state["libvirt_started"] = started
    verdict = accelerator_verdict()
    progress.say(f"ok  VMs: {verdict.summary()}")


@dataclass(frozen=True)
class Verdict:
    """What the probe found: ``accel`` is kvm or tcg; ``reason`` says why; ``verified`` is False when
    no kernel was at hand to boot (then tcg is assumed and nothing is cached)."""

    accel: str
    reason: str
    verified: bool = True

    def summary(self) -> str:
        if self.accel == "kvm":
            return f"KVM works ({self.reason})"
        return f"QEMU TCG only (no usable KVM: {self.reason}); {TCG_COST}"


def serial_verdict(console: str, rc: int | None, output: str) -> tuple[bool, str]:
    """Did a ``-accel kvm`` boot run the guest? ``console`` is the serial log, ``rc`` qemu's exit code
    (None when it was killed at the timeout), ``output`` its stderr. Returns (ran, why)."""
    if "Linux version" in console:
        return True, "a Linux guest printed its banner under -accel kvm"
    lines = [line.strip().removeprefix(f"{QEMU}: ") for line in output.splitlines() if line.strip()]
    if rc not in (None, 0) and lines:
        # QEMU's own "error: ..." line says more than the assertion or abort that follows it
        return False, next((line for line in lines if line.startswith("error:")), lines[-1]).removeprefix("error: ")
    if rc is None:
        return False, f"the guest printed nothing on its serial console within {PROBE_TIMEOUT:.0f} s"
    return False, "qemu exited before the guest printed anything"


def probe_kernels() -> list[Path]:
    """Linux kernels the probe can boot: the host's /boot, then the kernels of built boxes."""
    found = sorted(Path("/boot").glob("vmlinuz-*"))
    return found + sorted((cache_root() / "boxes").glob("*/vmlinuz"))


def _qemu_boot(kernel: Path | None, cpu: str | None, timeout: float) -> tuple[bool, str]:
    with tempfile.TemporaryDirectory(prefix="kh-kvm-probe-") as tmp:
        console = Path(tmp) / "console.log"
        argv = [QEMU, "-accel", "kvm", "-m", "256", "-nodefaults", "-display", "none", "-no-reboot",
                "-serial", f"file:{console}"]  # fmt: skip
        argv += ["-cpu", cpu] if cpu else []
        argv += ["-kernel", str(kernel), "-append", "console=ttyS0 panic=-1"] if kernel else []
        try:
            res = Cmd(argv, timeout=timeout).run(check=False)
            rc, output = res.rc, res.output
        except CommandError:  # timed out: the guest hangs (or is merely slow)
            rc, output = None, ""
        return serial_verdict(console.read_text(errors="replace") if console.exists() else "", rc, output)


def probe() -> Verdict:
    """Boot a kernel under ``-accel kvm``: first with the host CPU model (what libvirt's host-model and
    host-passthrough need), then with QEMU's default model."""
    if not KVM_DEV.exists():
        return Verdict("tcg", f"no {KVM_DEV}")
    if not os.access(KVM_DEV, os.R_OK | os.W_OK):
        return Verdict("tcg", f"{KVM_DEV} is not read-writable for this user")
    if not shutil.which(QEMU):
        return Verdict("tcg", f"{QEMU} is not installed, so KVM could not be tried", verified=False)
    kernels = probe_kernels()
    kernel = kernels[0] if kernels else None
    reasons = []
    for cpu in ("host", None):
        ran, why = _qemu_boot(kernel, cpu, PROBE_TIMEOUT if kernel else 5.0)
        if ran:
            return Verdict("kvm", f"{why}, -cpu {cpu or 'default'}")
        reasons.append(f"-cpu {cpu or 'default'}: {why}")
    if kernel is None:
        reasons.append("no guest kernel to boot (build a box: kube-harness image build --vm)")
    return Verdict("tcg", "; ".join(reasons), verified=kernel is not None)


def _verdict_path() -> Path:
    return cache_root() / "host" / f"accel-{platform.release()}.json"


def accelerator_verdict(refresh: bool = False) -> Verdict:
    """The cached verdict for this host kernel, probing (and caching a verified result) if none."""
    path = _verdict_path()
    if not refresh and path.exists():
        try:
            return Verdict(**json.loads(path.read_text()))
        except (ValueError, TypeError):
            pass
    verdict = probe()
    if verdict.verified:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp-{os.getpid()}")
        tmp.write_text(json.dumps(asdict(verdict), indent=2) + "\n")
        os.replace(tmp, path)
    return verdict


def accelerator() -> str:
    """``kvm`` or ``tcg``: vagrant-libvirt's ``driver`` is ``"kvm"`` for the first, ``"qemu"`` for the second."""
    return accelerator_verdict().accel


def libvirt_driver() -> str:
    return "kvm" if accelerator() == "kvm" else "qemu"


def doctor_lines() -> list[tuple[str, str, str, str]]:
    """(name, status, detail, fix) rows for ``doctor``: VM tools, then the accelerator."""
    fix = "run `kube-harness host prepare --with-vms` (as root)"
    rows = []
    missing = [p for p in missing_vm_packages() if p not in ("extlinux", "syslinux-common")]
    if missing:
        rows.append(("vm tools", "warn", f"missing {', '.join(missing)} (only VM clusters need them)", fix))
    elif (version := libvirt_version()) is None:
        rows.append(("vm tools", "warn", f"libvirtd does not answer on {LIBVIRT_URI}", fix))
    else:
        rows.append(("vm tools", "ok", "vagrant, vagrant-libvirt; " + versions_line(version), ""))
    verdict = accelerator_verdict()
    status = "ok" if verdict.accel == "kvm" else "warn"
    detail = verdict.summary() + ("" if verdict.verified else " (not verified: assuming TCG)")
    return [*rows, ("VMs", status, detail, "" if verdict.verified else fix)]
