"""Commands with captured argv, exit code, output and duration; failures are paste-able."""

from harness.exec.cmd import Cmd, Result, run

__all__ = ["Cmd", "Result", "run"]
