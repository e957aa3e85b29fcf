"""harness.images.vmbox, vmguest and vmdisk: the box's cache key, the rootfs plan and the disk layout."""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.bootstrap.patches import KUBEADM_PATCHES_DIR
from harness.cli.main import cli
from harness.errors import BuildError, UsageError
from harness.images import node, vmbox, vmdisk, vmguest
from harness.images.vmguest import Link, Mkdir, Remove, Run, Write

pytestmark = pytest.mark.unit

IMAGE_ID = "sha256:80b08db4c65b7501b9e05c9025f04f939448092c80b6b5e1062b4bee55e8638d"
KERNEL = "6.12.117+deb13-amd64"
UUID = "642bc6a1-1e40-534b-a9f6-5981343dc8f7"
PUB = "ssh-rsa AAAAB3NzaC1yc2E vagrant insecure public key\n"
MIRROR = "http://deb.example.invalid/debian"
FACTS = vmguest.GuestFacts(KERNEL, UUID, PUB)


def writes(steps: list[vmguest.Step]) -> dict[str, Write]:
    return {s.path: s for s in steps if isinstance(s, Write)}


def runs(steps: list[vmguest.Step]) -> list[tuple[str, ...]]:
    return [s.argv for s in steps if isinstance(s, Run)]


# --- cache key, names, metadata ---------------------------------------------------------------


def test_box_key_depends_on_every_input() -> None:
    base = vmbox.box_key(IMAGE_ID, "linux-image-amd64", "r1")
    assert base == vmbox.box_key(IMAGE_ID, "linux-image-amd64", "r1")
    assert len(base) == 16
    others = {
        vmbox.box_key("sha256:other", "linux-image-amd64", "r1"),
        vmbox.box_key(IMAGE_ID, "linux-image-cloud-amd64", "r1"),
        vmbox.box_key(IMAGE_ID, "linux-image-amd64", "r2"),
    }
    assert base not in others
    assert len(others) == 3


def test_recipe_version_follows_the_guest_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = tmp_path / "vm"
    files.mkdir()
    (files / "hosts").write_text("127.0.0.1 localhost\n")
    monkeypatch.setattr(vmguest, "FILES_DIR", files)
    first = vmbox.recipe_version()
    assert first == vmbox.recipe_version()
    (files / "hosts").write_text("127.0.0.1 localhost\n127.0.1.1 kube-harness\n")
    assert vmbox.recipe_version() != first


def test_metadata_is_what_vagrant_libvirt_reads() -> None:
    assert json.dumps(vmbox.metadata()) == '{"provider": "libvirt", "format": "qcow2", "virtual_size": 10}'


def test_box_name_from_path_dir_or_key(write_file: Callable[..., Path]) -> None:
    key = "95a1f1f108801270"
    name = vmbox.name_for("v1.37.2", key)
    assert name == "kube-harness/node-v1.37.2-95a1f1f10880"
    folder = vmbox.boxes_root() / key
    write_file(folder / "box.json", json.dumps({"name": name, "key": key}))
    assert vmbox.box_name(folder / vmbox.BOX_FILE) == name
    assert vmbox.box_name(folder) == name
    assert vmbox.box_name(key) == name
    with pytest.raises(UsageError, match="no built box"):
        vmbox.box_name("0000000000000000")


def test_superseded_boxes_are_those_of_the_same_image(write_file: Callable[..., Path]) -> None:
    root = vmbox.boxes_root()
    for key, image in (("aaaa", "kube-harness/node:v1.37.2"), ("bbbb", "kube-harness/node:v1.37.2"),
                       ("cccc", "kube-harness/node:v1.37.2-1234abcd")):  # fmt: skip
        write_file(root / key / "box.json", json.dumps({"image": image}))
    write_file(root / "dddd" / "box.json", "not json")
    assert vmbox.superseded(root, "kube-harness/node:v1.37.2", "bbbb") == [root / "aaaa"]


@pytest.mark.parametrize(
    ("listing", "listed"),
    [
        ("kube-harness/node-v1.37.2-95a1f1f10880 (libvirt, 0)\n", True),
        ("debian/bookworm64 (libvirt, 12.20240905.1)\nkube-harness/node-v1.37.2-95a1f1f10880 (libvirt, 0)\n", True),
        ("kube-harness/node-v1.37.2-95a1f1f10880 (virtualbox, 0)\n", False),
        ("kube-harness/node-v1.37.2-95a1f1f10880-old (libvirt, 0)\n", False),
        ("There are no installed boxes! Use `vagrant box add` to add some.\n", False),
    ],
)
def test_box_listed(listing: str, listed: bool) -> None:
    assert vmbox.box_listed(listing, "kube-harness/node-v1.37.2-95a1f1f10880") is listed


def test_vagrant_key_dir_prefers_the_newest(write_file: Callable[..., Path], tmp_path: Path) -> None:
    for version in ("2.3.4", "2.3.7"):
        write_file(tmp_path / f"gems/vagrant-{version}/keys/vagrant.pub", f"key {version}\n")
    assert vmbox.vagrant_key_dir([(tmp_path, "gems/vagrant-*/keys")]) == tmp_path / "gems/vagrant-2.3.7/keys"
    with pytest.raises(vmbox.HostError, match="insecure key"):
        vmbox.vagrant_key_dir([(tmp_path, "nothing/*/keys")])


def test_kernel_release_takes_the_newest(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="no kernel"):
        vmbox.kernel_release(tmp_path)
    for name in ("vmlinuz-6.12.116+deb13-amd64", f"vmlinuz-{KERNEL}", "config-6.13.0"):
        (tmp_path / name).write_text("")
    assert vmbox.kernel_release(tmp_path) == KERNEL


def test_root_uuid_is_stable_per_key() -> None:
    assert vmbox.root_uuid("95a1f1f108801270") == vmbox.root_uuid("95a1f1f108801270")
    assert vmbox.root_uuid("95a1f1f108801270") != vmbox.root_uuid("95a1f1f108801271")


# --- the rootfs plan ----------------------------------------------------------------------------


def test_codename_from_os_release() -> None:
    text = 'PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nVERSION_CODENAME=trixie\nID=debian\n'
    assert vmguest.codename(text) == "trixie"
    with pytest.raises(BuildError, match="VERSION_CODENAME"):
        vmguest.codename('NAME="Debian"\n')


def test_packages_plan_installs_from_the_image_release_only() -> None:
    plan = vmguest.packages_plan("trixie", MIRROR, "nameserver 10.0.0.53\n")
    files = writes(plan)
    assert files[vmguest.APT_LIST].content == f"deb {MIRROR} trixie main\n"
    assert files["/etc/resolv.conf"].content == "nameserver 10.0.0.53\n"
    install = next(a for a in runs(plan) if "install" in a)
    assert set(vmguest.GUEST_PACKAGES) <= set(install)
    assert {"linux-image-amd64", "initramfs-tools", "openssh-server", "udev", "sudo"} <= set(install)
    assert f"-oDir::Etc::SourceList={vmguest.APT_LIST}" in install


def test_packages_plan_order() -> None:
    """initramfs settings before the kernel's postinst; no daemon starts during the install."""
    plan = vmguest.packages_plan("trixie", MIRROR, "")
    index = {(type(s).__name__, getattr(s, "path", None) or " ".join(getattr(s, "argv", ()))): i
             for i, s in enumerate(plan)}  # fmt: skip
    install = next(i for (kind, what), i in index.items() if kind == "Run" and " install " in what)
    assert index[("Write", "/etc/initramfs-tools/conf.d/kube-harness")] < install
    assert index[("Write", "/usr/sbin/policy-rc.d")] < install < index[("Remove", "/usr/sbin/policy-rc.d")]
    assert index[("Remove", vmguest.APT_LIST)] > install


def test_configure_plan_files() -> None:
    plan = vmguest.configure_plan(FACTS)
    files = writes(plan)
    assert files["/etc/fstab"].content.startswith(f"UUID={UUID} / ext4 ")
    assert files["/etc/machine-id"].content == ""
    assert "127.0.1.1\tkube-harness" in files["/etc/hosts"].content
    assert files["/etc/sudoers.d/vagrant"].mode == 0o440
    assert files["/etc/sudoers.d/vagrant"].content.strip().endswith("vagrant ALL=(ALL) NOPASSWD: ALL")
    keys = files["/home/vagrant/.ssh/authorized_keys"]
    assert (keys.content, keys.mode) == (PUB, 0o600)
    assert Mkdir("/home/vagrant/.ssh", 0o700) in plan
    assert Mkdir(KUBEADM_PATCHES_DIR) in plan
    assert Link("/etc/resolv.conf", "../run/systemd/resolve/resolv.conf") in plan
    assert Remove("/.dockerenv") in plan


def test_configure_plan_boot_and_network() -> None:
    files = writes(vmguest.configure_plan(FACTS))
    boot = files["/boot/syslinux/extlinux.conf"].content
    assert f"LINUX /boot/vmlinuz-{KERNEL}" in boot
    assert f"INITRD /boot/initrd.img-{KERNEL}" in boot
    assert f"root=UUID={UUID}" in boot
    assert "console=ttyS0" in boot.split("APPEND", 1)[1]
    assert "@" not in boot
    network = files["/etc/systemd/network/90-kube-harness-dhcp.network"].content
    assert "Name=eth* en*" in network
    assert "DHCP=ipv4" in network
    modules = files["/etc/modules-load.d/kube-harness.conf"].content.split()
    assert {"br_netfilter", "overlay", "nf_conntrack", "ip_tables", "nf_tables"} <= set(modules)
    sysctl = files["/etc/sysctl.d/20-kube-harness-vm.conf"].content
    assert "net.ipv4.ip_forward = 1" in sysctl
    assert "net.bridge.bridge-nf-call-iptables = 1" in sysctl


def test_units_unmasked_for_a_vm_and_kept_masked() -> None:
    assert set(vmguest.UNMASK) <= set(node.MASKED_UNITS)
    kept = set(node.MASKED_UNITS) - set(vmguest.UNMASK)
    assert {"apt-daily.timer", "apt-daily-upgrade.timer", "systemd-firstboot.service"} <= kept
    assert {"systemd-udevd.service", "systemd-networkd.service", "getty.target"} <= set(vmguest.UNMASK)
    plan_runs = runs(vmguest.configure_plan(FACTS))
    assert ("systemctl", "unmask", *vmguest.UNMASK) in plan_runs
    enable = next(a for a in plan_runs if a[:2] == ("systemctl", "enable"))
    assert {"ssh.service", "systemd-networkd.service", "serial-getty@ttyS0.service"} <= set(enable)
    assert plan_runs.index(("useradd", "--create-home", "--user-group", "--shell", "/bin/bash", "vagrant")) < next(
        i for i, a in enumerate(plan_runs) if a[0] == "chown"
    )


def test_apply_file_steps(tmp_path: Path, no_docker: list[str]) -> None:
    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    (root / "etc/resolv.conf").symlink_to("/run/host-resolv.conf")  # must be replaced, never followed
    (root / ".dockerenv").write_text("")
    steps: list[vmguest.Step] = [
        Write("/etc/resolv.conf", "nameserver 10.0.0.53\n"),
        Remove("/.dockerenv"),
        Mkdir("/etc/kube-harness/kubeadm-patches"),
        Write("/etc/sudoers.d/vagrant", "x\n", 0o440),
        Link("/etc/resolv.conf", "../run/systemd/resolve/resolv.conf"),
    ]
    vmguest.apply(root, steps, tmp_path / "archives", tmp_path / "log")
    assert (root / "etc/resolv.conf").readlink() == Path("../run/systemd/resolve/resolv.conf")
    assert not (root / ".dockerenv").exists()
    assert (root / "etc/kube-harness/kubeadm-patches").is_dir()
    assert (root / "etc/sudoers.d/vagrant").stat().st_mode & 0o777 == 0o440
    assert no_docker == []


def test_apply_refuses_paths_that_leave_the_rootfs(tmp_path: Path) -> None:
    root = tmp_path / "rootfs"
    root.mkdir()
    (root / "etc").symlink_to(tmp_path / "host-etc")
    with pytest.raises(BuildError, match="outside the rootfs"):
        vmguest.apply(root, [Write("/etc/fstab", "x")], tmp_path / "archives", tmp_path / "log")
    assert not (tmp_path / "host-etc").exists()


# --- the disk -------------------------------------------------------------------------------------


def test_layout_of_the_10_gib_disk() -> None:
    part = vmdisk.layout(10)
    assert (part.start, part.offset) == (2048, 1 << 20)
    assert part.sectors == 10 * (1 << 30) // 512 - 2048 == 20969472
    assert part.offset + part.size == part.disk_bytes
    with pytest.raises(BuildError):
        vmdisk.layout(0)


@pytest.mark.parametrize(("lba", "expected"), [(0, b"\x00\x01\x00"), (2048, bytes([32, 33, 0])),
                                               (16450559, b"\xfe\xff\xff"), (20971519, b"\xfe\xff\xff")])  # fmt: skip
def test_chs(lba: int, expected: bytes) -> None:
    assert vmdisk.chs(lba) == expected


def test_mbr_sector() -> None:
    part = vmdisk.layout(10)
    sector = vmdisk.mbr(b"\xfa" * 400, part, 0x95A1F1F1)
    assert len(sector) == 512
    assert sector[:400] == b"\xfa" * 400 and sector[400:440] == bytes(40)
    assert struct.unpack_from("<I", sector, 440)[0] == 0x95A1F1F1
    entry = sector[446:462]
    assert entry[0] == 0x80 and entry[4] == 0x83
    assert struct.unpack_from("<II", entry, 8) == (2048, part.sectors)
    assert sector[462:510] == bytes(48)
    assert sector[510:] == b"\x55\xaa"
    with pytest.raises(BuildError, match=r"mbr\.bin"):
        vmdisk.mbr(bytes(441), part, 0)


def test_mkfs_builds_the_filesystem_at_the_partition_offset() -> None:
    part = vmdisk.layout(10)
    argv = vmdisk.mkfs_argv(Path("/w/disk.raw"), Path("/w/rootfs"), part, UUID)
    assert argv[0] == "mkfs.ext4"
    assert argv[argv.index("-O") + 1].split(",")[:2] == ["^64bit", "^metadata_csum"]
    assert argv[argv.index("-E") + 1] == "offset=1048576"
    assert argv[argv.index("-d") + 1] == "/w/rootfs"
    assert argv[argv.index("-U") + 1] == UUID
    assert argv[-2:] == ["/w/disk.raw", f"{part.size // 1024}k"]
    script = vmdisk.extlinux_script(Path("/w/disk.raw"), part)
    assert f"offset={part.offset},sizelimit={part.size}" in script
    assert "extlinux --install" in script and "losetup -P" not in script


@pytest.mark.parametrize(("compression", "options"), [(None, []), ("zstd", ["-c", "-o", "compression_type=zstd"])])
def test_qcow2_argv(compression: str | None, options: list[str]) -> None:
    argv = vmdisk.qcow2_argv(Path("d.raw"), Path("box.img"), compression)
    assert argv == ["qemu-img", "convert", "-O", "qcow2", *options, "d.raw", "box.img"]


def test_image_build_help_names_vm() -> None:
    result = CliRunner().invoke(cli, ["image", "build", "--help"], prog_name="kube-harness")
    assert result.exit_code == 0
    text = " ".join(result.output.split()).replace("- ", "-")  # click wraps help lines
    assert "--vm" in text and "vagrant-libvirt box" in text
