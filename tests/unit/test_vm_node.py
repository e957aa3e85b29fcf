"""harness.providers.vms.node.VMNode: the ssh/scp argv it builds for files (nothing is run)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.providers.vms.node import VMNode
from tests.unit.conftest import Recorder

pytestmark = pytest.mark.unit


def vm() -> VMNode:
    meta = {"host": "192.168.121.9", "port": "2222", "user": "vagrant", "key": "/k/id", "control_dir": "/c"}
    return VMNode("demo-worker", "worker", meta)


def test_copy_to_sends_any_file_by_scp_then_moves_it_as_root(recorder: Recorder, tmp_path: Path) -> None:
    archive = tmp_path / "images.tar"
    archive.write_bytes(b"oci-layout\x00\x8b\xff")  # binary: it once went through str and failed
    vm().copy_to(archive, "/var/lib/kh/images.tar")
    scp, move = recorder.cmds
    assert scp.argv[0] == "scp" and scp.argv[scp.argv.index("-P") + 1] == "2222" and str(archive) in scp.argv
    staging = scp.argv[-1].removeprefix("vagrant@192.168.121.9:")
    assert staging.startswith("/tmp/kh-copy-") and scp.input is None
    assert move.argv[0] == "ssh" and f"mv -f {staging} /var/lib/kh/images.tar" in move.argv[-1]
    assert move.argv[-1].startswith("sudo -n -- ")


def test_copy_from_stages_a_readable_copy_and_removes_it(recorder: Recorder, tmp_path: Path) -> None:
    vm().copy_from("/var/log/x", tmp_path / "x")
    stage, scp, cleanup = recorder.cmds
    assert "cp /var/log/x /tmp/kh-copy-" in stage.argv[-1] and "chown vagrant" in stage.argv[-1]
    assert scp.argv[0] == "scp" and scp.argv[-2].startswith("vagrant@192.168.121.9:/tmp/kh-copy-")
    assert scp.argv[-1] == str(tmp_path / "x") and "rm -f /tmp/kh-copy-" in cleanup.argv[-1]
