"""How each e2e test image is made here, by the name upstream gives it (``e2e.test --list-images``).

Every image behaves like upstream's for what the suite uses: the same entrypoint and command, user,
and files at the same paths (agnhost's TLS pair, its image-defined user and group, kitten's page).
Where ours differs it says so in ``DIFFERS``; images no offline cluster can have, or that only
suites outside every preset use, are in ``NOT_BUILT`` with the reason.
"""

from __future__ import annotations

import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness.images.oci import FileEntry, Image, Layer

NOT_BUILT = {
    "invalid.registry.k8s.io": "exists to test a pull that fails: it must stay unpullable",
    "gcr.io/k8s-authenticated-test": "tests pulls with registry credentials: there is no registry here",
    "apparmor-loader": "AppArmor tests only (no preset runs them; these hosts have no AppArmor)",
    "nfs-provisioner": "storage tests with an NFS provisioner (no preset; needs nfsd in the kernel)",
    "volume/nfs": "NFS volume tests (no preset; needs nfsd in the kernel)",
    "volume/iscsi": "iSCSI volume tests (no preset; needs a target in the kernel)",
    "node-perf": "node performance benchmarks (no preset)",
    "sample-device-plugin": "device plugin tests (no preset; node e2e)",
    "etcd": "etcd upgrade tests only (no preset)",
    "registry.k8s.io/sig-storage": "CSI drivers and sidecars of the storage suites (no preset runs them)",
    "registry.k8s.io/cloud-provider-gcp": "a GCE persistent-disk CSI driver (cloud storage tests; no cloud here)",
}
DIFFERS = {
    "agnhost": "Debian trixie userland instead of Alpine; no /var/registry (the fake registry server's "
               "content: pull tests need a registry); CoreDNS is ours, not v1.6.2",
    "busybox": "upstream BusyBox built here from Debian's source package (the upstream tarball, defconfig, "
               "static, without tc), applets linked in /bin",
    "nginx": "Debian trixie's nginx with the official image's default.conf, not nginx:alpine",
    "perl": "Debian trixie's perl, not the official perl:5.40 image",
    "glibc-dns-testing": "our userland (glibc, dig) and CoreDNS",
}  # fmt: skip


@dataclass
class Pieces:
    """What recipes build from: the suite's programs and files, our CoreDNS and pause, two Debian layers."""

    bin: Path
    files: Path
    coredns: Path
    pause: Path
    userland: Layer  # Debian trixie minbase + the e2e tools (shared by most images: stored once)
    busybox: Layer  # /bin/busybox and its applet links, /etc/passwd and /etc/group
    agnhost_users: Layer  # the userland's passwd/group plus agnhost's image-defined user and group


def repository(name: str) -> str:
    """``registry.k8s.io/e2e-test-images/agnhost:2.66.1`` -> ``agnhost``; ``.../volume/nfs:1.6`` -> ``volume/nfs``."""
    path = name.rsplit(":", 1)[0] if ":" in name.rsplit("/", 1)[-1] else name
    parts = path.split("/")
    return "/".join(parts[2:]) if len(parts) > 2 and parts[1] == "e2e-test-images" else parts[-1]


def not_built_reason(name: str) -> str | None:
    repo = repository(name)
    for key, why in NOT_BUILT.items():
        if name.startswith(key) or repo == key or repo.startswith(key + "/"):
            return why
    return None


def _files(*entries: tuple[str, Path, int]) -> Layer:
    return Layer(files=[FileEntry(path, src, mode) for path, src, mode in entries])


def _agnhost_layers(p: Pieces) -> list[Layer]:
    main = _files(("/agnhost", p.bin / "agnhost", 0o755), ("/coredns", p.coredns, 0o755),
                  ("/localhost.crt", p.files / "agnhost" / "localhost.crt", 0o644),
                  ("/localhost.key", p.files / "agnhost" / "localhost.key", 0o644))  # fmt: skip
    main.symlinks["/agnhost-2"] = "agnhost"
    main.dirs["/uploads"] = 0o755
    return [p.userland, p.agnhost_users, main]


def agnhost(name: str, p: Pieces) -> Image:
    return Image(name, _agnhost_layers(p), entrypoint=["/agnhost"], cmd=["pause"])


def webpage(which: str) -> Callable[[str, Pieces], Image]:
    """kitten and nautilus: agnhost serving a picture and a JSON file from / (kubectl's Update Demo)."""

    def make(name: str, p: Pieces) -> Image:
        page = _files((f"/{which}.jpg", p.files / which / f"{which}.jpg", 0o644),
                      ("/data.json", p.files / which / "data.json", 0o644))  # fmt: skip
        return Image(name, [*_agnhost_layers(p), page], entrypoint=["/agnhost"], cmd=["test-webserver"])

    return make


def on_userland(*programs: tuple[str, str], entrypoint: list[str] | None = None, cmd: list[str] | None = None,
                user: str | None = None, setuid: bool = False) -> Callable[[str, Pieces], Image]:  # fmt: skip
    """An image of the userland plus ``(path in image, program in the suite's bin)`` files."""

    def make(name: str, p: Pieces) -> Image:
        mode = 0o4755 if setuid else 0o755
        layers = [p.userland] + ([_files(*[(dest, p.bin / prog, mode) for dest, prog in programs])] if programs else [])
        return Image(name, layers, entrypoint=entrypoint, cmd=cmd, user=user)

    return make


def busybox(name: str, p: Pieces) -> Image:
    return Image(name, [p.busybox], cmd=["sh"])


def nginx(name: str, p: Pieces) -> Image:
    return Image(name, [p.userland], cmd=["nginx", "-g", "daemon off;"])


def glibc_dns(name: str, p: Pieces) -> Image:
    return Image(name, [p.userland, _files(("/coredns", p.coredns, 0o755))], cmd=["/bin/sh"])


def pause(name: str, p: Pieces) -> Image:
    return Image(name, [_files(("/pause", p.pause, 0o755))], entrypoint=["/pause"])


RECIPES: dict[str, Callable[[str, Pieces], Image]] = {
    "agnhost": agnhost,
    "kitten": webpage("kitten"),
    "nautilus": webpage("nautilus"),
    "busybox": busybox,
    "nginx": nginx,
    "perl": on_userland(cmd=["perl", "-de0"]),
    "nonroot": on_userland(cmd=["/bin/sh"], user="1234"),
    "nonewprivs": on_userland(("/usr/local/bin/nnp", "nnp"), cmd=["nnp"], setuid=True),
    "glibc-dns-testing": glibc_dns,
    "ipc-utils": on_userland(cmd=["/bin/sh"]),
    "distroless-iptables": on_userland(cmd=["/bin/sh"]),
    "regression-issue-74839": on_userland(
        ("/regression-issue-74839", "regression-issue-74839"), entrypoint=["/regression-issue-74839"]
    ),
    "resource-consumer": on_userland(
        ("/consumer", "resource-consumer"), ("/consume-cpu/consume-cpu", "consume-cpu"), entrypoint=["/consumer"]
    ),
    "sample-apiserver": on_userland(("/sample-apiserver", "sample-apiserver"), entrypoint=["/sample-apiserver"]),
    "pause": pause,
}


def plan(names: list[str]) -> tuple[list[str], dict[str, str]]:
    """Split the suite's image names into (those built here, {name: why not})."""
    built, skipped = [], {}
    for name in names:
        why = not_built_reason(name)
        if why is None and repository(name) not in RECIPES:
            why = "no recipe yet: tests that use it wait for a pull that cannot happen"
        if why:
            skipped[name] = why
        else:
            built.append(name)
    return built, skipped


def images(names: list[str], p: Pieces) -> list[Image]:
    return [RECIPES[repository(n)](n, p) for n in names]


def with_users(userland_tar: Path, out: Path) -> Layer:
    """A layer with the userland's /etc/passwd and /etc/group plus agnhost's user-defined-in-image
    (uid 1000) in group-defined-in-image (gid 50000), as its Dockerfile's adduser/addgroup make."""
    with tarfile.open(userland_tar) as tar:
        passwd = _member(tar, "etc/passwd") + "user-defined-in-image:x:1000:1000::/home/user-defined-in-image:/bin/sh\n"
        group = _member(tar, "etc/group")
    group += "user-defined-in-image:x:1000:\ngroup-defined-in-image:x:50000:user-defined-in-image\n"
    out.mkdir(parents=True, exist_ok=True)
    (out / "passwd").write_text(passwd)
    (out / "group").write_text(group)
    return _files(("/etc/passwd", out / "passwd", 0o644), ("/etc/group", out / "group", 0o644))


def _member(tar: tarfile.TarFile, path: str) -> str:
    for candidate in (f"./{path}", path):
        try:
            fh = tar.extractfile(candidate)
        except KeyError:
            continue
        if fh is not None:
            return fh.read().decode()
    raise FileNotFoundError(f"{path} not in the userland layer")
