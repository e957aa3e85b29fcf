"""Nodes that are containers, driven through a container engine CLI (``docker`` or ``podman``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.exec import Cmd, Result


@dataclass
class ContainerNode:
    """A node container; ``binary`` picks the engine CLI (parameterised, not copied, for podman)."""

    name: str
    role: str
    binary: str = "docker"

    def command(self, *argv: str, input: str | None = None, timeout: float | None = None) -> Cmd:
        flags = ["-i"] if input is not None else []
        return Cmd([self.binary, "exec", *flags, self.name, *argv], input=input, timeout=timeout)

    def exec(self, *argv: str, input: str | None = None, timeout: float | None = None) -> Result:
        """Run and return the result; a non-zero exit raises CommandError (paste-able)."""
        return self.command(*argv, input=input, timeout=timeout).run()

    def copy_to(self, src: Path, dest: str) -> None:
        # `docker cp` into a tmpfs path lands under the mount: callers use /root, /var, /etc paths.
        Cmd([self.binary, "cp", str(src), f"{self.name}:{dest}"]).run()

    def copy_from(self, src: str, dest: Path) -> None:
        Cmd([self.binary, "cp", f"{self.name}:{src}", str(dest)]).run()

    def write_file(self, dest: str, content: str, mode: str = "0644") -> None:
        """Write ``content`` to ``dest`` on the node (through stdin, no temp files)."""
        script = f'mkdir -p "$(dirname {dest})" && cat > {dest} && chmod {mode} {dest}'
        self.command("sh", "-c", script, input=content).run()

    def ip(self) -> str:
        fmt = "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}"
        out = Cmd([self.binary, "inspect", "--format", fmt, self.name]).run().stdout.split()
        return out[0] if out else ""

    def logs(self) -> str:
        return Cmd([self.binary, "logs", self.name]).run(check=False).output

    def __str__(self) -> str:
        return self.name
