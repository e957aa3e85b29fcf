"""harness.host.prepare/restore: which runtime the shim wraps, the daemon.json backup, the record of
changes and `host restore`. Every path is a tmp path; nothing touches /etc/docker or dockerd."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli.main import cli
from harness.errors import HostError
from harness.exec import Result
from harness.host import caps, docker, prepare, restore
from harness.progress import Progress

pytestmark = pytest.mark.unit

CUSTOM = '{"runtimes": {"crun": {"path": "CRUN"}}, "default-runtime": "crun", "log-level": "warn"}\n'
MISSING = ["CAP_SYS_RESOURCE"]


class Host:
    """The tmp stand-ins for /etc/docker, the shim and the runc locations."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.etc = root / "etc" / "docker"
        self.daemon_json = self.etc / "daemon.json"
        self.backup = self.etc / "daemon.json.kube-harness-backup"
        self.state_file = self.etc / "kube-harness-prepare.json"
        self.replaced = self.etc / "daemon.json.kube-harness-replaced"
        self.shim = root / "usr" / "local" / "bin" / "kube-harness-runc"
        self.candidates = tuple(str(root / c.lstrip("/")) for c in prepare.RUNC_CANDIDATES)
        self.reloads: list[str] = []

    def executable(self, path: str) -> str:
        full = self.root / path.lstrip("/")
        full.parent.mkdir(parents=True, exist_ok=True)
        full.write_text('#!/bin/sh\necho "$0 $*"\n')
        full.chmod(0o755)
        return str(full)

    def custom_config(self) -> bytes:
        """The user's daemon.json with crun as default runtime, in their own formatting."""
        crun = self.executable("/usr/bin/crun")
        text = CUSTOM.replace("CRUN", crun)
        self.etc.mkdir(parents=True, exist_ok=True)
        self.daemon_json.write_text(text)
        self.daemon_json.chmod(0o600)
        return text.encode()

    def config(self) -> dict[str, object]:
        return dict(json.loads(self.daemon_json.read_text()))

    def state(self) -> dict[str, object]:
        return dict(json.loads(self.state_file.read_text()))


@pytest.fixture
def host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forbid: Callable[[object, str], None]) -> Host:
    h = Host(tmp_path)
    monkeypatch.setattr(prepare, "DAEMON_JSON", h.daemon_json)
    monkeypatch.setattr(prepare, "DAEMON_JSON_BACKUP", h.backup)
    monkeypatch.setattr(prepare, "STATE_FILE", h.state_file)
    monkeypatch.setattr(restore, "DAEMON_JSON_REPLACED", h.replaced)
    monkeypatch.setattr(docker, "SHIM_PATH", str(h.shim))
    monkeypatch.setattr(prepare, "RUNC_CANDIDATES", h.candidates)
    monkeypatch.setattr(prepare, "PROC_SYS", tmp_path / "proc" / "sys")
    monkeypatch.setenv("PATH", str(tmp_path / "path"))
    monkeypatch.setattr(restore, "containers_on_shim", list)
    monkeypatch.setattr(prepare, "reload_dockerd", lambda: h.reloads.append("SIGHUP") or True)
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    forbid(prepare, "Cmd")
    forbid(restore, "Cmd")
    return h


def progress() -> Progress:
    return Progress(tick=3600)


def install(h: Host, state: dict[str, object] | None = None) -> bool:
    return prepare.install_shim(prepare.load_state() if state is None else state, MISSING, progress())


# --- which runtime the shim execs -------------------------------------------------------------


@pytest.mark.parametrize("index", range(4), ids=["usr-sbin", "usr-bin", "usr-local-bin", "usr-local-sbin"])
def test_find_runc_at_each_candidate(host: Host, index: int) -> None:
    wanted = host.candidates[index]
    for later in host.candidates[index:]:
        host.executable(later.removeprefix(str(host.root)))
    assert prepare.find_runc() == wanted


def test_find_runc_prefers_path(host: Host, monkeypatch: pytest.MonkeyPatch) -> None:
    host.executable("/usr/sbin/runc")
    on_path = host.executable("/opt/runc/bin/runc")
    monkeypatch.setenv("PATH", str(Path(on_path).parent))
    assert prepare.find_runc() == on_path


def test_find_runc_skips_files_that_are_not_executable(host: Host) -> None:
    (host.root / "usr" / "sbin").mkdir(parents=True)
    (host.root / "usr" / "sbin" / "runc").write_text("not a program")
    runc = host.executable("/usr/local/sbin/runc")
    assert prepare.find_runc() == runc


def test_no_runc_is_a_host_error_with_a_fix(host: Host) -> None:
    with pytest.raises(HostError) as err:
        prepare.find_runc()
    assert "no runc found: not on PATH, not at " + host.candidates[0] in str(err.value)
    assert "apt-get install runc" in str(err.value.fix)


def test_install_without_any_runtime_fails_before_changing_anything(host: Host) -> None:
    with pytest.raises(HostError):
        install(host)
    assert not host.daemon_json.exists() and not host.shim.exists() and not host.state_file.exists()


def test_default_runtime_with_a_missing_path_is_a_host_error(host: Host) -> None:
    host.custom_config()
    (host.root / "usr" / "bin" / "crun").unlink()
    with pytest.raises(HostError, match=r"has path .*crun, which is no executable"):
        install(host)


def test_installed_shim_has_the_found_runtime_baked_in(host: Host) -> None:
    runc = host.executable("/usr/bin/runc")
    install(host)
    text = host.shim.read_text()
    assert f"DEFAULT_RUNC = {json.dumps(runc)}" in text
    assert 'os.environ.get("KUBE_HARNESS_REAL_RUNC", DEFAULT_RUNC)' in text
    assert text.startswith("#!/") and not text.startswith("#!/usr/bin/env")
    assert host.shim.stat().st_mode & 0o777 == 0o755


def test_installed_shim_execs_the_baked_runtime_and_keeps_the_env_override(host: Host) -> None:
    runc = host.executable("/usr/bin/runc")
    other = host.executable("/opt/other-runc")
    install(host)
    env = {k: v for k, v in os.environ.items() if k != "KUBE_HARNESS_REAL_RUNC"}
    run = [sys.executable, str(host.shim), "state", "cid"]
    assert subprocess.run(run, env=env, capture_output=True, text=True, check=True).stdout == f"{runc} state cid\n"
    env["KUBE_HARNESS_REAL_RUNC"] = other
    assert subprocess.run(run, env=env, capture_output=True, text=True, check=True).stdout == f"{other} state cid\n"


# --- daemon.json, backup and record -----------------------------------------------------------


def test_custom_default_runtime_is_wrapped_and_kept(host: Host, capsys: pytest.CaptureFixture[str]) -> None:
    original = host.custom_config()
    crun = str(host.root / "usr" / "bin" / "crun")
    assert install(host) is True
    assert host.config() == {
        "runtimes": {"crun": {"path": crun}, docker.RUNTIME_NAME: {"path": str(host.shim)}},
        "default-runtime": docker.RUNTIME_NAME,
        "log-level": "warn",
    }
    assert f"DEFAULT_RUNC = {json.dumps(crun)}" in host.shim.read_text()
    assert host.backup.read_bytes() == original
    assert host.backup.stat().st_mode & 0o777 == 0o600 and host.daemon_json.stat().st_mode & 0o777 == 0o600
    state = host.state()
    assert state["daemon_json_existed"] is True and state["previous_default_runtime"] == "crun"
    assert state["wrapped_runtime"] == crun
    err = capsys.readouterr().err
    assert f"ok  daemon.json: default-runtime crun -> {docker.RUNTIME_NAME} (backup {host.backup})" in err
    assert f"filters CAP_SYS_RESOURCE, then execs {crun}: installed" in err


def test_runtime_args_of_the_wrapped_runtime_are_passed_on(host: Host) -> None:
    crun = host.executable("/usr/bin/crun")
    host.etc.mkdir(parents=True)
    config = {"runtimes": {"crun": {"path": crun, "runtimeArgs": ["--debug"]}}, "default-runtime": "crun"}
    host.daemon_json.write_text(json.dumps(config))
    install(host)
    assert host.config()["runtimes"][docker.RUNTIME_NAME] == {"path": str(host.shim), "runtimeArgs": ["--debug"]}


def test_second_prepare_keeps_the_first_backup_and_the_wrapped_runtime(
    host: Host, capsys: pytest.CaptureFixture[str]
) -> None:
    original = host.custom_config()
    crun = str(host.root / "usr" / "bin" / "crun")
    host.executable("/usr/sbin/runc")  # must not replace crun: daemon.json now names the shim
    install(host)
    assert install(host) is False
    assert "default-runtime is kube-harness-runc already" in capsys.readouterr().err
    edited = {**host.config(), "debug": True}
    host.daemon_json.write_text(json.dumps(edited))
    host.shim.unlink()
    assert install(host) is False  # the shim entry is still there
    assert host.backup.read_bytes() == original
    assert host.state()["previous_default_runtime"] == "crun"
    assert f"DEFAULT_RUNC = {json.dumps(crun)}" in host.shim.read_text()


def test_no_daemon_json_is_recorded_without_a_backup(host: Host, capsys: pytest.CaptureFixture[str]) -> None:
    runc = host.executable("/usr/sbin/runc")
    assert install(host) is True
    assert not host.backup.exists()
    assert host.state()["daemon_json_existed"] is False and host.state()["previous_default_runtime"] is None
    assert host.config()["default-runtime"] == docker.RUNTIME_NAME
    assert f"DEFAULT_RUNC = {json.dumps(runc)}" in host.shim.read_text()
    assert f"default-runtime runc -> {docker.RUNTIME_NAME} ({host.daemon_json} did not exist before)" in (
        capsys.readouterr().err
    )


@pytest.fixture
def prepare_host(host: Host, monkeypatch: pytest.MonkeyPatch, forbid: Callable[[object, str], None]) -> Host:
    """prepare() on a host with an old Docker that answers and a bounding set without CAP_SYS_RESOURCE."""
    monkeypatch.setattr(prepare, "require_root_debian", lambda: None)
    monkeypatch.setattr(prepare, "missing_packages", lambda: ["gcc"])
    monkeypatch.setattr(prepare, "install_packages", lambda pkgs, progress: None)
    monkeypatch.setattr(docker, "server_version", lambda: "20.10.24+dfsg1")
    monkeypatch.setattr(caps, "bounding_mask", lambda: 0)
    monkeypatch.setattr(caps, "last_cap", lambda: 40)
    monkeypatch.setattr(caps, "missing_caps", lambda mask, last: MISSING)
    forbid(prepare, "start_dockerd")
    for key, have in (("fs/inotify/max_user_instances", "128\n"), ("fs/inotify/max_user_watches", "1048576\n")):
        (prepare.PROC_SYS / key).parent.mkdir(parents=True, exist_ok=True)
        (prepare.PROC_SYS / key).write_text(have)
    host.executable("/usr/bin/runc")
    return host


def test_prepare_records_and_prints_its_changes(prepare_host: Host, capsys: pytest.CaptureFixture[str]) -> None:
    original = prepare_host.custom_config()
    prepare.prepare(progress(), build_tools=False)
    state = prepare_host.state()
    assert state["sysctls"] == {"fs.inotify.max_user_instances": {"from": 128, "to": 8192}}
    assert state["packages_installed"] == ["gcc"]
    assert prepare_host.reloads == ["SIGHUP"]
    err = capsys.readouterr().err
    for line in ("ok  sysctl fs.inotify.max_user_instances: 128 -> 8192", "ok  daemon.json: default-runtime crun ->",
                 "ok  dockerd reloaded (SIGHUP)", f"ok  changes recorded in {prepare_host.state_file}"):  # fmt: skip
        assert line in err
    prepare.prepare(progress(), build_tools=False)  # nothing left to change: the first record stays
    assert prepare_host.state() == state and prepare_host.backup.read_bytes() == original
    assert prepare_host.reloads == ["SIGHUP"]
    assert "changes recorded" not in capsys.readouterr().err


# --- host restore -----------------------------------------------------------------------------


def test_restore_gives_back_the_original_bytes(host: Host, capsys: pytest.CaptureFixture[str]) -> None:
    original = host.custom_config()
    install(host)
    assert restore.restore(progress()) is True
    assert host.daemon_json.read_bytes() == original and host.daemon_json.stat().st_mode & 0o777 == 0o600
    assert not host.shim.exists() and not host.backup.exists() and not host.state_file.exists()
    assert host.reloads == ["SIGHUP"]
    err = capsys.readouterr().err
    assert f"ok  {host.daemon_json}: restored from {host.backup} (default-runtime crun)" in err
    assert f"ok  {host.shim}: removed" in err and "ok  dockerd reloaded (SIGHUP)" in err
    assert not host.replaced.exists()


def test_restore_removes_a_daemon_json_prepare_created(host: Host, capsys: pytest.CaptureFixture[str]) -> None:
    host.executable("/usr/sbin/runc")
    install(host)
    restore.restore(progress())
    assert not host.daemon_json.exists() and not host.shim.exists() and not host.state_file.exists()
    assert "removed (it did not exist before host prepare)" in capsys.readouterr().err


def test_restore_with_nothing_recorded_says_so_and_exits_0(host: Host) -> None:
    result = CliRunner().invoke(cli, ["host", "restore"], prog_name="kube-harness")
    assert result.exit_code == 0, result.output
    assert "nothing to restore" in result.output
    assert host.reloads == []


def test_restore_keeps_edits_made_after_prepare(host: Host) -> None:
    original = host.custom_config()
    install(host)
    edited = json.dumps({**host.config(), "debug": True}).encode()
    host.daemon_json.write_bytes(edited)
    restore.restore(progress())
    assert host.daemon_json.read_bytes() == original
    assert host.replaced.read_bytes() == edited


def test_restore_refuses_while_containers_use_the_shim(host: Host, monkeypatch: pytest.MonkeyPatch) -> None:
    original = host.custom_config()
    install(host)
    monkeypatch.setattr(restore, "containers_on_shim", lambda: ["kh-a1-control-plane"])
    with pytest.raises(HostError, match=r"1 container.*kh-a1-control-plane") as err:
        restore.restore(progress())
    assert "--force" in str(err.value.fix)
    assert host.shim.exists() and host.state_file.exists() and host.backup.read_bytes() == original
    restore.restore(progress(), force=True)
    assert host.daemon_json.read_bytes() == original and not host.shim.exists()


def test_restore_after_an_older_prepare_takes_out_only_the_shim(host: Host) -> None:
    host.etc.mkdir(parents=True)
    config = {"log-level": "warn", "runtimes": {"crun": {"path": "/usr/bin/crun"},
              docker.RUNTIME_NAME: {"path": str(host.shim)}}, "default-runtime": docker.RUNTIME_NAME}  # fmt: skip
    host.daemon_json.write_text(json.dumps(config))
    host.executable(str(host.shim).removeprefix(str(host.root)))
    restore.restore(progress())
    assert host.config() == {"log-level": "warn", "runtimes": {"crun": {"path": "/usr/bin/crun"}}}
    assert not host.shim.exists() and host.reloads == ["SIGHUP"]


def test_restore_never_leaves_daemon_json_naming_the_removed_shim(host: Host) -> None:
    """A backup taken of what an older prepare wrote still names the shim: restore takes it out too."""
    host.etc.mkdir(parents=True)
    older = {"log-level": "warn", "runtimes": {docker.RUNTIME_NAME: {"path": str(host.shim)}},
             "default-runtime": docker.RUNTIME_NAME}  # fmt: skip
    host.backup.write_text(json.dumps(older))
    host.daemon_json.write_text(json.dumps({**older, "debug": True}))
    host.state_file.write_text(json.dumps({"daemon_json_existed": True, "previous_default_runtime": None}))
    restore.restore(progress())
    assert host.config() == {"log-level": "warn"}
    assert not host.backup.exists() and host.reloads == ["SIGHUP"]


def test_restore_lists_what_it_leaves(host: Host, capsys: pytest.CaptureFixture[str]) -> None:
    host.etc.mkdir(parents=True)
    record = {"sysctls": {"fs.inotify.max_user_instances": {"from": 128, "to": 8192}}, "packages_installed": ["gcc"]}
    host.state_file.write_text(json.dumps(record))
    restore.restore(progress())
    err = capsys.readouterr().err
    assert "left as is: sysctl fs.inotify.max_user_instances 128 -> 8192" in err
    assert "left installed: gcc" in err and "does not name kube-harness-runc" in err
    assert not host.state_file.exists() and host.reloads == []


def test_restore_needs_root_when_there_is_something_to_undo(host: Host, monkeypatch: pytest.MonkeyPatch) -> None:
    host.executable("/usr/sbin/runc")
    install(host)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(HostError, match="needs root"):
        restore.restore(progress())


def test_containers_on_shim_reads_each_containers_runtime(monkeypatch: pytest.MonkeyPatch) -> None:
    outputs = {"ps": "aaa\nbbb\n", "inspect": f"/kh-a1-control-plane {docker.RUNTIME_NAME}\n/other runc\n"}

    class FakeCmd:
        def __init__(self, argv: list[str], **kwargs: object) -> None:
            self.argv = argv

        def run(self, check: bool = True) -> Result:
            return Result(self.argv, 0, outputs[self.argv[1]], "", 0.0)

    monkeypatch.setattr(restore, "Cmd", FakeCmd)
    monkeypatch.setattr(docker, "cli", lambda: "/usr/bin/docker")
    assert restore.containers_on_shim() == ["kh-a1-control-plane"]
