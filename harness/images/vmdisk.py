"""The box's disk: a sparse raw image with one ext4 partition booted by extlinux, then qcow2.

No partition device is needed (``losetup -P`` makes none on the project's machines): the MBR is
written from Python, ``mkfs.ext4 -d`` builds the filesystem with the rootfs straight into the
image at the partition's offset (``-E offset``), and only extlinux, which finds its own sectors
through the kernel, sees the partition through a loop mount at that offset. ``^64bit`` and
``^metadata_csum``: syslinux 6.04 cannot read ext4 with either.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from harness.errors import BuildError
from harness.exec import Cmd

SECTOR = 512
GIB = 1 << 30
DISK_GIB = 10
PART_START = 2048  # sectors: 1 MiB, the usual alignment
MBR_CODE = 440  # bytes of boot code before the disk signature
MBR_CANDIDATES = (Path("/usr/lib/syslinux/mbr/mbr.bin"), Path("/usr/lib/SYSLINUX/mbr.bin"))
EXT4_FEATURES = "^64bit,^metadata_csum,^orphan_file"
ROOT_LABEL = "kh-root"


@dataclass(frozen=True)
class Layout:
    """Where the one partition sits, in sectors and bytes."""

    disk_bytes: int
    start: int = PART_START

    @property
    def sectors(self) -> int:
        return self.disk_bytes // SECTOR - self.start

    @property
    def offset(self) -> int:
        return self.start * SECTOR

    @property
    def size(self) -> int:
        return self.sectors * SECTOR


def layout(disk_gib: int = DISK_GIB) -> Layout:
    if disk_gib < 1:
        raise BuildError(f"disk size {disk_gib} GiB is too small", fix="use at least 1 GiB")
    return Layout(disk_gib * GIB)


def chs(lba: int, heads: int = 255, per_track: int = 63) -> bytes:
    """The 3 CHS bytes of an MBR entry; past cylinder 1023 the conventional maximum (LBA rules)."""
    cylinder, rest = divmod(lba, heads * per_track)
    head, sector = divmod(rest, per_track)
    if cylinder > 1023:
        return bytes([0xFE, 0xFF, 0xFF])
    return bytes([head, ((cylinder >> 2) & 0xC0) | (sector + 1), cylinder & 0xFF])


def mbr(code: bytes, part: Layout, signature: int) -> bytes:
    """Sector 0: boot code, disk signature and one bootable Linux (0x83) partition."""
    if len(code) > MBR_CODE:
        raise BuildError(f"MBR boot code is {len(code)} bytes, more than {MBR_CODE}", fix="use syslinux's mbr.bin")
    last = part.start + part.sectors - 1
    entry = b"\x80" + chs(part.start) + b"\x83" + chs(last) + struct.pack("<II", part.start, part.sectors)
    body = code.ljust(MBR_CODE, b"\0") + struct.pack("<IH", signature, 0) + entry + bytes(48)
    return body + b"\x55\xaa"


def mkfs_argv(disk: Path, rootfs: Path, part: Layout, uuid: str) -> list[str]:
    return ["mkfs.ext4", "-q", "-F", "-L", ROOT_LABEL, "-U", uuid, "-O", EXT4_FEATURES, "-E",
            f"offset={part.offset}", "-d", str(rootfs), str(disk), f"{part.size // 1024}k"]  # fmt: skip


def extlinux_script(disk: Path, part: Layout) -> str:
    """Loop-mount the partition (in a private mount namespace) and install extlinux into /boot/syslinux."""
    return (
        "set -eu; mount --make-rprivate /; mnt=$(mktemp -d)\n"
        f"mount -t ext4 -o loop,offset={part.offset},sizelimit={part.size} '{disk}' \"$mnt\"\n"
        'extlinux --install "$mnt/boot/syslinux"; umount "$mnt"; rmdir "$mnt"\n'
    )


def mbr_code() -> bytes:
    for path in MBR_CANDIDATES:
        if path.exists():
            return path.read_bytes()
    raise BuildError("syslinux's mbr.bin is not installed", fix="apt-get install syslinux-common")


def make_raw(disk: Path, rootfs: Path, uuid: str, signature: int, log: Path, disk_gib: int = DISK_GIB) -> Layout:
    """The bootable sparse raw image of ``rootfs``."""
    part = layout(disk_gib)
    with disk.open("wb") as fh:
        fh.truncate(part.disk_bytes)
    Cmd(mkfs_argv(disk, rootfs, part, uuid), timeout=1800).run(log=log)
    Cmd(["unshare", "--mount", "--fork", "sh", "-c", extlinux_script(disk, part)], timeout=300).run(log=log)
    with disk.open("r+b") as fh:
        fh.write(mbr(mbr_code(), part, signature))
    return part


def qcow2_argv(raw: Path, out: Path, compression: str | None) -> list[str]:
    """``qemu-img convert`` to qcow2; ``compression`` None, ``zlib`` (any QEMU) or ``zstd`` (QEMU >= 5.1)."""
    argv = ["qemu-img", "convert", "-O", "qcow2"]
    if compression:
        argv += ["-c", "-o", f"compression_type={compression}"]
    return [*argv, str(raw), str(out)]


def to_qcow2(raw: Path, out: Path, compression: str | None, log: Path) -> None:
    Cmd(["nice", "-n", "19", *qcow2_argv(raw, out, compression)], timeout=3600).run(log=log)
