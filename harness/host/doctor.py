"""``kube-harness doctor``: one line per requirement, a verdict, and the fix when it fails."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness.exec import Cmd
from harness.host import caps, docker
from harness.paths import cache_root

PREPARE = "run `kube-harness host prepare` (as root)"
GIB = 1 << 30
# What one cluster needs beyond the host's own use: per node, and for building the node image.
MEM_PER_NODE_GIB, MEM_BASE_GIB = 1.0, 1.0
DISK_PER_NODE_GIB, DISK_BUILD_GIB = 1.5, 12.0


@dataclass
class Check:
    name: str
    status: str  # ok | warn | fail
    detail: str
    fix: str = ""

    def line(self) -> str:
        text = f"[{self.status:^4}] {self.name}: {self.detail}"
        return text + (f"\n       fix: {self.fix}" if self.fix and self.status != "ok" else "")


def _ok(name: str, detail: str) -> Check:
    return Check(name, "ok", detail)


def check_root() -> Check:
    if os.geteuid() == 0:
        return _ok("root", "running as root")
    return Check("root", "fail", f"running as uid {os.geteuid()}", "run as root (sudo); image builds need mounts")


def check_docker() -> Check:
    version = docker.server_version()
    if version:
        return _ok("docker engine", f"reachable, version {version}")
    where = "no docker CLI on PATH" if not docker.cli() else "the CLI finds no running engine"
    return Check("docker engine", "fail", where, PREPARE)


def check_privileged() -> Check:
    missing = caps.missing_caps(caps.bounding_mask(), caps.last_cap())
    version = docker.server_version()
    if not missing:
        return _ok("capabilities", "bounding set is complete: --privileged works")
    if version is None:
        return Check(
            "capabilities", "warn", f"bounding set lacks {', '.join(missing)}; no engine to check yet", PREPARE
        )
    runtime = str(docker.info().get("DefaultRuntime", ""))
    if not docker.needs_cap_shim(version, missing):
        return _ok("capabilities", f"lacks {', '.join(missing)}; Docker {version} requests only what it has")
    if runtime == docker.RUNTIME_NAME:
        return _ok("capabilities", f"lacks {', '.join(missing)}; default runtime {runtime} filters them")
    return Check("capabilities", "fail",
                 f"bounding set lacks {', '.join(missing)}: Docker {version} --privileged will fail to apply caps",
                 PREPARE + " (installs the kube-harness-runc runtime)")  # fmt: skip


def check_cgroups() -> Check:
    if Path("/sys/fs/cgroup/cgroup.controllers").exists():
        return _ok("cgroups", "v2 (unified)")
    return _ok("cgroups", "v1: kubelet >= 1.35 needs failCgroupV1: false, which the harness's kind config sets")


def _in_netns(script: str) -> bool:
    return Cmd(["unshare", "--net", "sh", "-c", script], timeout=20).run(check=False).rc == 0


def check_kernel() -> Check:
    found = {
        "overlay": "overlay" in Path("/proc/filesystems").read_text(),
        "br_netfilter": Path("/proc/sys/net/bridge/bridge-nf-call-iptables").exists(),
        "conntrack": Path("/proc/sys/net/netfilter/nf_conntrack_max").exists()
        or Path("/proc/sys/net/nf_conntrack_max").exists(),
    }
    if os.geteuid() == 0 and shutil.which("unshare") and shutil.which("ip"):
        found["vxlan"] = _in_netns("ip link add kh0 type vxlan id 42 dstport 4789")
        found["veth"] = _in_netns("ip link add kh0 type veth peer name kh1")
        if shutil.which("nft"):
            found["nftables"] = _in_netns("nft add table ip kube_harness_probe")
        if shutil.which("iptables"):
            found["iptables"] = _in_netns("iptables -t nat -L -n")
    missing = [k for k, v in found.items() if not v]
    if missing:
        return Check("kernel", "fail", f"missing: {', '.join(missing)}",
                     "use a kernel with these built in or loadable (modprobe overlay br_netfilter vxlan)")  # fmt: skip
    return _ok("kernel", "has " + ", ".join(found))


def _meminfo_gib(field: str) -> float:
    m = re.search(rf"^{field}:\s+(\d+) kB", Path("/proc/meminfo").read_text(), re.M)
    return int(m.group(1)) / (1 << 20) if m else 0.0


def check_resources(nodes: int) -> list[Check]:
    need_mem = MEM_BASE_GIB + MEM_PER_NODE_GIB * nodes
    mem = _meminfo_gib("MemAvailable")
    root = cache_root()
    probe = next((p for p in [root, *root.parents] if p.exists()), Path("/"))
    disk = shutil.disk_usage(probe).free / GIB
    need_disk = DISK_BUILD_GIB + DISK_PER_NODE_GIB * nodes
    out = []
    for name, have, need, fix in (
        ("memory", mem, need_mem, f"free memory or ask for fewer than {nodes} nodes"),
        ("disk", disk, need_disk, f"free space on {probe} (or set KUBE_HARNESS_CACHE elsewhere)"),
    ):
        detail = f"{have:.1f} GiB free, {need:.1f} GiB needed for {nodes} nodes"
        out.append(_ok(name, detail) if have >= need else Check(name, "fail", detail, fix))
    return out


def check_tool(name: str, version_argv: list[str], want: str, fix: str) -> Check:
    from harness.images import tools

    path = tools.find(name, want)
    if path is None:
        return Check(name, "fail", f"{name} {want} neither cached nor on PATH", fix)
    out = Cmd([str(path), *version_argv], timeout=20).run(check=False).output.strip().splitlines()
    return _ok(name, f"{path} ({out[0] if out else '?'})")


def check_go() -> Check:
    from harness.images import gobuild

    try:
        version = gobuild.go_version()
    except Exception as exc:
        return Check("go", "fail", str(exc), "install Go >= 1.24 (or put it on PATH)")
    m = re.match(r"go1\.(\d+)", version)
    if not m or int(m.group(1)) < 24:
        return Check("go", "fail", f"{version} is too old", "install Go >= 1.24")
    return _ok("go", version)


def check_build_tools() -> Check:
    missing = [t for t in ("mmdebstrap", "unshare", "chroot", "tar", "gcc") if not shutil.which(t)]
    if missing:
        return Check("build tools", "fail", f"missing {', '.join(missing)}", PREPARE)
    return _ok("build tools", "mmdebstrap, unshare, chroot, tar, gcc")


def check_inotify(nodes: int) -> Check:
    from harness.host.prepare import SYSCTLS

    low = []
    for key, want in SYSCTLS.items():
        have = int((Path("/proc/sys") / key.replace(".", "/")).read_text().split()[0])
        if have < want:
            low.append(f"{key}={have} (< {want})")
    if low:
        return Check("inotify", "fail", f"too low for {nodes}+ nodes: {', '.join(low)}", PREPARE)
    return _ok("inotify", ", ".join(f"{k} >= {v}" for k, v in SYSCTLS.items()))


def check_vms() -> list[Check]:
    """VM tools and the accelerator (never a failure: only VM clusters need them)."""
    from harness.host import vms

    return [Check(name, status, detail, fix) for name, status, detail, fix in vms.doctor_lines()]


def run_checks(nodes: int = 3) -> list[Check]:
    from harness.images import tools

    checks: list[Callable[[], Check | list[Check]]] = [
        check_root, check_docker, check_privileged, check_cgroups, check_kernel,
        lambda: check_resources(nodes), lambda: check_inotify(nodes), check_go, check_build_tools,
        lambda: check_tool("kind", ["version"], tools.KIND_VERSION, PREPARE + " or `kube-harness tools build`"),
        lambda: check_tool("kubectl", ["version", "--client"], tools.KUBECTL_VERSION,
                           PREPARE + " or `kube-harness tools build`"),
        check_vms,
    ]  # fmt: skip
    out: list[Check] = []
    for check in checks:
        result = check()
        out.extend(result if isinstance(result, list) else [result])
    return out
