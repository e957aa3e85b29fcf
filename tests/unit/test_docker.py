"""harness.host.docker: version facts that decide whether the runc shim is needed."""

from __future__ import annotations

import pytest

from harness.exec import Result
from harness.host import docker

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("version", "missing", "needed"),
    [
        ("20.10.24+dfsg1", ["CAP_SYS_RESOURCE"], True),
        ("22.06.0-beta.0", ["CAP_SYS_RESOURCE"], True),
        ("23.0.0", ["CAP_SYS_RESOURCE"], False),
        ("28.5.1", ["CAP_SYS_RESOURCE"], False),
        ("20.10", [], False),
        ("0", ["CAP_SYS_RESOURCE"], True),  # unknown version: assume old
    ],
)
def test_needs_cap_shim(version: str, missing: list[str], needed: bool) -> None:
    assert docker.needs_cap_shim(version, missing) is needed


@pytest.mark.parametrize(("version", "major"), [("20.10.24+dfsg1", 20), ("28.5.1", 28), ("", 0), ("dev", 0)])
def test_major(version: str, major: int) -> None:
    assert docker.major(version) == major


@pytest.mark.parametrize(
    ("stdout", "version"),
    [
        ("Docker version 20.10.24+dfsg1, build 297e128\n", "20.10.24+dfsg1"),
        ("Docker version 28.5.1, build f8215cc\n", "28.5.1"),
        ("", "0"),
    ],
)
def test_installed_version(monkeypatch: pytest.MonkeyPatch, stdout: str, version: str) -> None:
    class FakeCmd:
        def __init__(self, argv: list[str], **kwargs: object) -> None:
            assert argv == ["dockerd", "--version"]

        def run(self, check: bool = True) -> Result:
            return Result(["dockerd", "--version"], 0 if stdout else 127, stdout, "", 0.0)

    monkeypatch.setattr(docker, "Cmd", FakeCmd)
    assert docker.installed_version() == version
