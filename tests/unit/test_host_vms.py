"""harness.host.vms: the packages --with-vms installs, the KVM probe's verdict and its cache."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli.main import cli
from harness.exec import Cmd, Result
from harness.host import vms

pytestmark = pytest.mark.unit

MSR_OUTPUT = (
    "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69\n"
    "qemu-system-x86_64: ../../target/i386/kvm/kvm.c:3183: kvm_buf_set_msrs: Assertion `ret == "
    "cpu->kvm_msr_buf->nmsrs' failed.\n"
)
VIRSH_VERSION = """\
Compiled against library: libvirt 9.0.0
Using library: libvirt 9.0.0
Using API: QEMU 9.0.0
Running hypervisor: QEMU 7.2.22
"""


def test_vm_packages_cover_vagrant_libvirt_and_qemu() -> None:
    assert set(vms.VM_PACKAGES) >= {
        "vagrant", "vagrant-libvirt", "libvirt-daemon-system", "qemu-system-x86", "qemu-utils",
    }  # fmt: skip
    # Only a Recommends of libvirt-daemon-system, and prepare installs without recommends.
    assert "dnsmasq-base" in vms.VM_PACKAGES
    assert len(set(vms.VM_PACKAGES)) == len(vms.VM_PACKAGES)


def test_parse_dpkg_status() -> None:
    text = "vagrant installed\nqemu-utils not-installed\nlibvirt-daemon-system config-files\nextlinux:amd64 installed\n"
    assert vms.parse_dpkg_status(text) == {"vagrant", "extlinux"}


def test_missing_vm_packages_asks_only_for_what_is_absent(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_run(self: Cmd, check: bool = True, **kwargs: object) -> Result:
        assert self.argv[:2] == ["dpkg-query", "-W"]
        # dpkg-query names unknown packages on stderr only and exits 1
        return Result(self.argv, 1, "vagrant installed\nqemu-utils installed\n", "no packages found", 0.0)

    monkeypatch.setattr(Cmd, "run", fake_run)
    assert vms.missing_vm_packages(["vagrant", "qemu-utils", "vagrant-libvirt"]) == ["vagrant-libvirt"]


@pytest.mark.parametrize(("systemd", "argv"), [(False, ["libvirtd", "-d"]), (True, ["systemctl", "start", "libvirtd"])])
def test_daemon_argv(systemd: bool, argv: list[str]) -> None:
    assert vms.daemon_argv("libvirtd", systemd) == argv


def test_versions_line() -> None:
    assert vms.versions_line(VIRSH_VERSION) == "libvirt 9.0.0, QEMU 7.2.22"
    assert vms.versions_line("") == "libvirtd answers"


@pytest.mark.parametrize(
    ("console", "rc", "output", "ran", "why"),
    [
        ("[    0.000000] Linux version 6.12.117+deb13-amd64 ...\n", 0, "", True, "printed its banner"),
        ("", 134, MSR_OUTPUT, False, "failed to set MSR 0x10a to 0x69"),
        ("", None, "", False, "printed nothing on its serial console within 15 s"),
        ("", 0, "", False, "exited before the guest printed anything"),
        ("", 1, "qemu-system-x86_64: -accel kvm: Could not access KVM kernel module\n", False, "Could not access KVM"),
    ],
)
def test_serial_verdict(console: str, rc: int | None, output: str, ran: bool, why: str) -> None:
    got_ran, got_why = vms.serial_verdict(console, rc, output)
    assert got_ran is ran
    assert why in got_why
    assert not got_why.startswith("qemu-system-x86_64:")


def test_tcg_summary_says_what_it_costs() -> None:
    text = vms.Verdict("tcg", "-cpu host: failed to set MSR 0x10a").summary()
    assert text.startswith("QEMU TCG only (no usable KVM: -cpu host: failed to set MSR 0x10a); guest CPU ~8-20x slower")
    assert "slow-guest settings" in text
    assert vms.Verdict("kvm", "banner").summary().startswith("KVM works")


def test_no_dev_kvm_means_tcg_without_running_qemu(monkeypatch: pytest.MonkeyPatch, no_docker: list[str]) -> None:
    monkeypatch.setattr(vms, "KVM_DEV", Path("/nonexistent/kvm"))
    assert vms.probe() == vms.Verdict("tcg", "no /nonexistent/kvm")
    assert no_docker == []


def test_verdict_is_cached_per_kernel_release(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def probe() -> vms.Verdict:
        calls.append(1)
        return vms.Verdict("tcg", "-cpu host: failed to set MSR 0x10a")

    monkeypatch.setattr(vms, "probe", probe)
    monkeypatch.setattr(vms.platform, "release", lambda: "6.18.44-test")
    assert vms.accelerator() == "tcg"
    assert vms.libvirt_driver() == "qemu"
    assert vms.accelerator_verdict().reason == "-cpu host: failed to set MSR 0x10a"
    assert calls == [1]
    assert vms._verdict_path().name == "accel-6.18.44-test.json"
    monkeypatch.setattr(vms.platform, "release", lambda: "6.19.0-other")
    vms.accelerator()
    assert calls == [1, 1]


def test_unverified_verdict_is_not_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def probe() -> vms.Verdict:
        calls.append(1)
        return vms.Verdict("tcg", "no guest kernel to boot", verified=False)

    monkeypatch.setattr(vms, "probe", probe)
    vms.accelerator()
    vms.accelerator()
    assert calls == [1, 1]
    assert not vms._verdict_path().exists()


def test_kvm_verdict_selects_libvirt_kvm_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vms, "probe", lambda: vms.Verdict("kvm", "banner, -cpu host"))
    assert vms.libvirt_driver() == "kvm"


def test_probe_kernels_include_built_boxes(write_file: Callable[..., Path]) -> None:
    kernel = write_file(vms.cache_root() / "boxes" / "0123456789abcdef" / "vmlinuz", "kernel")
    assert kernel in vms.probe_kernels()


def test_host_prepare_help_names_with_vms() -> None:
    result = CliRunner().invoke(cli, ["host", "prepare", "--help"], prog_name="kube-harness")
    assert result.exit_code == 0
    text = " ".join(result.output.split())  # click wraps help lines
    assert "--with-vms" in text
    assert "vagrant-libvirt" in text.replace("- ", "-")
