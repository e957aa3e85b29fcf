"""Facts about the Docker engine, through the docker CLI (paste-able, like kind does)."""

from __future__ import annotations

import json
import re
import shutil

from harness.exec import Cmd

RUNTIME_NAME = "kube-harness-runc"
SHIM_PATH = "/usr/local/bin/kube-harness-runc"


def cli() -> str | None:
    return shutil.which("docker")


def server_version() -> str | None:
    """The engine's version, or None when no engine answers."""
    if not cli():
        return None
    res = Cmd(["docker", "version", "--format", "{{.Server.Version}}"], timeout=20).run(check=False)
    return res.stdout.strip() if res.rc == 0 and res.stdout.strip() else None


def installed_version() -> str:
    """The version of the installed dockerd binary (whether or not it runs)."""
    res = Cmd(["dockerd", "--version"], timeout=20).run(check=False)
    m = re.search(r"version (\d+\.\d+[\w.+~-]*)", res.stdout)
    return m.group(1) if m else "0"


def info() -> dict[str, object]:
    res = Cmd(["docker", "info", "--format", "{{json .}}"], timeout=20).run(check=False)
    return json.loads(res.stdout) if res.rc == 0 else {}


def major(version: str) -> int:
    try:
        return int(version.split(".")[0])
    except ValueError:
        return 0


def needs_cap_shim(version: str, missing: list[str]) -> bool:
    """Docker < 23 asks for every known capability for --privileged; runc then fails if any is missing."""
    return bool(missing) and major(version) < 23
