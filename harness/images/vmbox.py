"""The vagrant-libvirt box, made from the node image: the same rootfs, kernel added, no second build.

``build_box`` builds (or finds up to date) the node image, exports its filesystem, installs a
Debian kernel, udev and sshd in a chroot, applies the VM fix-ups (harness.images.vmguest), makes a
bootable disk (harness.images.vmdisk) and packs ``metadata.json``, a ``Vagrantfile`` and
``box.img`` into a ``.box``. It is cached under ``<cache>/boxes/<key>/``, the key being the node
image's id, the kernel package and a hash of this recipe (its modules and files/vm); a build
happens in a temporary directory that is renamed into place, so a box that exists is complete.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import subprocess
import uuid
from pathlib import Path

from harness.errors import BuildError, HostError, UsageError
from harness.exec import Cmd
from harness.images import vmdisk, vmguest
from harness.images.build import BuildOptions, build_node_image
from harness.images.cache import hash_file, hash_tree, key
from harness.images.rootfs import debian_mirror
from harness.locks import waiting_lock
from harness.paths import cache_root
from harness.progress import Progress

BOX_FILE = "kube-harness-node.box"
BOX_REPO = "kube-harness/node"
# zstd-compressed qcow2: `vagrant box add` copies the .box and the first `vagrant up` streams
# box.img into the libvirt pool, both in proportion to its size; zstd makes it 2.6x smaller than
# uncompressed, compresses 6x faster than zlib (and smaller) and decompresses fast when a guest
# reads. Measured numbers are in vagrant/README.md.
COMPRESSION: str | None = "zstd"
HOST_TOOLS = {"mkfs.ext4": "e2fsprogs", "extlinux": "extlinux", "qemu-img": "qemu-utils", "tar": "tar"}
VAGRANT_KEYS = [  # (base, glob) of keys/ folders: Debian's vagrant package, then upstream's
    (Path("/usr/share"), "rubygems-integration/all/gems/vagrant-*/keys"),
    (Path("/opt"), "vagrant/embedded/gems/gems/vagrant-*/keys"),
    (Path("/opt"), "vagrant/embedded/gems/*/gems/vagrant-*/keys"),
]


def boxes_root() -> Path:
    return cache_root() / "boxes"


def recipe_version() -> str:
    """A hash of everything that decides what the box build does (code and guest files)."""
    here = Path(__file__).parent
    files = [hash_file(here / f"{name}.py") for name in ("vmbox", "vmguest", "vmdisk")]
    return hashlib.sha256(json.dumps([*files, hash_tree(vmguest.FILES_DIR), COMPRESSION]).encode()).hexdigest()[:16]


def box_key(image_id: str, kernel_package: str, recipe: str) -> str:
    return key("box", image=image_id, kernel=kernel_package, recipe=recipe)


def metadata(virtual_gib: int = vmdisk.DISK_GIB) -> dict[str, object]:
    return {"provider": "libvirt", "format": "qcow2", "virtual_size": virtual_gib}


def name_for(kubernetes: str, box_key_: str) -> str:
    return f"{BOX_REPO}-{kubernetes}-{box_key_[:12]}"


def box_name(path_or_key: Path | str) -> str:
    """The Vagrant name of a built box, given its .box path, its directory or its key."""
    path = Path(path_or_key)
    folder = path.parent if path.suffix == ".box" else path if path.is_dir() else boxes_root() / str(path_or_key)
    info = folder / "box.json"
    if not info.exists():
        raise UsageError(f"no built box at {folder}", fix="build one: kube-harness image build --vm")
    return str(json.loads(info.read_text())["name"])


def vagrant_key_dir(places: list[tuple[Path, str]] = VAGRANT_KEYS) -> Path:
    """The installed vagrant's keys/ folder: ``vagrant.pub`` (put in the box) and ``vagrant`` (the
    private key Vagrant and the harness log in with until Vagrant replaces it)."""
    for base, pattern in places:
        for folder in sorted(base.glob(pattern), reverse=True):
            if (folder / "vagrant.pub").is_file():
                return folder
    raise HostError("Vagrant's insecure key (keys/vagrant.pub) was not found: is vagrant installed?",
                    fix="run `kube-harness host prepare --with-vms`")  # fmt: skip


def kernel_release(boot: Path) -> str:
    """The release of the newest kernel in the rootfs's /boot (``vmlinuz-<release>``)."""
    names = sorted(p.name.removeprefix("vmlinuz-") for p in boot.glob("vmlinuz-*"))
    if not names:
        raise BuildError(f"no kernel in {boot} after installing {vmguest.KERNEL_PACKAGE}", fix="see the packages log")
    return names[-1]


def root_uuid(bkey: str) -> str:
    """The root filesystem's UUID (fstab, kernel command line): derived from the key, so rebuilds agree."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"kube-harness-box:{bkey}"))


def image_id(tag: str) -> str:
    return Cmd(["docker", "image", "inspect", "--format", "{{.Id}}", tag], timeout=60).run().stdout.strip()


def build_box(opts: BuildOptions | None = None, progress: Progress | None = None) -> Path:
    """Build (or find up to date) the node image and its box; returns the .box path."""
    opts, progress = opts or BuildOptions(), progress or Progress()
    tag = build_node_image(opts, progress)
    bkey = box_key(image_id(tag), vmguest.KERNEL_PACKAGE, recipe_version())
    final = boxes_root() / bkey
    with _lock(bkey, progress):
        if (final / "box.json").exists():
            progress.say(f"ok  box {box_name(final)} is up to date ({final / BOX_FILE})")
            return final / BOX_FILE
        pub = (vagrant_key_dir() / "vagrant.pub").read_text()  # before the build: fails at once without vagrant
        _ensure_host_tools(progress)
        _build(tag, bkey, pub, opts, progress)
        for old in superseded(boxes_root(), tag, bkey):
            shutil.rmtree(old, ignore_errors=True)
            progress.say(f"ok  removed the superseded box {old}")
    return final / BOX_FILE


def superseded(root: Path, tag: str, keep: str) -> list[Path]:
    """Earlier boxes of the same node image tag (Vagrant keeps its own copy of any it added)."""
    out = []
    for info in sorted(root.glob("*/box.json")):
        try:
            image = json.loads(info.read_text()).get("image")
        except ValueError:
            continue
        if image == tag and info.parent.name != keep:
            out.append(info.parent)
    return out


def _lock(bkey: str, progress: Progress) -> contextlib.AbstractContextManager[None]:
    def waiting(path: str) -> None:
        progress.say(f"..  waiting for another build of this box (lock {path})")

    return waiting_lock(boxes_root() / f".{bkey}.lock", waiting)


def _ensure_host_tools(progress: Progress) -> None:
    from harness.host.prepare import install_packages

    missing = {pkg for tool, pkg in HOST_TOOLS.items() if not shutil.which(tool)}
    if not any(p.exists() for p in vmdisk.MBR_CANDIDATES):
        missing.add("syslinux-common")
    install_packages(sorted(missing), progress)


def _build(tag: str, bkey: str, vagrant_pub: str, opts: BuildOptions, progress: Progress) -> None:
    work, stage = cache_root() / "work" / f"box-{bkey}", boxes_root() / f".tmp-{bkey}"
    for folder in (work, stage):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    root, archives = work / "rootfs", cache_root() / "apt-archives" / "box"
    archives.mkdir(parents=True, exist_ok=True)
    try:
        with progress.step(f"export the filesystem of {tag}", "box-export") as log:
            export_rootfs(tag, root, log)
        suite = vmguest.codename((root / "etc/os-release").read_text())
        with progress.step(f"install kernel, udev, sshd ({suite}) in the box rootfs", "box-packages") as log:
            resolv = Path("/etc/resolv.conf").read_text()
            vmguest.apply(root, vmguest.packages_plan(suite, opts.mirror or debian_mirror(), resolv), archives, log)
        kernel = kernel_release(root / "boot")
        facts = vmguest.GuestFacts(kernel, root_uuid(bkey), vagrant_pub)
        with progress.step("configure the rootfs for a VM", "box-configure") as log:
            vmguest.apply(root, vmguest.configure_plan(facts), archives, log)
            shutil.copy2(root / "boot" / f"vmlinuz-{kernel}", stage / "vmlinuz")  # for the KVM probe
        _disk_and_pack(work, stage, facts, bkey, progress)
        _write_info(stage, tag, bkey, kernel)
        stage.rename(boxes_root() / bkey)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(stage, ignore_errors=True)


def _disk_and_pack(work: Path, stage: Path, facts: vmguest.GuestFacts, bkey: str, progress: Progress) -> None:
    raw = work / "disk.raw"
    with progress.step(f"make the {vmdisk.DISK_GIB} GiB disk (ext4, extlinux, MBR)", "box-disk") as log:
        vmdisk.make_raw(raw, work / "rootfs", facts.root_uuid, int(bkey[:8], 16), log)
        shutil.rmtree(work / "rootfs")
    with progress.step(f"convert to qcow2 ({COMPRESSION or 'uncompressed'})", "box-qcow2") as log:
        vmdisk.to_qcow2(raw, stage / "box.img", COMPRESSION, log)
        raw.unlink()
    with progress.step(f"pack {BOX_FILE}", "box-pack") as log:
        (stage / "metadata.json").write_text(json.dumps(metadata()) + "\n")
        shutil.copy2(vmguest.FILES_DIR / "Vagrantfile", stage / "Vagrantfile")
        Cmd(["tar", "-C", str(stage), "-cf", str(stage / BOX_FILE), "metadata.json", "Vagrantfile", "box.img"],
            timeout=1800).run(log=log)  # fmt: skip
        for name in ("metadata.json", "Vagrantfile", "box.img"):
            (stage / name).unlink()


def _write_info(stage: Path, tag: str, bkey: str, kernel: str) -> None:
    labels = Cmd(["docker", "image", "inspect", "--format", "{{json .Config.Labels}}", tag]).run().stdout
    kubernetes = (json.loads(labels) or {}).get("kube-harness.io/kubernetes", "unknown")
    info = {"name": name_for(kubernetes, bkey), "key": bkey, "image": tag, "image_id": image_id(tag),
            "kubernetes": kubernetes, "kernel": kernel, "kernel_package": vmguest.KERNEL_PACKAGE,
            "box_bytes": (stage / BOX_FILE).stat().st_size, "compression": COMPRESSION}  # fmt: skip
    (stage / "box.json").write_text(json.dumps(info, indent=2) + "\n")


def export_rootfs(tag: str, dest: Path, log: Path) -> None:
    """``docker export`` of a created (never started) container of ``tag``, unpacked with owners,
    modes and extended attributes (file capabilities) intact."""
    dest.mkdir(parents=True)
    cid = Cmd(["docker", "create", tag], timeout=120).run(log=log, capture=True).stdout.strip()
    untar = ["nice", "-n", "19", "tar", "-C", str(dest), "--numeric-owner", "-p", "--xattrs", "--xattrs-include=*",
             "-xf", "-"]  # fmt: skip
    try:
        with log.open("a") as fh:
            fh.write(f"$ docker export {cid} | {' '.join(untar)}\n")
            fh.flush()
            exp = subprocess.Popen(["docker", "export", cid], stdout=subprocess.PIPE, stderr=fh)
            tar = subprocess.run(untar, stdin=exp.stdout, stderr=fh)
            if exp.stdout:
                exp.stdout.close()
            exp_rc = exp.wait()
    finally:
        Cmd(["docker", "rm", "-f", cid], timeout=120).run(check=False, log=log)
    if exp_rc != 0 or tar.returncode != 0:
        raise BuildError(f"exporting {tag} failed (docker export {exp_rc}, tar {tar.returncode})", fix=f"see {log}")


def box_listed(listing: str, name: str, provider: str = "libvirt") -> bool:
    """Is ``name`` in ``vagrant box list`` output (``NAME (PROVIDER, VERSION)`` lines) for ``provider``?"""
    for line in listing.splitlines():
        parts = line.split(None, 1)
        if len(parts) == 2 and parts[0] == name and parts[1].strip("()").split(",")[0].strip() == provider:
            return True
    return False


def add_box(path: Path) -> str:
    """``vagrant box add`` the box unless Vagrant lists it already; returns its name."""
    name = box_name(path)
    listing = Cmd(["vagrant", "box", "list"], timeout=120).run().stdout
    if not box_listed(listing, name):
        Cmd(["vagrant", "box", "add", "--name", name, str(path)], timeout=1800).run()
    return name
