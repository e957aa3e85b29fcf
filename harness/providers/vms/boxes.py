"""The box a VM cluster boots: built from the node image (or a box the spec names), added to
Vagrant, and its volume placed in the libvirt pool by a local copy instead of vagrant-libvirt's
upload (which streamed a 600 MB volume for ~260 s here, once per box per host)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from xml.etree import ElementTree

from harness.errors import UsageError
from harness.exec import Cmd
from harness.progress import Progress
from harness.providers.vms import virsh

POOL_DIR = Path("/var/lib/libvirt/images")


def ensure_box(spec_box: str | None, kubernetes_version: str, progress: Progress) -> str:
    """The box name to boot: the spec's (already added), else the one built from the node image."""
    if spec_box:
        if spec_box not in Cmd(["vagrant", "box", "list"], timeout=120).run().stdout:
            raise UsageError(f"vms.box {spec_box!r} is not added to Vagrant",
                             fix=f"`vagrant box add {spec_box} ...` first, or drop vms.box to use the box "
                                 "built from the node image")  # fmt: skip
        return spec_box
    from harness.images.build import BuildOptions
    from harness.images.vmbox import add_box, build_box

    name = add_box(build_box(BuildOptions(kubernetes_version=kubernetes_version), progress))
    place_volume(name)
    return name


def vagrant_home() -> Path:
    return Path(os.environ.get("VAGRANT_HOME", Path.home() / ".vagrant.d"))


def box_image(name: str) -> tuple[Path, str]:
    """The added box's image and its version directory (the newest), as vagrant-libvirt reads them."""
    root = vagrant_home() / "boxes" / name.replace("/", "-VAGRANTSLASH-")
    versions = sorted((p for p in root.glob("*") if (p / "libvirt" / "box.img").is_file()), key=lambda p: p.name)
    if not versions:
        raise UsageError(f"box {name} has no libvirt image under {root}", fix=f"`vagrant box add` {name} again")
    return versions[-1] / "libvirt" / "box.img", versions[-1].name


def volume_name(name: str, version: str, image: Path) -> str:
    """vagrant-libvirt 0.11's name for a box's volume (handle_box_image.rb storage_volume_name)."""
    if version in ("", "0"):
        version = f"0_{int(image.stat().st_mtime)}"
    return f"{name.replace('/', '-VAGRANTSLASH-')}_vagrant_box_image_{version}_box.img"


def ensure_pool() -> None:
    if virsh.virsh("pool-info", virsh.POOL, check=False).ok:
        virsh.virsh("pool-start", virsh.POOL, check=False)
        return
    POOL_DIR.mkdir(parents=True, exist_ok=True)
    virsh.virsh("pool-define-as", virsh.POOL, "dir", "--target", str(POOL_DIR))
    virsh.virsh("pool-start", virsh.POOL)
    virsh.virsh("pool-autostart", virsh.POOL, check=False)


def pool_dir() -> Path:
    xml = ElementTree.fromstring(virsh.virsh("pool-dumpxml", virsh.POOL).stdout)
    return Path(xml.findtext("target/path") or POOL_DIR)


def place_volume(name: str) -> None:
    """Copy the box image into the pool under vagrant-libvirt's volume name (nothing if there)."""
    ensure_pool()
    image, version = box_image(name)
    vol = volume_name(name, version, image)
    if virsh.virsh("vol-info", vol, "--pool", virsh.POOL, check=False).ok:
        return
    target = pool_dir()
    tmp = target / f".{vol}.part"
    shutil.copyfile(image, tmp)
    tmp.rename(target / vol)
    virsh.virsh("pool-refresh", virsh.POOL)
