"""BusyBox as upstream builds it, from Debian's source package.

The e2e ``busybox`` image is upstream's official one. Debian's own busybox build reverts an
upstream ash change (``revert-9c143ce...patch``, kept for debian-installer): its ``sh`` drops
environment variables whose names are not shell identifiers, so ``sh -c env`` in a pod whose
``envFrom`` makes ``data-1=value-1`` printed nothing of it and the conformance spec "Secrets should
be consumable via the environment" failed. Here the upstream tarball from Debian's source package
(``busybox_<version>.orig.tar.bz2``, none of Debian's patches) is built with upstream's defconfig,
static; ``tc`` is left out (its CBQ code needs kernel headers older than Debian's).
"""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path

from harness.exec import Cmd
from harness.images import rootfs
from harness.images.cache import Artifact
from harness.progress import Progress

CONFIG_OFF = ("CONFIG_TC",)
CONFIG_ON = ("CONFIG_STATIC",)
RECIPE = 1  # bump when the build below changes


def sources(mirror: str, suite: str) -> str:
    """A deb822 list with only the suite's source packages (the host's own lists stay untouched)."""
    return (f"Types: deb-src\nURIs: {mirror}\nSuites: {suite}\nComponents: main\n"
            "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n")  # fmt: skip


def apt_options(root: Path) -> list[str]:
    return ["-o", "Dir::Etc::SourceList=/dev/null", "-o", f"Dir::Etc::SourceParts={root / 'sources.list.d'}",
            "-o", f"Dir::State={root / 'state'}", "-o", f"Dir::Cache={root / 'cache'}",
            "-o", "APT::Sandbox::User=root"]  # fmt: skip


def configure(config: str) -> str:
    """defconfig's ``.config`` with CONFIG_ON set and CONFIG_OFF unset."""
    out = []
    for line in config.splitlines():
        name = line.split("=", 1)[0].removeprefix("# ").split(" ", 1)[0]
        if name in CONFIG_ON:
            line = f"{name}=y"
        elif name in CONFIG_OFF:
            line = f"# {name} is not set"
        out.append(line)
    return "\n".join(out) + "\n"


def build_busybox(mirror: str, progress: Progress, suite: str = rootfs.NODE_SUITE) -> Path:
    """The static busybox binary (cached by suite, mirror and this recipe)."""
    art = Artifact("busybox", {"suite": suite, "mirror": mirror, "recipe": RECIPE, "off": CONFIG_OFF})
    binary = art.path / "busybox"
    if art.done:
        progress.say(f"ok  busybox, upstream build (cached {art.id})")
        return binary
    work = art.begin()
    with progress.step(f"build busybox from Debian's {suite} source (upstream tarball, defconfig, static)",
                       "busybox") as log:  # fmt: skip
        apt = work / "apt"
        for sub in ("sources.list.d", "state/lists/partial", "cache/archives/partial", "src"):
            (apt / sub).mkdir(parents=True, exist_ok=True)
        (apt / "sources.list.d" / "src.sources").write_text(sources(mirror, suite))
        Cmd(["apt-get", *apt_options(apt), "update", "-q"], timeout=600).run(log=log)
        Cmd(["apt-get", *apt_options(apt), "source", "--download-only", "busybox"], cwd=str(apt / "src"),
            timeout=600).run(log=log)  # fmt: skip
        (orig,) = (apt / "src").glob("busybox_*.orig.tar.*")
        with tarfile.open(orig) as tar:
            tar.extractall(work / "tree", filter="tar")
        (tree,) = (work / "tree").iterdir()
        Cmd(["make", "defconfig"], cwd=str(tree), timeout=600).run(log=log)
        (tree / ".config").write_text(configure((tree / ".config").read_text()))
        Cmd(["make", "oldconfig"], cwd=str(tree), input="\n" * 50, timeout=600).run(log=log)
        Cmd(["make", "-j2", "busybox"], cwd=str(tree), timeout=1800).run(log=log)
        shutil.copy2(tree / "busybox", binary)
        shutil.rmtree(work / "tree")
        shutil.rmtree(apt)
    art.finish()
    return binary
