"""harness.host.runc_shim: which spec a runc call uses and how its capabilities are trimmed."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from harness.host import runc_shim
from harness.host.runc_shim import filter_caps, patch, spec_file

pytestmark = pytest.mark.unit

ALLOWED = {"CAP_CHOWN", "CAP_NET_ADMIN", "CAP_SYS_ADMIN"}
ALL_REQUESTED = ["CAP_CHOWN", "CAP_NET_ADMIN", "CAP_SYS_ADMIN", "CAP_SYS_RESOURCE"]


def process() -> dict[str, object]:
    return {
        "args": ["/sbin/init"],
        "capabilities": {
            "bounding": list(ALL_REQUESTED),
            "effective": list(ALL_REQUESTED),
            "permitted": list(ALL_REQUESTED),
            "inheritable": ["CAP_CHOWN"],
        },
    }


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ("--root x create --bundle /b id", ("/b/config.json", "process")),
        ("--root x create -b /b id", ("/b/config.json", "process")),
        ("create --bundle=/b id", ("/b/config.json", "process")),
        ("--log /l.json run -b /run/b --detach id", ("/run/b/config.json", "process")),
        ("exec --process /p.json id", ("/p.json", "")),
        ("--root x exec -p /p.json --detach id", ("/p.json", "")),
        ("exec -t id sh", (None, "")),
        ("state id", (None, "")),
        ("--root x delete --force id", (None, "")),
        ("", (None, "")),
    ],
)
def test_spec_file(argv: str, expected: tuple[str | None, str]) -> None:
    assert spec_file(argv.split()) == expected


def test_spec_file_create_without_bundle_uses_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert spec_file(["create", "id"]) == (str(tmp_path / "config.json"), "process")


def test_filter_caps_removes_what_is_not_allowed() -> None:
    proc = process()
    assert filter_caps(proc, ALLOWED) is True
    caps = proc["capabilities"]
    assert caps == {  # order kept, only the missing one gone
        "bounding": ["CAP_CHOWN", "CAP_NET_ADMIN", "CAP_SYS_ADMIN"],
        "effective": ["CAP_CHOWN", "CAP_NET_ADMIN", "CAP_SYS_ADMIN"],
        "permitted": ["CAP_CHOWN", "CAP_NET_ADMIN", "CAP_SYS_ADMIN"],
        "inheritable": ["CAP_CHOWN"],
    }


def test_filter_caps_reports_no_change() -> None:
    proc = process()
    assert filter_caps(proc, set(ALL_REQUESTED)) is False
    assert proc == process()
    assert filter_caps({"args": ["sh"]}, ALLOWED) is False
    assert filter_caps({"capabilities": None}, ALLOWED) is False


def test_patch_bundle_config(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"ociVersion": "1.0.2", "process": process(), "root": {"path": "rootfs"}}))
    patch(str(config), "process", ALLOWED)
    doc = json.loads(config.read_text())
    assert doc["process"]["capabilities"]["bounding"] == ["CAP_CHOWN", "CAP_NET_ADMIN", "CAP_SYS_ADMIN"]
    assert doc["root"] == {"path": "rootfs"} and doc["process"]["args"] == ["/sbin/init"]


def test_patch_exec_process_file(tmp_path: Path) -> None:
    spec = tmp_path / "process.json"
    spec.write_text(json.dumps(process()))
    patch(str(spec), "", ALLOWED)
    assert "CAP_SYS_RESOURCE" not in spec.read_text()


def test_patch_leaves_an_unchanged_file_untouched(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    original = json.dumps({"process": process()}, indent=4)
    config.write_text(original)
    patch(str(config), "process", set(ALL_REQUESTED))
    assert config.read_text() == original


def test_bounding_set_reads_capbnd(monkeypatch: pytest.MonkeyPatch) -> None:
    status = "Name:\trunc\nCapBnd:\t000001fffeffffff\n"
    monkeypatch.setattr(runc_shim, "open", lambda *a, **k: io.StringIO(status), raising=False)
    allowed = runc_shim.bounding_set()
    assert "CAP_SYS_RESOURCE" not in allowed
    assert len(allowed) == len(runc_shim.CAP_NAMES) - 1


class Exec(Exception):
    """Stands in for os.execv, which never returns."""


@pytest.fixture
def fake_exec(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    calls: list[list[str]] = []

    def execv(path: str, argv: list[str]) -> None:
        calls.append([path, *argv])
        raise Exec

    monkeypatch.setattr(runc_shim.os, "execv", execv)
    monkeypatch.setattr(runc_shim, "bounding_set", lambda: ALLOWED)
    return calls


def run_main(monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> None:
    monkeypatch.setattr(runc_shim.sys, "argv", ["runc", *argv])
    with pytest.raises(Exec):
        runc_shim.main()


def test_main_patches_then_execs_real_runc(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_exec: list[list[str]]
) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"process": process()}))
    argv = ["--root", "/run/docker/runtime-runc/moby", "create", "--bundle", str(tmp_path), "cid"]
    run_main(monkeypatch, argv)
    assert fake_exec == [[runc_shim.REAL_RUNC, runc_shim.REAL_RUNC, *argv]]
    assert "CAP_SYS_RESOURCE" not in (tmp_path / "config.json").read_text()


def test_main_never_blocks_on_a_bad_spec(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_exec: list[list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "p.json").write_text("{not json")
    run_main(monkeypatch, ["exec", "--process", str(tmp_path / "p.json"), "cid"])
    assert len(fake_exec) == 1
    assert "could not patch" in capsys.readouterr().err


def test_main_passes_other_calls_through(monkeypatch: pytest.MonkeyPatch, fake_exec: list[list[str]]) -> None:
    run_main(monkeypatch, ["state", "cid"])
    assert fake_exec == [[runc_shim.REAL_RUNC, runc_shim.REAL_RUNC, "state", "cid"]]
