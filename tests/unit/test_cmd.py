"""harness.exec.cmd: running commands, paste-able failures, logs (with the Python interpreter as the command)."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from harness.errors import CommandError
from harness.exec import Cmd, run
from harness.exec.cmd import paste, tail

pytestmark = pytest.mark.unit

FAILING = "import os, sys; print('out line'); print('failed: ' + os.environ['HARNESS_T'], file=sys.stderr); sys.exit(3)"


def py(code: str, **kwargs: object) -> Cmd:
    return Cmd([sys.executable, "-c", code], **kwargs)  # type: ignore[arg-type]


def test_run_success() -> None:
    res = py("print('hello')").run()
    assert (res.rc, res.stdout, res.stderr, res.ok) == (0, "hello\n", "", True)
    assert res.duration >= 0
    assert res.argv == [sys.executable, "-c", "print('hello')"]


def test_run_passes_input_env_and_cwd(tmp_path: Path) -> None:
    cmd = py("import os, sys; print(sys.stdin.read().upper(), os.environ['HARNESS_T'], os.getcwd())",
             input="abc", env={"HARNESS_T": "x y"}, cwd=str(tmp_path))  # fmt: skip
    assert cmd.run().stdout.split() == ["ABC", "x", "y", str(tmp_path)]


def test_argv_items_become_strings(tmp_path: Path) -> None:
    assert Cmd(["ls", tmp_path]).argv == ["ls", str(tmp_path)]  # type: ignore[list-item]


def test_failure_is_paste_able_with_output_tail() -> None:
    cmd = py(FAILING, env={"HARNESS_T": "a b"})
    with pytest.raises(CommandError) as err:
        cmd.run()
    text = str(err.value)
    assert "exit 3" in text
    assert f"HARNESS_T='a b' {shlex.join(cmd.argv)}" in text
    assert "--- output tail ---" in text
    assert "out line" in text and "failed: a b" in text
    assert err.value.exit_code == 5


def test_pasted_line_reproduces_the_command() -> None:
    cmd = py(FAILING, env={"HARNESS_T": "it's $HOME"})
    proc = subprocess.run(["sh", "-c", cmd.paste()], capture_output=True, text=True, check=False)
    assert proc.returncode == 3
    assert proc.stderr == "failed: it's $HOME\n"


def test_check_false_returns_the_exit_code() -> None:
    res = py(FAILING, env={"HARNESS_T": "t"}).run(check=False)
    assert (res.rc, res.ok) == (3, False)
    assert "failed: t" in res.output


def test_missing_binary_is_command_not_found() -> None:
    cmd = Cmd(["kube-harness-no-such-binary", "--flag"])
    with pytest.raises(CommandError, match="command not found: kube-harness-no-such-binary") as err:
        cmd.run(check=False)
    assert "kube-harness-no-such-binary --flag" in str(err.value)


def test_timeout_is_a_command_error() -> None:
    with pytest.raises(CommandError, match=r"timed out after 0\.2s"):
        py("import time; time.sleep(10)", timeout=0.2).run()


def test_log_path_receives_the_output(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "step.log"
    cmd = py("import sys; print('to stdout'); print('to stderr', file=sys.stderr)")
    res = cmd.run(log=log)
    assert res.ok and res.stdout == ""
    text = log.read_text()
    assert text.startswith(f"$ {cmd.paste()}\n")
    assert "to stdout" in text and "to stderr" in text


def test_log_failure_reports_the_log(tmp_path: Path) -> None:
    log = tmp_path / "step.log"
    with pytest.raises(CommandError) as err:
        py(FAILING, env={"HARNESS_T": "logged"}).run(log=log)
    assert "failed: logged" in str(err.value)
    assert f"(full log: {log})" in str(err.value)


def test_run_shorthand() -> None:
    assert run(sys.executable, "-c", "print(1)").stdout == "1\n"
    assert run(sys.executable, "-c", "raise SystemExit(2)", check=False).rc == 2


def test_paste_with_env_and_cwd() -> None:
    line = paste(["echo", "a b"], {"B": "2", "A": "x y"}, "/tmp/my dir")
    assert line == "(cd '/tmp/my dir' && A='x y' B=2 echo 'a b')"


def test_tail_keeps_last_lines() -> None:
    text = "\n".join(f"line {i}" for i in range(40)) + "\n\n"
    assert tail(text, 3) == "line 37\nline 38\nline 39"
    assert len(tail(text).splitlines()) == 25


def test_a_failure_says_the_commands_own_error_line_not_its_last_hint() -> None:
    script = ("echo '[init] Using Kubernetes version: v1.37.2'; "
              "echo 'error: error execution phase preflight: networking.serviceSubnet: Invalid value: "
              "\"10.96.0.0/30\": subnet with 4 address(es) is too small, the minimum is 10' >&2; "
              "echo 'To see the stack trace of this error execute with --v=5 or higher' >&2; exit 1")  # fmt: skip
    with pytest.raises(CommandError) as info:
        Cmd(["sh", "-c", script]).run()
    said = next(line for line in str(info.value).splitlines() if line.startswith("  said: "))
    assert "subnet with 4 address(es) is too small" in said
