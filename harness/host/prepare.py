"""``kube-harness host prepare``: make a Debian-family host able to run clusters. Idempotent.

Installs what is missing (Docker engine, mmdebstrap, gcc), starts the engine when none answers,
registers the capability-filtering runc wrapper as Docker's default runtime where the bounding set
lacks capabilities that Docker < 23 asks for, and builds kind and kubectl. A host whose Docker
already works is left as it is.

Every change is printed. Before its first change to daemon.json, prepare copies the file to
DAEMON_JSON_BACKUP (or records that it did not exist); what it changed goes to STATE_FILE, which
``kube-harness host restore`` (harness.host.restore) reads to undo the Docker changes.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from importlib import resources
from pathlib import Path
from typing import Any

from harness.errors import HostError
from harness.exec import Cmd
from harness.host import caps, docker
from harness.images import tools
from harness.progress import Progress
from harness.wait import wait_for

PACKAGES = {  # command -> Debian package
    "dockerd": "docker.io", "mmdebstrap": "mmdebstrap", "gcc": "gcc", "unshare": "util-linux",
    "ip": "iproute2", "iptables": "iptables", "nft": "nftables", "make": "make", "bzip2": "bzip2",
}  # fmt: skip
STATIC_LIBC = Path("/usr/lib/x86_64-linux-gnu/libc.a")
DAEMON_JSON = Path("/etc/docker/daemon.json")
DAEMON_JSON_BACKUP = Path("/etc/docker/daemon.json.kube-harness-backup")  # daemon.json before the first prepare
STATE_FILE = Path("/etc/docker/kube-harness-prepare.json")  # what prepare changed, for `host restore`
PROC_SYS = Path("/proc/sys")
SYSCTLS = {"fs.inotify.max_user_instances": 8192, "fs.inotify.max_user_watches": 524288}
DOCKERD_LOG = Path("/var/log/kube-harness-dockerd.log")
# Where runc is when Docker's default runtime is used: PATH first (what dockerd does), then the
# places Debian's docker.io (/usr/sbin), docker-ce's containerd.io (/usr/bin) and manual installs put it.
RUNC_CANDIDATES = ("/usr/sbin/runc", "/usr/bin/runc", "/usr/local/bin/runc", "/usr/local/sbin/runc")
SHIM_DEFAULT_LINE = 'DEFAULT_RUNC = "/usr/sbin/runc"'  # in runc_shim.py; the installed copy names the runtime found

State = dict[str, Any]


def require_root_debian() -> None:
    if os.geteuid() != 0:
        raise HostError("host prepare needs root (it installs packages and starts Docker)", fix="run it with sudo")
    if not Path("/etc/debian_version").exists():
        raise HostError("host prepare supports Debian-family hosts only",
                        fix="install Docker, mmdebstrap and gcc yourself, then run `kube-harness doctor`")  # fmt: skip


def write_atomic(path: Path, data: str | bytes, mode: int | None = None) -> None:
    """Replace ``path`` in one step (dockerd or a running shim never read half a file); keeps its mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_bytes(data.encode() if isinstance(data, str) else data)
    if mode is not None:
        tmp.chmod(mode)
    elif path.exists():
        shutil.copymode(path, tmp)
    os.replace(tmp, path)


def load_state() -> State:
    """What earlier prepares changed (STATE_FILE), or {} when none recorded anything."""
    if not STATE_FILE.exists():
        return {}
    try:
        state = json.loads(STATE_FILE.read_text())
    except ValueError as exc:
        raise HostError(f"{STATE_FILE} is not valid JSON ({exc})", fix=f"fix or remove {STATE_FILE}") from exc
    return state if isinstance(state, dict) else {}


def save_state(state: State) -> None:
    write_atomic(STATE_FILE, json.dumps(state, indent=2, sort_keys=True) + "\n")


def read_daemon_json() -> dict[str, Any]:
    text = DAEMON_JSON.read_text() if DAEMON_JSON.exists() else ""
    fix = "fix it (dockerd refuses it too), then rerun"
    try:
        config = json.loads(text) if text.strip() else {}
    except ValueError as exc:
        raise HostError(f"{DAEMON_JSON} is not valid JSON ({exc})", fix=fix) from exc
    if not isinstance(config, dict):
        raise HostError(f"{DAEMON_JSON} is not a JSON object", fix=fix)
    return config


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


def _executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK) and path != docker.SHIM_PATH


def find_runc() -> str:
    """runc where the installed Docker finds it: on PATH, else where Docker packages install it."""
    on_path = shutil.which("runc")
    for path in [*([os.path.abspath(on_path)] if on_path else []), *RUNC_CANDIDATES]:
        if _executable(path):
            return path
    raise HostError(f"no runc found: not on PATH, not at {', '.join(RUNC_CANDIDATES)}",
                    fix="install runc (`apt-get install runc`; docker-ce ships it in containerd.io), or name "
                        f"an OCI runtime with its path as default-runtime in {DAEMON_JSON}")  # fmt: skip


def previous_runtime(config: dict[str, Any], state: State) -> str | None:
    """The user's default-runtime: daemon.json's, or the one recorded before prepare replaced it."""
    name = config.get("default-runtime")
    if name == docker.RUNTIME_NAME:
        name = state.get("previous_default_runtime")
    return None if name == docker.RUNTIME_NAME else name


def real_runtime(config: dict[str, Any], state: State, progress: Progress) -> tuple[str, list[str]]:
    """The OCI runtime binary the shim execs and its runtimeArgs: the user's default-runtime, else runc."""
    name = previous_runtime(config, state)
    entry = config.get("runtimes", {}).get(name, {}) if name else {}
    path = entry.get("path")
    if not path:
        if name and name != "runc":
            progress.say(f"!!  default-runtime {name} has no path in {DAEMON_JSON}: the shim wraps runc instead")
        return find_runc(), []
    found = path if os.path.isabs(path) else shutil.which(path)
    if not found or not _executable(found):
        fix = f"fix runtimes.{name}.path in {DAEMON_JSON} or drop default-runtime, then rerun"
        raise HostError(f"default-runtime {name} in {DAEMON_JSON} has path {path}, which is no executable", fix=fix)
    return found, list(entry.get("runtimeArgs", []))


def shim_text(real: str) -> str:
    """The shim as installed: the system Python in its shebang, ``real`` as the runtime it execs."""
    text = (resources.files("harness.host") / "runc_shim.py").read_text()
    if text.count(SHIM_DEFAULT_LINE) != 1:
        raise HostError(f"runc_shim.py has no line {SHIM_DEFAULT_LINE!r} to rewrite", fix="reinstall kube-harness")
    python = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else shutil.which("python3") or sys.executable
    text = text.replace("#!/usr/bin/env python3", f"#!{python}", 1)
    return text.replace(SHIM_DEFAULT_LINE, f"DEFAULT_RUNC = {json.dumps(real)}", 1)


def write_shim(real: str, missing: list[str], progress: Progress) -> None:
    shim = Path(docker.SHIM_PATH)
    text = shim_text(real)
    what = f"runtime {docker.RUNTIME_NAME} ({shim}) filters {', '.join(missing)}, then execs {real}"
    if shim.exists() and shim.read_text() == text:
        progress.say(f"ok  {what}: up to date")
        return
    write_atomic(shim, text, mode=0o755)
    progress.say(f"ok  {what}: installed")


def shim_config(config: dict[str, Any], runtime_args: list[str]) -> dict[str, Any]:
    """``config`` with the shim as default runtime; every other key kept, in place."""
    entry: dict[str, Any] = {"path": docker.SHIM_PATH}
    if runtime_args:
        entry["runtimeArgs"] = runtime_args
    runtimes = {**config.get("runtimes", {}), docker.RUNTIME_NAME: entry}
    return {**config, "runtimes": runtimes, "default-runtime": docker.RUNTIME_NAME}


def back_up_daemon_json(state: State) -> str:
    """Before the first change: copy daemon.json aside, or note it did not exist. Later prepares keep that."""
    if "daemon_json_existed" not in state:
        existed = DAEMON_JSON.exists()
        if existed and not DAEMON_JSON_BACKUP.exists():
            shutil.copy2(DAEMON_JSON, DAEMON_JSON_BACKUP)
        previous = read_daemon_json().get("default-runtime")
        state["daemon_json_existed"] = existed
        state["previous_default_runtime"] = None if previous == docker.RUNTIME_NAME else previous
        save_state(state)
    return f"backup {DAEMON_JSON_BACKUP}" if state["daemon_json_existed"] else f"{DAEMON_JSON} did not exist before"


def install_shim(state: State, missing: list[str], progress: Progress) -> bool:
    """Install the runc wrapper and make it Docker's default runtime; True if daemon.json changed."""
    config = read_daemon_json()
    real, runtime_args = real_runtime(config, state, progress)
    write_shim(real, missing, progress)
    state["wrapped_runtime"] = real
    wanted = shim_config(config, runtime_args)
    if wanted == config:
        progress.say(f"ok  daemon.json: default-runtime is {docker.RUNTIME_NAME} already")
        return False
    backup = back_up_daemon_json(state)
    text = json.dumps(wanted, indent=2) + "\n"
    write_atomic(DAEMON_JSON, text)
    state["daemon_json_written_sha256"] = hashlib.sha256(text.encode()).hexdigest()
    save_state(state)
    before = config.get("default-runtime", "runc")
    change = f"default-runtime {before} -> {docker.RUNTIME_NAME}"
    progress.say(f"ok  daemon.json: {'runtime entry updated' if before == docker.RUNTIME_NAME else change} ({backup})")
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


def reload_dockerd() -> bool:
    """Docker re-reads runtimes and default-runtime on SIGHUP; False when no dockerd runs."""
    pids = Cmd(["pidof", "dockerd"]).run(check=False).stdout.split()
    for pid in pids:
        os.kill(int(pid), signal.SIGHUP)
    if pids:
        time.sleep(1)
    return bool(pids)


def raise_sysctls(progress: Progress) -> dict[str, dict[str, int]]:
    """Every node runs systemd, containerd and kubelet, each holding inotify instances: the host's
    defaults (128 instances) run out with a few nodes ("too many open files" in kube-proxy).
    Returns what was raised, ``{key: {"from": old, "to": new}}``."""
    raised: dict[str, dict[str, int]] = {}
    for key, want in SYSCTLS.items():
        path = PROC_SYS / key.replace(".", "/")
        have = int(path.read_text().split()[0])
        if have < want:
            path.write_text(str(want))
            progress.say(f"ok  sysctl {key}: {have} -> {want} (until reboot)")
            raised[key] = {"from": have, "to": want}
    return raised


def set_up_runtime(state: State, running: str | None, progress: Progress) -> None:
    """The capability shim, where Docker < 23 would ask for capabilities the bounding set lacks."""
    missing = caps.missing_caps(caps.bounding_mask(), caps.last_cap())
    if not (missing and docker.needs_cap_shim(running or docker.installed_version(), missing)):
        return
    if install_shim(state, missing, progress) and running and reload_dockerd():
        progress.say(f"ok  dockerd reloaded (SIGHUP): new containers run with {docker.RUNTIME_NAME}")


def change_host(state: State, progress: Progress) -> None:
    pkgs = missing_packages()
    install_packages(pkgs, progress)
    if pkgs:
        state["packages_installed"] = sorted({*state.get("packages_installed", []), *pkgs})
    raised = raise_sysctls(progress)
    if raised:
        state["sysctls"] = {**raised, **state.get("sysctls", {})}  # the first prepare's "from" stays
    running = docker.server_version()
    set_up_runtime(state, running, progress)
    if running:
        progress.say(f"ok  Docker engine {running} answers")
    else:
        start_dockerd(progress)
        state["dockerd_started"] = True


def prepare(progress: Progress | None = None, build_tools: bool = True, with_vms: bool = False) -> None:
    progress = progress or Progress()
    require_root_debian()
    state = load_state()
    before = copy.deepcopy(state)
    try:
        change_host(state, progress)
        if with_vms:  # Vagrant, libvirt, QEMU (harness.host.vms)
            from harness.host import vms

            vms.prepare_vms(state, progress)
    finally:  # also what a failed prepare changed
        if state != before:
            save_state(state)
    if state != before:
        progress.say(f"ok  changes recorded in {STATE_FILE} (`kube-harness host restore` undoes the Docker ones)")
    if build_tools:
        tools.ensure_kind(progress)
        tools.ensure_kubectl(progress)
