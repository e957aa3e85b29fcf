"""What turns the node image's rootfs (made for a privileged container) into a VM's root disk.

The changes are a plan: a list of steps (``Run`` a command in the rootfs, ``Write`` a file,
``Link``, ``Remove``, ``Mkdir``) computed by pure functions from a few facts (Debian release,
mirror, kernel release, root filesystem UUID, Vagrant's public key), so tests can read exactly what
the box build will do without root or Docker. ``apply`` carries a plan out.

What differs from a node container: the kernel, initramfs, udev and sshd are installed; the units
the container image masks because a container has no hardware or console (udevd, udev-trigger,
networkd, resolved, modules-load, getty) are unmasked, while firstboot (it would wait for input on
the console) and the apt and maintenance timers stay masked; networkd asks DHCP on every NIC and
resolved writes resolv.conf; Vagrant's user logs in with Vagrant's insecure key. Unchanged: the
kubelet and containerd units and configuration (systemd cgroup driver, fine on cgroup v2) and the
preloaded image snapshots.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from harness.bootstrap.patches import KUBEADM_PATCHES_DIR
from harness.errors import BuildError
from harness.exec import Cmd

FILES = resources.files("harness.images") / "files" / "vm"
FILES_DIR = Path(str(FILES))
CHROOT_SH = FILES_DIR / "chroot.sh"
KERNEL_PACKAGE = "linux-image-amd64"
GUEST_PACKAGES = [KERNEL_PACKAGE, "initramfs-tools", "zstd", "udev", "systemd-sysv", "systemd-resolved",
                  "openssh-server", "openssh-sftp-server", "sudo", "e2fsprogs"]  # fmt: skip
# Masked in the node image (harness.images.node.MASKED_UNITS) because a container lacks what they serve.
UNMASK = ["systemd-modules-load.service", "systemd-udevd.service", "systemd-udev-trigger.service",
          "systemd-networkd.service", "systemd-resolved.service", "getty.target"]  # fmt: skip
# e2scrub_reap only cleans up after LVM snapshot scrubs (there is no LVM) and costs ~10 s at boot.
MASK = ["e2scrub_reap.service"]
ENABLE = ["systemd-networkd.service", "systemd-resolved.service", "ssh.service", "serial-getty@ttyS0.service",
          "kube-harness-ssh-hostkeys.service"]  # fmt: skip
APT_LIST = "/etc/apt/kube-harness-box.list"  # the build's own sources; removed afterwards
APT_OPTS = [f"-oDir::Etc::SourceList={APT_LIST}", "-oDir::Etc::SourceParts=/nonexistent",
            "-oAcquire::Retries=3", "-oDpkg::Options::=--force-confold"]  # fmt: skip
USER = "vagrant"
HOSTNAME = "kube-harness"


@dataclass(frozen=True)
class Run:
    argv: tuple[str, ...]


@dataclass(frozen=True)
class Write:
    path: str
    content: str
    mode: int = 0o644


@dataclass(frozen=True)
class Link:
    path: str
    target: str


@dataclass(frozen=True)
class Remove:
    path: str


@dataclass(frozen=True)
class Mkdir:
    path: str
    mode: int = 0o755


Step = Run | Write | Link | Remove | Mkdir


def file_text(name: str) -> str:
    return (FILES / name).read_text()


def os_release(text: str) -> dict[str, str]:
    """``/etc/os-release`` as a dict (quotes removed)."""
    out = {}
    for line in text.splitlines():
        name, sep, value = line.partition("=")
        if sep and not line.startswith("#"):
            out[name.strip()] = value.strip().strip('"').strip("'")
    return out


def codename(os_release_text: str) -> str:
    fields = os_release(os_release_text)
    name = fields.get("VERSION_CODENAME")
    if not name:
        raise BuildError("the node image's /etc/os-release names no VERSION_CODENAME",
                         fix="rebuild the node image (kube-harness image build)")  # fmt: skip
    return name


def packages_plan(suite: str, mirror: str, host_resolv_conf: str) -> list[Step]:
    """Install kernel, initramfs, udev, sshd and sudo from the node image's own Debian release.

    The initramfs settings go in first, so the kernel's postinst builds the initramfs only once.
    The image's own sources (which also list sid, for containerd) are left alone: apt reads a
    build-only list with the release alone. No service starts in the chroot (policy-rc.d)."""
    env = ("env", "DEBIAN_FRONTEND=noninteractive")
    return [
        Write("/etc/resolv.conf", host_resolv_conf),
        Write(APT_LIST, f"deb {mirror} {suite} main\n"),
        Write("/usr/sbin/policy-rc.d", "#!/bin/sh\nexit 101\n", 0o755),
        Write("/etc/initramfs-tools/conf.d/kube-harness", file_text("initramfs.conf")),
        Write("/etc/initramfs-tools/hooks/kube-harness", file_text("initramfs-hook"), 0o755),
        Run((*env, "apt-get", *APT_OPTS, "update")),
        Run((*env, "apt-get", *APT_OPTS, "install", "-y", "--no-install-recommends", *GUEST_PACKAGES)),
        Remove("/usr/sbin/policy-rc.d"),
        Remove(APT_LIST),
        Run(("sh", "-c", "rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin")),
    ]


@dataclass(frozen=True)
class GuestFacts:
    kernel: str  # release, e.g. 6.12.48+deb13-amd64
    root_uuid: str
    vagrant_pub: str  # Vagrant's insecure public key (authorized for the vagrant user)


def extlinux_conf(kernel: str, root_uuid: str) -> str:
    return file_text("extlinux.conf").replace("@KERNEL@", kernel).replace("@ROOT_UUID@", root_uuid)


def configure_plan(facts: GuestFacts) -> list[Step]:
    """Everything after the packages: boot, identity, network, logins, units."""
    etc: list[Step] = [
        # fsck pass 0: checking the clean root fs costs ~8 s of an emulated CPU on the way to SSH
        # (a VM is thrown away, never repaired; the ext4 journal still replays at mount).
        Write("/etc/fstab", f"UUID={facts.root_uuid} / ext4 errors=remount-ro 0 0\n"),
        Write("/etc/hostname", HOSTNAME + "\n"),
        Write("/etc/hosts", file_text("hosts")),
        Write("/etc/machine-id", ""),  # empty: systemd makes one per VM on its first boot
        Link("/etc/resolv.conf", "../run/systemd/resolve/resolv.conf"),  # upstream servers, no 127.0.0.53 stub
        Remove("/.dockerenv"),
        Mkdir(KUBEADM_PATCHES_DIR),  # containers get it bind-mounted; a VM provider writes the files itself
        Write("/boot/syslinux/extlinux.conf", extlinux_conf(facts.kernel, facts.root_uuid)),
        Write("/etc/systemd/network/90-kube-harness-dhcp.network", file_text("90-kube-harness-dhcp.network")),
        Write("/etc/systemd/system/systemd-networkd-wait-online.service.d/10-kube-harness.conf",
              file_text("wait-online-any.conf")),
        Write("/etc/modules-load.d/kube-harness.conf", file_text("modules-load.conf")),
        Write("/etc/modprobe.d/kube-harness-blacklist.conf", file_text("modprobe-blacklist.conf")),
        Write("/etc/default/locale", "LANG=C.UTF-8\n"),  # pam_env complains on every login without it
        Write("/etc/sysctl.d/20-kube-harness-vm.conf", file_text("sysctl.conf")),
        Write("/etc/systemd/journald.conf.d/10-kube-harness.conf", file_text("journald.conf")),
        Write("/etc/ssh/sshd_config.d/10-kube-harness.conf", file_text("sshd.conf")),
        Write("/etc/systemd/system/kube-harness-ssh-hostkeys.service", file_text("kube-harness-ssh-hostkeys.service")),
        Write("/etc/sudoers.d/vagrant", file_text("sudoers"), 0o440),
    ]  # fmt: skip
    return [*etc, *user_plan(facts.vagrant_pub), *units_plan()]


def user_plan(vagrant_pub: str) -> list[Step]:
    home = f"/home/{USER}"
    return [
        Run(("useradd", "--create-home", "--user-group", "--shell", "/bin/bash", USER)),
        Run(("usermod", "--password", "*", USER)),  # no password, yet not locked (sshd refuses locked users)
        Mkdir(f"{home}/.ssh", 0o700),
        Write(f"{home}/.ssh/authorized_keys", vagrant_pub.strip() + "\n", 0o600),
        Run(("chown", "-R", f"{USER}:{USER}", f"{home}/.ssh")),
    ]


def units_plan() -> list[Step]:
    return [
        Run(("systemctl", "unmask", *UNMASK)),
        Run(("systemctl", "enable", *ENABLE)),
        Run(("systemctl", "mask", *MASK)),
        Run(("sh", "-c", "rm -f /etc/ssh/ssh_host_*")),  # made by openssh's postinst: each VM makes its own
    ]


def _inside(root: Path, path: str) -> Path:
    """``path`` of the rootfs as a host path, refusing one whose parent leaves the rootfs (an absolute
    symlink in the rootfs would otherwise make a write land on the host)."""
    dest = root / path.lstrip("/")
    if not dest.parent.resolve().is_relative_to(root.resolve()):
        raise BuildError(f"{path} resolves outside the rootfs {root}", fix="rebuild the node image")
    return dest


def apply(root: Path, steps: list[Step], archives: Path, log: Path) -> None:
    """Carry out ``steps`` in ``root``; commands run chrooted with the apt cache ``archives`` bound."""
    for step in steps:
        if isinstance(step, Run):
            argv = ["unshare", "--mount", "--fork", "sh", str(CHROOT_SH), str(root), str(archives), *step.argv]
            Cmd(argv, timeout=1800).run(log=log)
            continue
        dest = _inside(root, step.path)
        if isinstance(step, Mkdir):
            dest.mkdir(parents=True, exist_ok=True)
            dest.chmod(step.mode)
            continue
        if dest.is_symlink() or dest.is_file():
            dest.unlink()
        elif dest.is_dir() and isinstance(step, Remove):
            shutil.rmtree(dest)
        if isinstance(step, Write):
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(step.content)
            dest.chmod(step.mode)
        elif isinstance(step, Link):
            dest.symlink_to(step.target)
        _log(log, step)


def _log(log: Path, step: Step) -> None:
    with log.open("a") as fh:
        fh.write(f"# {type(step).__name__.lower()} {getattr(step, 'path', '')}\n")
