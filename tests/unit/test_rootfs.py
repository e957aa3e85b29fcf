"""harness.images.rootfs: the host's Debian mirror and the mmdebstrap command line."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.errors import HostError
from harness.images.rootfs import NODE_ROOTFS, POD_ROOTFS, debian_mirror, mmdebstrap_argv, pin_preferences

pytestmark = pytest.mark.unit

MIRROR = "http://example.invalid/debian"
DEB822 = f"""\
Types: deb
URIs: http://example.invalid/debian-security
Suites: trixie-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: {MIRROR}/
Suites: trixie trixie-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""
PIN_TEXT = (
    "Package: containerd runc containernetworking-plugins\nPin: release n=sid\nPin-Priority: 990\n\n"
    "Package: *\nPin: release n=sid\nPin-Priority: 100\n"
)


def test_mirror_from_deb822(tmp_path: Path, write_file: Callable[..., Path]) -> None:
    write_file(tmp_path / "sources.list.d" / "debian.sources", DEB822)
    assert debian_mirror(tmp_path) == MIRROR


@pytest.mark.parametrize(
    "line",
    [
        f"deb {MIRROR} bookworm main\n",
        f"# deb http://old.invalid/debian buster main\ndeb [arch=amd64 signed-by=/k.gpg] {MIRROR}/ trixie main\n",
    ],
)
def test_mirror_from_one_line_sources_list(tmp_path: Path, write_file: Callable[..., Path], line: str) -> None:
    write_file(tmp_path / "sources.list", line)
    assert debian_mirror(tmp_path) == MIRROR


def test_mirror_from_list_in_sources_list_d(tmp_path: Path, write_file: Callable[..., Path]) -> None:
    write_file(tmp_path / "sources.list", "# see sources.list.d\n")
    write_file(tmp_path / "sources.list.d" / "mirror.list", f"deb {MIRROR} trixie main\n")
    assert debian_mirror(tmp_path) == MIRROR


@pytest.mark.parametrize(
    "files",
    [
        {},
        {"sources.list": "deb http://archive.ubuntu.invalid/ubuntu noble main\n"},
        {"sources.list": f"deb-src {MIRROR} trixie main\n"},
    ],
)
def test_no_mirror_is_a_host_error(tmp_path: Path, write_file: Callable[..., Path], files: dict[str, str]) -> None:
    for name, text in files.items():
        write_file(tmp_path / name, text)
    with pytest.raises(HostError) as err:
        debian_mirror(tmp_path)
    assert "no Debian mirror" in err.value.message
    assert "--mirror" in (err.value.fix or "")


def test_pin_preferences() -> None:
    assert pin_preferences(NODE_ROOTFS) == PIN_TEXT


def test_node_rootfs_argv() -> None:
    argv = mmdebstrap_argv(NODE_ROOTFS, Path("/work/rootfs"), MIRROR)
    assert argv[0] == "mmdebstrap"
    assert "--variant=minbase" in argv
    assert argv[-4:] == ["trixie", "/work/rootfs", f"deb {MIRROR} trixie main", f"deb {MIRROR} sid main"]
    (include,) = [a for a in argv if a.startswith("--include=")]
    assert {"containerd", "runc", "containernetworking-plugins", "systemd"} <= set(include[10:].split(","))
    (hook,) = [a for a in argv if a.startswith("--setup-hook=")]
    for pinned in ("Package: containerd runc containernetworking-plugins", "Pin: release n=sid", "Pin-Priority: 990"):
        assert pinned in hook


def test_setup_hook_writes_the_pin_preferences(tmp_path: Path) -> None:
    """Run the hook as mmdebstrap does (``sh -c HOOK exec TARGET``) against a scratch directory."""
    (hook,) = [a for a in mmdebstrap_argv(NODE_ROOTFS, tmp_path, MIRROR) if a.startswith("--setup-hook=")]
    subprocess.run(["sh", "-c", hook.removeprefix("--setup-hook="), "exec", str(tmp_path)], check=True)
    assert (tmp_path / "etc/apt/preferences.d/kube-harness-pin").read_text() == PIN_TEXT


def test_pod_rootfs_argv_has_no_pinning() -> None:
    argv = mmdebstrap_argv(POD_ROOTFS, Path("/t"), MIRROR)
    assert argv[-3:] == ["trixie", "/t", f"deb {MIRROR} trixie main"]
    assert not [a for a in argv if "sid" in a or a.startswith("--setup-hook=")]
