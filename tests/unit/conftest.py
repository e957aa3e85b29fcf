"""Shared fixtures for the unit tests: isolated cache/report paths and a way to forbid side effects."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.exec import Cmd, Result
from harness.images.versions import KubeVersion, parse_version
from harness.pytest_plugin.markers import CLUSTER_FIXTURES, uses_cluster
from harness.reporting import events

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A unit test that asks for a fixture named like the plugin's cluster fixtures would make the
    plugin build the node image and plan shared clusters for the session: refuse it."""
    bad = [i.nodeid for i in items if i.path.is_relative_to(HERE) and uses_cluster(i)]
    if bad:
        raise pytest.UsageError(f"unit tests use a cluster fixture name ({', '.join(sorted(CLUSTER_FIXTURES))}): "
                                f"{', '.join(bad)}; rename the test's own fixture")  # fmt: skip


@pytest.fixture(autouse=True)
def _isolated_paths(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No unit test may write into the user's cache or ./reports."""
    root = tmp_path_factory.mktemp("harness-home")
    monkeypatch.setenv("KUBE_HARNESS_CACHE", str(root / "cache"))
    monkeypatch.setenv("KUBE_HARNESS_REPORTS", str(root / "reports"))
    monkeypatch.setenv("KUBE_HARNESS_GOCACHE", str(root / "gocache"))
    monkeypatch.setenv("KUBE_HARNESS_SESSION_DIR", str(root / "session"))  # runs noted there, not in ours
    monkeypatch.setenv("KUBECONFIG", str(root / "kube" / "config"))  # never the user's kubeconfig
    monkeypatch.delenv("KUBE_HARNESS_PROGRESS", raising=False)  # progress on stderr, as outside pytest
    monkeypatch.delenv("ARTIFACTS", raising=False)
    monkeypatch.setattr(events, "_journals", [])  # the outer session's journal never sees a unit test's events


@pytest.fixture
def forbid(monkeypatch: pytest.MonkeyPatch) -> Callable[[object, str], None]:
    """``forbid(module, "name")``: calling ``module.name`` fails the test (it would touch the system)."""

    def _forbid(target: object, name: str) -> None:
        def refuse(*args: object, **kwargs: object) -> None:
            pytest.fail(f"{name} must not be called here (args={args!r})")

        monkeypatch.setattr(target, name, refuse)

    return _forbid


@pytest.fixture
def v1_37_2() -> KubeVersion:
    return parse_version("v1.37.2")


@pytest.fixture
def write_file() -> Callable[..., Path]:
    """``write_file(path, text, mode=None)``: create ``path`` (and its parents) with ``text``."""

    def _write(path: Path, text: str, mode: int | None = None) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        if mode is not None:
            path.chmod(mode)
        return path

    return _write


@pytest.fixture(autouse=True)
def _no_libvirt(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unit tests never reach libvirt: the vagrant provider's backend reports itself absent."""
    from harness.providers.vms import virsh

    monkeypatch.setattr(virsh, "available", lambda: False)


@pytest.fixture
def no_docker(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The Docker SDK client and host commands (``Cmd.run``) refuse to run.

    Each attempt raises AssertionError and is also recorded in the returned list, so a test can
    assert ``no_docker == []`` even where the harness code would swallow the exception.
    """
    from harness.exec import Cmd
    from harness.providers.containers import dockerapi

    attempts: list[str] = []

    def refuse(what: str) -> None:
        attempts.append(what)
        raise AssertionError(f"{what} must not be called here: it would touch Docker or the host")

    monkeypatch.setattr(dockerapi, "client", lambda: refuse("dockerapi.client()"))
    monkeypatch.setattr(Cmd, "run", lambda self, *a, **kw: refuse(f"Cmd.run({self.paste()})"))
    return attempts


@pytest.fixture
def dead_pid() -> str:
    """A pid no process has (searched from 999999 up, so the test never depends on luck)."""
    for pid in range(999_999, 1_100_000):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return str(pid)
        except PermissionError:
            continue
    pytest.skip("no free pid found")


class Recorder:
    """Stands in for ``Cmd.run``: keeps every Cmd and answers with ``stdout``."""

    def __init__(self) -> None:
        self.cmds: list[Cmd] = []
        self.stdout = ""

    def run(self, cmd: Cmd, check: bool = True, **_: object) -> Result:
        self.cmds.append(cmd)
        return Result(cmd.argv, 0, self.stdout, "", 0.0)

    @property
    def only(self) -> Cmd:
        (cmd,) = self.cmds
        return cmd


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    rec = Recorder()
    monkeypatch.setattr(Cmd, "run", lambda self, *a, **kw: rec.run(self, *a, **kw))
    return rec
