"""Each built piece of the node image, cached under a key of its inputs.

Every function returns the artifact directory, building it only when the cache has no finished
artifact for exactly these inputs (versions, source hashes, Go version, build flags).
"""

from __future__ import annotations

import shutil
import tempfile
from importlib import resources
from pathlib import Path

from harness.exec import Cmd
from harness.images import gobuild, rootfs
from harness.images.cache import Artifact, hash_file, hash_tree
from harness.images.versions import KubeVersion
from harness.progress import Progress

FILES = resources.files("harness.images") / "files"
FLANNEL = ("github.com/flannel-io/flannel", "v0.28.10")
FLANNEL_CNI = ("github.com/containernetworking/plugins/plugins/meta/flannel", "v0.9.1")
TENCENT_VPC = "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/vpc"
COREDNS = "github.com/coredns/coredns"


def _cached(art: Artifact, progress: Progress, what: str) -> tuple[Path, bool]:
    if art.done:
        progress.say(f"ok  {what} (cached {art.id})")
        return art.path, True
    return art.begin(), False


def kubernetes(version: KubeVersion, progress: Progress, source: Path | None = None) -> Path:
    src_hash = hash_tree(source) if source else None
    art = Artifact(
        "kubernetes",
        {
            "version": version.text,
            "go": gobuild.go_version(),
            "source": src_hash,
            "ldflags": gobuild.version_ldflags(version),
            "commands": gobuild.K8S_COMMANDS,
        },
    )
    path, hit = _cached(art, progress, f"Kubernetes {version} binaries")
    if not hit:
        with progress.step(f"build Kubernetes {version} (7 commands + etcd) from Go modules", "kubernetes") as log:
            gobuild.build_kubernetes(version, path / "src", path / "bin", log, source)
            shutil.rmtree(path / "src")
        art.finish()
    return path / "bin"


def coredns(version: str, progress: Progress) -> Path:
    art = Artifact("coredns", {"version": version, "go": gobuild.go_version()})
    path, hit = _cached(art, progress, f"CoreDNS {version}")
    if not hit:
        with progress.step(f"build CoreDNS {version}", "coredns") as log:
            gobuild.go_install(COREDNS, version, path, log)
        art.finish()
    return path / "coredns"


def flannel(progress: Progress) -> tuple[Path, Path]:
    """flanneld (CGO on amd64, linked statically) and the flannel CNI plugin.

    flanneld is built in a wrapper module that stubs the Tencent Cloud VPC SDK (the proxy refuses
    it; only the tencentvpc backend, never used here, imports it). The CNI plugin comes from
    containernetworking/plugins v0.9.1, the last release that carried it (CNI spec <= 0.4.0).
    """
    art = Artifact("flannel", {"flannel": FLANNEL, "cni": FLANNEL_CNI, "go": gobuild.go_version(),
                               "stub": hash_tree(Path(str(FILES / "flannel")))})  # fmt: skip
    path, hit = _cached(art, progress, f"flannel {FLANNEL[1]}")
    if not hit:
        with progress.step(f"build flannel {FLANNEL[1]} and its CNI plugin", "flannel") as log:
            src = path / "src"
            shutil.copytree(Path(str(FILES / "flannel")), src)
            (src / "go.mod").write_text(
                f"module kube-harness.local/flanneld\n\ngo 1.26.0\n\nrequire {FLANNEL[0]} {FLANNEL[1]}\n\n"
                f"replace {TENCENT_VPC} => ./tencent-vpc-stub\n"
            )
            (src / "tools.go").write_text(f'//go:build tools\n\npackage tools\n\nimport _ "{FLANNEL[0]}"\n')
            env = gobuild.go_env(cgo=True)
            Cmd([gobuild.go_binary(), "mod", "tidy"], env=env, cwd=str(src)).run(log=log)
            ldflags = f"-s -w -X {FLANNEL[0]}/pkg/version.Version={FLANNEL[1]} -extldflags -static"
            Cmd([gobuild.go_binary(), "build", "-trimpath", "-tags", "netgo,osusergo", "-ldflags", ldflags,
                 "-o", str(path / "flanneld"), FLANNEL[0]], env=env, cwd=str(src)).run(log=log)  # fmt: skip
            gobuild.go_install(FLANNEL_CNI[0], FLANNEL_CNI[1], path / "cni-bin", log)
            (path / "cni-bin" / "flannel").rename(path / "flannel-cni")
            shutil.rmtree(src)
        art.finish()
    return path / "flanneld", path / "flannel-cni"


def pause(version: KubeVersion, kubernetes_dir: Path, progress: Progress) -> Path:
    src = kubernetes_dir / "build" / "pause" / "linux" / "pause.c"
    art = Artifact("pause", {"source": hash_file(src), "version": version.text})
    path, hit = _cached(art, progress, "pause")
    if not hit:
        with progress.step("build pause (gcc, static)", "pause") as log:
            Cmd(["gcc", "-Os", "-Wall", "-static", f"-DVERSION=kube-harness-{version.text}", "-o", str(path / "pause"),
                 str(src)]).run(log=log)  # fmt: skip
        art.finish()
    return path / "pause"


def echo_server(progress: Progress) -> Path:
    src = Path(str(FILES / "echoserver"))
    art = Artifact("echo-server", {"source": hash_tree(src), "go": gobuild.go_version()})
    path, hit = _cached(art, progress, "echo-server")
    if not hit:
        step = progress.step("build echo-server (test image)", "echo-server")
        with step as log, tempfile.TemporaryDirectory() as tmp:
            shutil.copytree(src, tmp, dirs_exist_ok=True)
            out = str(path / "echo-server")
            argv = [gobuild.go_binary(), "build", "-trimpath", "-ldflags", "-s -w", "-o", out, "."]
            Cmd(argv, env=gobuild.go_env(), cwd=tmp).run(log=log)
        art.finish()
    return path / "echo-server"


def node_rootfs(mirror: str, progress: Progress) -> Path:
    art = Artifact("rootfs-node", {**rootfs.NODE_ROOTFS.inputs(), "mirror": mirror})
    path, hit = _cached(art, progress, "node rootfs")
    if not hit:
        with progress.step("debootstrap node rootfs (trixie + containerd 2 from sid)", "rootfs-node") as log:
            rootfs.build_rootfs(rootfs.NODE_ROOTFS, path / "root", log, mirror)
        art.finish()
    return path / "root"


def userland(mirror: str, progress: Progress) -> Path:
    """The shared userland layer of pod images, as a reproducible tar."""
    return rootfs_tar("rootfs-userland", rootfs.POD_ROOTFS, mirror, progress,
                      "pod userland layer (iptables, nft, dig, curl, nc)", "userland.tar")  # fmt: skip


def rootfs_tar(kind: str, spec: rootfs.RootfsSpec, mirror: str, progress: Progress, what: str,
               filename: str = "rootfs.tar") -> Path:  # fmt: skip
    """A Debian rootfs from ``spec`` as a reproducible tar (fixed mtimes and owners), cached."""
    art = Artifact(kind, {**spec.inputs(), "mirror": mirror})
    path, hit = _cached(art, progress, what.split(" (")[0])
    if not hit:
        with progress.step(f"debootstrap {what}", kind) as log:
            rootfs.build_rootfs(spec, path / "root", log, mirror)
            Cmd(["tar", "-C", str(path / "root"), "--sort=name", "--mtime=@0", "--numeric-owner", "--owner=0",
                 "--group=0", "--exclude=./dev/*", "-cf", str(path / filename), "."]).run(log=log)  # fmt: skip
            shutil.rmtree(path / "root")
        art.finish()
    return path / filename
