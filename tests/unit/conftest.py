"""Shared fixtures for the unit tests: isolated cache/report paths and a way to forbid side effects."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from harness.images.versions import KubeVersion, parse_version


@pytest.fixture(autouse=True)
def _isolated_paths(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No unit test may write into the user's cache or ./reports."""
    root = tmp_path_factory.mktemp("harness-home")
    monkeypatch.setenv("KUBE_HARNESS_CACHE", str(root / "cache"))
    monkeypatch.setenv("KUBE_HARNESS_REPORTS", str(root / "reports"))
    monkeypatch.setenv("KUBE_HARNESS_GOCACHE", str(root / "gocache"))


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
