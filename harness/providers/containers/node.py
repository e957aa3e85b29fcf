"""Nodes that are containers, driven through a container engine CLI (``docker`` or ``podman``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from harness.exec import Cmd
from harness.providers.base import NodeBase


@dataclass
class ContainerNode(NodeBase):
    """A node container; ``binary`` picks the engine CLI (parameterised, not copied, for podman)."""

    name: str
    role: str
    binary: str = "docker"
    interface: str = "eth0"

    def command(self, *argv: str, input: str | None = None, timeout: float | None = None) -> Cmd:
        flags = ["-i"] if input is not None else []
        return Cmd([self.binary, "exec", *flags, self.name, *argv], input=input, timeout=timeout)

    def copy_to(self, src: Path, dest: str) -> None:
        # `docker cp` into a tmpfs path lands under the mount: callers use /root, /var, /etc paths.
        Cmd([self.binary, "cp", str(src), f"{self.name}:{dest}"]).run()

    def copy_from(self, src: str, dest: Path) -> None:
        Cmd([self.binary, "cp", f"{self.name}:{src}", str(dest)]).run()

    def ip(self) -> str:
        fmt = "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}"
        out = Cmd([self.binary, "inspect", "--format", fmt, self.name]).run().stdout.split()
        return out[0] if out else ""

    def logs(self) -> str:
        return Cmd([self.binary, "logs", self.name]).run(check=False).output

    def interactive(self, *argv: str) -> list[str]:
        return [self.binary, "exec", "-it", self.name, *argv]

    # -- power -----------------------------------------------------------------------------------
    def _engine(self, *argv: str) -> None:
        Cmd([self.binary, *argv], timeout=120).run()

    def _state(self, field: str) -> str:
        return Cmd([self.binary, "inspect", "-f", f"{{{{.State.{field}}}}}", self.name]).run(check=False).stdout.strip()

    def stop(self) -> None:
        """``docker stop`` (SIGRTMIN+3 to systemd: a clean shutdown), addresses pinned."""
        self._power_off("stop", "-t", "5", self.name)

    def kill(self) -> None:
        self._power_off("kill", self.name)

    def _power_off(self, *argv: str) -> None:
        """Power off, pinning the node's addresses so it boots with the same ones (node IPs are in
        its certificates and kubelet flags; the engine would otherwise hand out the next free one)."""
        addresses = self._addresses()
        self._engine(*argv)
        for network, ip in addresses.items():
            self._engine("network", "disconnect", "-f", network, self.name)
            self._engine("network", "connect", "--ip", ip, network, self.name)

    def _addresses(self) -> dict[str, str]:
        out = Cmd([self.binary, "inspect", "-f", "{{json .NetworkSettings.Networks}}", self.name]).run().stdout
        return {net: v["IPAddress"] for net, v in json.loads(out).items() if v.get("IPAddress")}

    def start(self) -> None:
        if self._state("Running") != "true":
            self._engine("start", self.name)

    def pause(self) -> None:
        self._engine("pause", self.name)

    def resume(self) -> None:
        if self._state("Paused") == "true":
            self._engine("unpause", self.name)
