"""A VM node: commands over SSH (as the box's ``vagrant`` user, through ``sudo``), power through
libvirt. The SSH details come from ``vagrant ssh-config`` and live in the node's recorded ``meta``."""

from __future__ import annotations

import hashlib
import shlex
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from harness.exec import Cmd
from harness.providers.base import NodeBase
from harness.providers.vms import virsh

SSH_OPTIONS = [
    "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
    "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=6",
    "-o", "ControlMaster=auto", "-o", "ControlPersist=120",
]  # fmt: skip
SHUTDOWN_S = 120  # a clean shutdown under TCG takes a while; then the power is cut


def control_path(cluster_dir: str) -> str:
    """The ControlMaster socket: per cluster (a new cluster's VM may get a gone one's address) and
    short (a Unix socket path holds 107 bytes; ``%C`` alone is 40)."""
    folder = Path(tempfile.gettempdir()) / "kh-ssh"
    folder.mkdir(mode=0o700, exist_ok=True)
    return str(folder / f"{hashlib.sha256(cluster_dir.encode()).hexdigest()[:10]}-%C")


@dataclass
class VMNode(NodeBase):
    name: str
    role: str
    meta: dict[str, str] = field(default_factory=dict)  # host, port, user, key, interface, address, console

    @property
    def interface(self) -> str:  # type: ignore[override]  # NodeBase's is a plain attribute
        return self.meta.get("interface", "eth1")

    def _options(self) -> list[str]:
        return [*SSH_OPTIONS, "-o", f"ControlPath={control_path(self.meta.get('control_dir', ''))}", "-i",
                self.meta["key"]]  # fmt: skip

    def _login(self) -> str:
        return f"{self.meta.get('user', 'vagrant')}@{self.meta['host']}"

    def _ssh(self, tty: bool = False) -> list[str]:
        return ["ssh", *self._options(), *(["-t"] if tty else []), "-p", self.meta.get("port", "22"), self._login()]

    def _scp(self, src: str, dest: str) -> Cmd:
        """scp over the same connection; a remote side is ``:PATH`` (the login user's, not root's)."""
        remote = [f"{self._login()}{p}" if p.startswith(":") else p for p in (src, dest)]
        return Cmd(["scp", "-q", *self._options(), "-P", self.meta.get("port", "22"), *remote])

    @staticmethod
    def _staging() -> str:
        return f"/tmp/kh-copy-{uuid.uuid4().hex[:12]}"

    def command(self, *argv: str, input: str | None = None, timeout: float | None = None) -> Cmd:
        remote = "sudo -n -- " + shlex.join(argv)
        return Cmd([*self._ssh(), remote], input=input, timeout=timeout)

    def copy_to(self, src: Path, dest: str) -> None:
        """Any file, binary too (an image archive): scp to the login user's /tmp, then moved as root."""
        staging = self._staging()
        self._scp(str(src), f":{staging}").run()
        d, t = shlex.quote(dest), shlex.quote(staging)
        self.command("sh", "-c", f'mkdir -p "$(dirname {d})" && mv -f {t} {d} && chown root:root {d}').run()

    def copy_from(self, src: str, dest: Path) -> None:
        staging = self._staging()
        user = shlex.quote(self.meta.get("user", "vagrant"))
        self.command("sh", "-c", f"cp {shlex.quote(src)} {staging} && chown {user} {staging}").run()
        try:
            self._scp(f":{staging}", str(dest)).run()
        finally:
            self.command("rm", "-f", staging).run(check=False)

    def ip(self) -> str:
        return self.meta.get("address", "")

    def logs(self) -> str:
        path = Path(self.meta.get("console", ""))
        return path.read_text(errors="replace") if path.is_file() else ""

    def interactive(self, *argv: str) -> list[str]:
        return [*self._ssh(tty=True), "sudo -i -- " + shlex.join(argv) if argv else "sudo -i"]

    # -- power: libvirt ----------------------------------------------------------------------------
    def stop(self) -> None:
        """ACPI shutdown; the power is cut if the guest is not off within SHUTDOWN_S."""
        virsh.virsh("shutdown", self.name)
        deadline = time.monotonic() + SHUTDOWN_S
        while virsh.state(self.name) != "shut off":
            if time.monotonic() > deadline:
                virsh.virsh("destroy", self.name, check=False)
                break
            time.sleep(1)

    def kill(self) -> None:
        virsh.virsh("destroy", self.name)

    def start(self) -> None:
        if virsh.state(self.name) == "shut off":
            virsh.virsh("start", self.name)

    def pause(self) -> None:
        virsh.virsh("suspend", self.name)

    def resume(self) -> None:
        if virsh.state(self.name) == "paused":
            virsh.virsh("resume", self.name)
