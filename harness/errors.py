"""The small exception hierarchy; every error carries the exit code the CLI returns."""

from __future__ import annotations


class HarnessError(Exception):
    """Base of every error the harness raises on purpose.

    ``fix`` tells the user what to do about it; the CLI prints both.
    """

    exit_code = 1

    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        if self.fix:
            return f"{self.message}\n  fix: {self.fix}"
        return self.message


class UsageError(HarnessError):
    """Bad input: a flag, a version, a spec field. Raised before anything is created."""

    exit_code = 2


class HostError(HarnessError):
    """The host cannot do what was asked (no Docker, not root, missing kernel feature)."""

    exit_code = 3


class BuildError(HarnessError):
    """An offline build step failed."""

    exit_code = 4


class CommandError(HarnessError):
    """A command exited non-zero; the message holds a paste-able command line and output tail."""

    exit_code = 5


class WaitTimeout(HarnessError):
    """A wait ran out of time; the message says what was awaited and what was last seen."""

    exit_code = 6


def name_taken(name: str, what: str = "") -> UsageError:
    """The error of every place that finds a cluster name in use (state, labels, a claim)."""
    detail = f" ({what})" if what else ""
    return UsageError(f"a cluster named {name!r} already exists{detail}",
                      fix=f"pick another name, or delete it first (kube-harness delete {name})")  # fmt: skip


class CleanupError(HarnessError):
    """Deleting a cluster left resources behind; ``leftovers`` names them (``kind name``)."""

    exit_code = 8

    def __init__(self, leftovers: list[str], errors: dict[str, str] | None = None) -> None:
        detail = "".join(f"\n  {what}: {why}" for what, why in (errors or {}).items())
        super().__init__(
            f"could not remove {len(leftovers)} resource(s): {', '.join(leftovers)}{detail}",
            fix="run `kube-harness delete NAME` again (or `docker rm -f` / `docker network rm` them); "
            "`kube-harness gc` also retries",
        )
        self.leftovers = leftovers


def exit_codes() -> list[tuple[int, str]]:
    """(code, meaning) of every error class, for ``--help``; interrupted runs exit 128 + signal."""
    from harness.phases.engine import PhaseFailed

    classes: list[type[HarnessError]] = [HarnessError, UsageError, HostError, BuildError, CommandError, WaitTimeout,
                                         PhaseFailed, CleanupError]  # fmt: skip
    found = [(c.exit_code, (c.__doc__ or c.__name__).strip().splitlines()[0].replace("``", "")) for c in classes]
    return [*sorted(found), (130, "interrupted (Ctrl-C; 143 SIGTERM, 129 SIGHUP) after cleaning up")]
