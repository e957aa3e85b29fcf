"""``kube-harness host prepare``: make a Debian-family host able to run clusters. Idempotent.

Installs what is missing (Docker engine, mmdebstrap, gcc), starts the engine when none answers,
registers the capability-filtering runc wrapper as Docker's default runtime where the bounding set
lacks capabilities that Docker < 23 asks for, and builds kind and kubectl. A host whose Docker
already works is left as it is.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from importlib import resources
from pathlib import Path

from harness.errors import HostError
from harness.exec import Cmd
from harness.host import caps, docker
from harness.images import tools
from harness.progress import Progress
from harness.wait import wait_for

PACKAGES = {  # command -> Debian package
    "dockerd": "docker.io", "mmdebstrap": "mmdebstrap", "gcc": "gcc", "unshare": "util-linux",
    "ip": "iproute2", "iptables": "iptables", "nft": "nftables",
}  # fmt: skip
STATIC_LIBC = Path("/usr/lib/x86_64-linux-gnu/libc.a")
DAEMON_JSON = Path("/etc/docker/daemon.json")
SYSCTLS = {"fs.inotify.max_user_instances": 8192, "fs.inotify.max_user_watches": 524288}
DOCKERD_LOG = Path("/var/log/kube-harness-dockerd.log")


def require_root_debian() -> None:
    if os.geteuid() != 0:
        raise HostError("host prepare needs root (it installs packages and starts Docker)", fix="run it with sudo")
    if not Path("/etc/debian_version").exists():
        raise HostError("host prepare supports Debian-family hosts only",
                        fix="install Docker, mmdebstrap and gcc yourself, then run `kube-harness doctor`")  # fmt: skip


def missing_packages() -> list[str]:
    pkgs = sorted({pkg for cmd, pkg in PACKAGES.items() if not shutil.which(cmd)})
    if not STATIC_LIBC.exists():
        pkgs.append("libc6-dev")
    return pkgs


def install_packages(pkgs: list[str], progress: Progress) -> None:
    if not pkgs:
        progress.say("ok  packages: all present")
        return
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    with progress.step(f"apt-get install {' '.join(pkgs)}", "apt") as log:
        Cmd(["apt-get", "update"], env=env, timeout=900).run(log=log)
        Cmd(["apt-get", "install", "-y", "--no-install-recommends", *pkgs], env=env, timeout=1800).run(log=log)


def install_shim() -> bool:
    """Install the runc wrapper and make it Docker's default runtime; True if daemon.json changed."""
    text = (resources.files("harness.host") / "runc_shim.py").read_text()
    python = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else shutil.which("python3")
    shim = Path(docker.SHIM_PATH)
    shim.write_text(text.replace("#!/usr/bin/env python3", f"#!{python}", 1))
    shim.chmod(0o755)
    config = json.loads(DAEMON_JSON.read_text()) if DAEMON_JSON.exists() else {}
    wanted = {**config, "runtimes": {**config.get("runtimes", {}), docker.RUNTIME_NAME: {"path": str(shim)}},
              "default-runtime": docker.RUNTIME_NAME}  # fmt: skip
    if wanted == config:
        return False
    DAEMON_JSON.parent.mkdir(parents=True, exist_ok=True)
    DAEMON_JSON.write_text(json.dumps(wanted, indent=2) + "\n")
    return True


def start_dockerd(progress: Progress) -> None:
    with progress.step("start the Docker engine", "dockerd"):
        if Path("/run/systemd/system").exists():
            Cmd(["systemctl", "enable", "--now", "docker"], timeout=120).run()
        else:
            DOCKERD_LOG.parent.mkdir(parents=True, exist_ok=True)
            with DOCKERD_LOG.open("a") as log:
                subprocess.Popen(["dockerd"], stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
        wait_for(docker.server_version, timeout=60, interval=0.5, describe=f"dockerd to answer (log: {DOCKERD_LOG})")


def reload_dockerd() -> None:
    """Docker re-reads runtimes and default-runtime on SIGHUP."""
    pids = Cmd(["pidof", "dockerd"]).run(check=False).stdout.split()
    for pid in pids:
        os.kill(int(pid), 1)
    time.sleep(1)


def raise_sysctls(progress: Progress) -> None:
    """Every node runs systemd, containerd and kubelet, each holding inotify instances: the host's
    defaults (128 instances) run out with a few nodes ("too many open files" in kube-proxy)."""
    for key, want in SYSCTLS.items():
        path = Path("/proc/sys") / key.replace(".", "/")
        have = int(path.read_text().split()[0])
        if have < want:
            path.write_text(str(want))
            progress.say(f"ok  sysctl {key}: {have} -> {want}")


def prepare(progress: Progress | None = None, build_tools: bool = True) -> None:
    progress = progress or Progress()
    require_root_debian()
    install_packages(missing_packages(), progress)
    raise_sysctls(progress)
    running = docker.server_version()
    missing = caps.missing_caps(caps.bounding_mask(), caps.last_cap())
    if missing and docker.needs_cap_shim(running or docker.installed_version(), missing):
        changed = install_shim()
        progress.say(f"ok  runtime {docker.RUNTIME_NAME} filters {', '.join(missing)} ({docker.SHIM_PATH})")
        if running and changed:
            reload_dockerd()
    if running:
        progress.say(f"ok  Docker engine {running} answers")
    else:
        start_dockerd(progress)
    if build_tools:
        tools.ensure_kind(progress)
        tools.ensure_kubectl(progress)
