"""``kube-harness host restore``: undo the Docker changes of ``host prepare``.

Puts daemon.json back byte for byte as it was before the first prepare (from
prepare.DAEMON_JSON_BACKUP), or removes it when it did not exist, removes the runc shim, and
reloads dockerd (SIGHUP) if it runs and daemon.json changed. A daemon.json that was changed after prepare wrote it is
kept aside at DAEMON_JSON_REPLACED first. Packages prepare installed, a dockerd it started and
sysctls it raised stay as they are: restore lists them.

Paths are read from harness.host.prepare (and harness.host.docker for the shim) at call time, so
tests monkeypatch them there.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from harness.errors import HostError
from harness.exec import Cmd
from harness.host import docker, prepare
from harness.progress import Progress

DAEMON_JSON_REPLACED = Path("/etc/docker/daemon.json.kube-harness-replaced")  # edits made after prepare


def mentions_shim(config: dict[str, Any]) -> bool:
    return config.get("default-runtime") == docker.RUNTIME_NAME or docker.RUNTIME_NAME in config.get("runtimes", {})


def containers_on_shim() -> list[str]:
    """Containers (in any state) Docker runs with the shim's runtime; [] when no engine answers.

    Without the shim Docker can no longer start them, and exec or stop may fail."""
    if not docker.cli():
        return []
    ids = Cmd(["docker", "ps", "-aq"], timeout=30).run(check=False).stdout.split()
    if not ids:
        return []
    fmt = "{{.Name}} {{.HostConfig.Runtime}}"
    out = Cmd(["docker", "inspect", "--format", fmt, *ids], timeout=60).run(check=False).stdout
    rows = (line.split() for line in out.splitlines())
    return [row[0].lstrip("/") for row in rows if len(row) == 2 and row[1] == docker.RUNTIME_NAME]


def check_containers(force: bool, progress: Progress) -> None:
    names = containers_on_shim()
    if not names:
        return
    listed = f"{len(names)} container(s) use runtime {docker.RUNTIME_NAME}: {', '.join(names)}"
    if not force:
        raise HostError(listed, fix="delete them first while the shim is still there (`kube-harness delete CLUSTER`, "
                                    "`docker rm -f NAME`), or rerun with --force")  # fmt: skip
    progress.say(f"!!  --force: {listed}; Docker can no longer start them, and exec or stop may fail")


def keep_later_edits(state: prepare.State, progress: Progress) -> None:
    """A daemon.json edited since prepare wrote it is copied to DAEMON_JSON_REPLACED before it goes."""
    if not prepare.DAEMON_JSON.exists():
        return
    current = prepare.DAEMON_JSON.read_bytes()
    backup = prepare.DAEMON_JSON_BACKUP
    if hashlib.sha256(current).hexdigest() == state.get("daemon_json_written_sha256"):
        return
    if state.get("daemon_json_existed") and backup.exists() and backup.read_bytes() == current:
        return
    prepare.write_atomic(DAEMON_JSON_REPLACED, current)
    progress.say(f"!!  {prepare.DAEMON_JSON} changed after host prepare wrote it: that version is kept at "
                 f"{DAEMON_JSON_REPLACED}")  # fmt: skip


def put_back_daemon_json(state: prepare.State, progress: Progress) -> bool:
    """daemon.json as before the first prepare (or gone if there was none); True if it changed."""
    path, backup = prepare.DAEMON_JSON, prepare.DAEMON_JSON_BACKUP
    keep_later_edits(state, progress)
    if not state["daemon_json_existed"]:
        if not path.exists():
            return False
        path.unlink()
        progress.say(f"ok  {path}: removed (it did not exist before host prepare)")
        return True
    if not backup.exists():
        raise HostError(f"{backup} is missing: cannot put {path} back as it was before host prepare",
                        fix=f"edit {path} by hand (default-runtime {state.get('previous_default_runtime') or 'unset'}, "
                            f"no runtime {docker.RUNTIME_NAME}), then remove {prepare.STATE_FILE}")  # fmt: skip
    original = backup.read_bytes()
    if path.exists() and path.read_bytes() == original:
        progress.say(f"ok  {path}: already as before host prepare")
        return False
    prepare.write_atomic(path, original, mode=backup.stat().st_mode & 0o7777)
    previous = state.get("previous_default_runtime") or "unset (Docker's runc)"
    progress.say(f"ok  {path}: restored from {backup} (default-runtime {previous})")
    return True


def strip_shim_runtime(progress: Progress) -> bool:
    """An older prepare, which kept no backup, put the shim in: take the shim's runtime out of daemon.json."""
    config = prepare.read_daemon_json()
    if config.get("default-runtime") == docker.RUNTIME_NAME:
        del config["default-runtime"]
    runtimes = {k: v for k, v in config.pop("runtimes", {}).items() if k != docker.RUNTIME_NAME}
    if runtimes:
        config["runtimes"] = runtimes
    prepare.write_atomic(prepare.DAEMON_JSON, json.dumps(config, indent=2) + "\n")
    progress.say(f"ok  {prepare.DAEMON_JSON}: runtime {docker.RUNTIME_NAME} and default-runtime removed "
                 "(no backup: an older host prepare changed it; Docker's default runc applies)")  # fmt: skip
    return True


def undo_daemon_json(state: prepare.State, progress: Progress) -> bool:
    """daemon.json back to before prepare, and never naming the shim restore removes; True if it changed."""
    recorded = "daemon_json_existed" in state
    changed = put_back_daemon_json(state, progress) if recorded else False
    if mentions_shim(prepare.read_daemon_json()):  # also in a backup of what an older prepare wrote
        return strip_shim_runtime(progress) or changed
    if not recorded:
        progress.say(f"ok  {prepare.DAEMON_JSON}: does not name {docker.RUNTIME_NAME}, left as it is")
    return changed


def remove_shim(progress: Progress) -> None:
    shim = Path(docker.SHIM_PATH)
    if shim.exists():
        shim.unlink()
        progress.say(f"ok  {shim}: removed")


def forget(state: prepare.State, progress: Progress) -> None:
    """Drop the backup and the record (daemon.json is back), and list what restore leaves alone."""
    for path in (prepare.DAEMON_JSON_BACKUP, prepare.STATE_FILE):
        if path.exists():
            path.unlink()
            progress.say(f"ok  {path}: removed")
    if state.get("packages_installed"):
        pkgs = " ".join(state["packages_installed"])
        progress.say(f"ok  left installed: {pkgs} (host prepare installed them; `apt-get remove {pkgs}` if unwanted)")
    for key, change in state.get("sysctls", {}).items():
        progress.say(f"ok  left as is: sysctl {key} {change['from']} -> {change['to']} (back at reboot)")
    if state.get("dockerd_started"):
        progress.say("ok  left running: dockerd (host prepare started it)")


def restore(progress: Progress | None = None, force: bool = False) -> bool:
    """Undo what ``host prepare`` changed in Docker's setup; False when there was nothing to undo."""
    progress = progress or Progress()
    state = prepare.load_state()
    if not state and not Path(docker.SHIM_PATH).exists() and not mentions_shim(prepare.read_daemon_json()):
        progress.say(f"ok  nothing to restore: no record at {prepare.STATE_FILE}, no shim at {docker.SHIM_PATH}, "
                     f"{prepare.DAEMON_JSON} does not name {docker.RUNTIME_NAME}")  # fmt: skip
        return False
    if os.geteuid() != 0:
        raise HostError("host restore needs root (it edits /etc/docker and signals dockerd)", fix="run it with sudo")
    check_containers(force, progress)
    if undo_daemon_json(state, progress) and prepare.reload_dockerd():
        progress.say("ok  dockerd reloaded (SIGHUP): it runs with the restored daemon.json")
    remove_shim(progress)
    forget(state, progress)
    return True
