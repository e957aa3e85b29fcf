"""Root filesystems from Debian packages with mmdebstrap (no registry, no base image).

Two are built: the node rootfs (trixie with systemd; containerd, runc and the CNI plugins pinned to
sid, since trixie's containerd is 1.7 and kubelet wants a 2.x CRI), and a small userland layer that
pod images share (iptables, nftables, dig, curl, nc). sid is not usable for the node itself: its
systemd refuses cgroup v1 hosts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from harness.errors import HostError
from harness.exec import Cmd

NODE_SUITE = "trixie"
PIN_SUITE = "sid"
NODE_PACKAGES = [
    "systemd", "systemd-sysv", "dbus", "containerd", "runc", "containernetworking-plugins",
    "iptables", "nftables", "iproute2", "conntrack", "ethtool", "socat", "kmod", "util-linux",
    "mount", "ca-certificates", "procps", "curl", "libseccomp2", "iputils-ping", "less",
]  # fmt: skip
NODE_PINNED = ["containerd", "runc", "containernetworking-plugins"]
POD_PACKAGES = [
    "iptables", "nftables", "iproute2", "conntrack", "bind9-dnsutils", "curl", "netcat-openbsd",
    "ca-certificates", "procps", "iputils-ping",
]  # fmt: skip
EXCLUDES = ["/usr/share/doc/*", "/usr/share/man/*", "/usr/share/info/*", "/usr/share/locale/*", "/usr/share/lintian/*"]


@dataclass(frozen=True)
class RootfsSpec:
    suite: str
    packages: tuple[str, ...]
    variant: str = "minbase"
    pin_suite: str | None = None
    pinned: tuple[str, ...] = ()

    def inputs(self) -> dict[str, object]:
        return {"suite": self.suite, "packages": sorted(self.packages), "variant": self.variant,
                "pin_suite": self.pin_suite, "pinned": sorted(self.pinned)}  # fmt: skip


NODE_ROOTFS = RootfsSpec(NODE_SUITE, tuple(NODE_PACKAGES), "minbase", PIN_SUITE, tuple(NODE_PINNED))
POD_ROOTFS = RootfsSpec(NODE_SUITE, tuple(POD_PACKAGES), "minbase")


def debian_mirror(sources_dir: Path = Path("/etc/apt")) -> str:
    """The Debian mirror this host's apt uses (deb822 .sources or one-line .list)."""
    files = [*sorted(sources_dir.glob("sources.list.d/*.sources")), sources_dir / "sources.list"]
    files += sorted(sources_dir.glob("sources.list.d/*.list"))
    for path in files:
        if not path.exists():
            continue
        text = path.read_text()
        for uri in re.findall(r"^URIs:\s*(\S+)", text, re.M) + re.findall(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)", text, re.M):
            if uri.rstrip("/").endswith("/debian"):
                return uri.rstrip("/")
    raise HostError(
        "no Debian mirror found in /etc/apt/sources.list*",
        fix="configure apt with a Debian mirror, or pass --mirror URL",
    )


def pin_preferences(spec: RootfsSpec) -> str:
    """apt preferences: only ``spec.pinned`` come from the pin suite; all else stays on the base suite."""
    return (
        f"Package: {' '.join(spec.pinned)}\nPin: release n={spec.pin_suite}\nPin-Priority: 990\n\n"
        f"Package: *\nPin: release n={spec.pin_suite}\nPin-Priority: 100\n"
    )


def mmdebstrap_argv(spec: RootfsSpec, target: Path, mirror: str) -> list[str]:
    argv = [
        "mmdebstrap", f"--variant={spec.variant}", "--mode=root", "--format=directory",
        "--aptopt=Acquire::Check-Valid-Until \"false\"", "--aptopt=Acquire::Retries \"3\"",
        "--include=" + ",".join(spec.packages),
    ]  # fmt: skip
    argv += [f"--dpkgopt=path-exclude={p}" for p in EXCLUDES]
    if spec.pin_suite:
        prefs = pin_preferences(spec).replace("'", "")
        dest = '"$1/etc/apt/preferences.d'
        argv.append(f"--setup-hook=mkdir -p {dest}\" && printf '%s' '{prefs}' > {dest}/kube-harness-pin\"")
    argv += ['--customize-hook=rm -rf "$1/var/lib/apt/lists"/* "$1/var/cache/apt"/*.bin']
    argv += [spec.suite, str(target), f"deb {mirror} {spec.suite} main"]
    if spec.pin_suite:
        argv.append(f"deb {mirror} {spec.pin_suite} main")
    return argv


def build_rootfs(spec: RootfsSpec, target: Path, log: Path, mirror: str | None = None) -> None:
    Cmd(mmdebstrap_argv(spec, target, mirror or debian_mirror()), timeout=1800).run(log=log)
