"""harness.reporting.record: run ids, where a run's files go, and the JSON round trip."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from harness.paths import reports_root
from harness.reporting import record as record_mod
from harness.reporting.record import (
    FAILED,
    INTERRUPTED,
    OK,
    RUNNING,
    SKIPPED,
    TIMEOUT,
    PhaseRecord,
    RunRecord,
    new_run_id,
)

pytestmark = pytest.mark.unit

RUN_ID = re.compile(r"^(\d{8}-\d{6})-([0-9a-f]{6})$")


def test_status_values_are_the_strings_the_reports_use() -> None:
    assert (OK, FAILED, SKIPPED, TIMEOUT, INTERRUPTED, RUNNING) == (
        "ok",
        "failed",
        "skipped",
        "timeout",
        "interrupted",
        "running",
    )


def test_new_run_id_is_a_timestamp_plus_random_suffix() -> None:
    run_id = new_run_id()
    match = RUN_ID.match(run_id)
    assert match, run_id
    time.strptime(match.group(1), "%Y%m%d-%H%M%S")  # a real date and time


def test_new_run_ids_are_unique_within_one_second() -> None:
    ids = [new_run_id() for _ in range(20)]
    assert len(set(ids)) == len(ids)


def test_new_run_ids_sort_by_time(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter([time.struct_time((2024, 1, 2, 3, 4, 5, 0, 2, 0)), time.struct_time((2024, 1, 2, 3, 4, 6, 0, 2, 0))])
    fake_time = SimpleNamespace(strftime=lambda fmt: time.strftime(fmt, next(clock)))
    monkeypatch.setattr(record_mod, "time", fake_time)
    first, second = new_run_id(), new_run_id()
    assert first.startswith("20240102-030405-")
    assert second.startswith("20240102-030406-")
    assert first < second


def test_a_new_record_lives_under_the_reports_root() -> None:
    rec = RunRecord("r1", "create")
    assert Path(rec.dir) == reports_root() / "r1"
    assert rec.path == reports_root() / "r1" / "run.json"
    assert rec.status == RUNNING
    assert rec.phases == []
    assert rec.measurements == {}


def test_an_explicit_dir_is_kept(tmp_path: Path) -> None:
    rec = RunRecord("r1", "create", dir=str(tmp_path / "elsewhere"))
    assert rec.path == tmp_path / "elsewhere" / "run.json"


def test_phase_log_is_numbered_by_position() -> None:
    rec = RunRecord("r1", "create")
    assert rec.phase_log(0, "image") == Path(rec.dir) / "phases" / "00-image.log"
    assert rec.phase_log(12, "delete-cluster") == Path(rec.dir) / "phases" / "12-delete-cluster.log"


def test_save_writes_json_atomically_and_returns_the_path() -> None:
    rec = RunRecord("r1", "create")
    path = rec.save()
    assert path == rec.path
    assert json.loads(path.read_text())["run_id"] == "r1"
    rec.status = FAILED
    rec.save()  # overwrites in place
    assert json.loads(path.read_text())["status"] == FAILED
    assert sorted(p.name for p in path.parent.iterdir()) == ["run.json"]  # no temp file left behind


def test_save_load_round_trip_keeps_phases_and_measurements() -> None:
    rec = RunRecord(
        new_run_id(),
        "scenario",
        cluster="c1",
        provider="kind",
        spec={"nodes": 3, "version": "v1.37.2", "labels": {"a": "b"}},
        measurements={"api_ready_s": 12.5, "pods": 7.0},
        status=OK,
        duration=42.125,
    )
    rec.phases = [
        PhaseRecord("image", status=OK, start=1700000000.25, duration=3.5, log=str(rec.phase_log(0, "image"))),
        PhaseRecord("create", status=FAILED, start=1700000004.0, duration=1.0, error="boom\nsecond line"),
        PhaseRecord("delete", status=SKIPPED, when="failure"),
    ]
    loaded = RunRecord.load(rec.save())
    assert loaded == rec
    assert all(isinstance(p, PhaseRecord) for p in loaded.phases)
    assert loaded.phases[1].error == "boom\nsecond line"
    assert loaded.phases[2].when == "failure"
    assert loaded.measurements == {"api_ready_s": 12.5, "pods": 7.0}


def test_load_keeps_the_stored_dir_even_if_the_reports_root_moved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rec = RunRecord("r1", "create")
    path = rec.save()
    monkeypatch.setenv("KUBE_HARNESS_REPORTS", str(tmp_path / "other"))
    assert RunRecord.load(path).dir == rec.dir


def test_load_without_phases_gives_an_empty_list(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    path.write_text(json.dumps({"run_id": "r1", "kind": "delete", "dir": str(tmp_path)}))
    loaded = RunRecord.load(path)
    assert loaded.phases == []
    assert loaded.kind == "delete"


def test_finish_sets_status_and_duration_and_saves() -> None:
    rec = RunRecord("r1", "create")
    rec.start = time.time() - 5
    rec.finish(FAILED)
    assert rec.status == FAILED
    assert 4.5 <= rec.duration < 3600
    on_disk = RunRecord.load(rec.path)
    assert on_disk.status == FAILED
    assert on_disk.duration == rec.duration


def test_finish_duration_is_never_negative() -> None:
    rec = RunRecord("r1", "create")
    rec.finish(OK)
    assert rec.duration >= 0
    assert RunRecord.load(rec.path).status == OK
