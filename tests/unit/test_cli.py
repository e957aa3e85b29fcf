"""harness.cli.main: the command tree, help texts and how errors become exit codes."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import click
import pytest
from click.testing import CliRunner, Result

from harness import __version__
from harness.cli.main import cli
from harness.images import build, gobuild

pytestmark = pytest.mark.unit


def command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every command and group below ``group``, as argv prefixes."""
    for name, command in sorted(group.commands.items()):
        yield (*prefix, name)
        if isinstance(command, click.Group):
            yield from command_paths(command, (*prefix, name))


COMMANDS = [(), *command_paths(cli)]


def invoke(*argv: str) -> Result:
    return CliRunner().invoke(cli, list(argv), prog_name="kube-harness")


@pytest.fixture
def no_commands(forbid: Callable[[object, str], None]) -> None:
    forbid(build, "Cmd")
    forbid(gobuild, "module_info")


def test_command_tree() -> None:
    assert {" ".join(p) for p in COMMANDS} >= {
        "", "doctor", "host", "host prepare", "tools", "tools build", "image", "image build", "image ls", "image rm",
    }  # fmt: skip


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "kube-harness")
def test_help(path: tuple[str, ...]) -> None:
    result = invoke(*path, "--help")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Usage: kube-harness {' '.join(path)}".rstrip())


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert __version__ in result.output


@pytest.mark.usefixtures("no_commands")
def test_bad_version_is_a_usage_error() -> None:
    result = invoke("image", "build", "--kubernetes-version", "banana")
    assert result.exit_code == 2
    assert "error: unknown Kubernetes version 'banana'" in result.output
    assert "fix: give a release tag such as v1.37.2" in result.output


@pytest.mark.usefixtures("no_commands")
def test_unknown_cni_is_rejected_by_click() -> None:
    result = invoke("image", "build", "--cni", "calico")
    assert result.exit_code == 2
    assert "calico" in result.output


@pytest.mark.usefixtures("no_commands")
def test_host_error_exit_code(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    result = invoke("image", "build")
    assert result.exit_code == 3
    assert "needs root" in result.output


def test_help_lists_the_exit_codes() -> None:
    from click.testing import CliRunner

    from harness.cli.main import cli

    out = CliRunner().invoke(cli, ["--help"]).output
    assert "Exit codes" in out and "Bad input" in out and "130" in out
    for code in ("2", "5", "7", "8"):
        assert f"\n  {code} " in out
