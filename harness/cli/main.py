"""``kube-harness``: doctor, host prepare/restore, image build/ls/rm, tools."""

from __future__ import annotations

import os
import sys

import click

from harness import __version__, signals
from harness.errors import HarnessError
from harness.progress import PROGRESS_ENV


class HarnessGroup(click.Group):
    """Prints HarnessErrors as ``error: ...`` + fix and exits with their code; SIGINT, SIGTERM and
    SIGHUP (after cleanup) exit 130, 143 and 129. ``--help`` lists the exit codes."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from harness.errors import exit_codes

        with formatter.section("Exit codes"):
            formatter.write_dl([("0", "success"), *((str(code), text) for code, text in exit_codes())])

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except HarnessError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt as exc:
            click.echo(f"interrupted ({exc or 'SIGINT'}); cleaned up", err=True)
            sys.exit(signals.exit_code(exc))


@click.group(cls=HarnessGroup)
@click.version_option(__version__, prog_name="kube-harness")
def cli() -> None:
    """Real Kubernetes clusters for tests, built offline from Debian packages and Go modules."""


@cli.command()
@click.option("--nodes", default=3, show_default=True, help="Topology size to check memory and disk for.")
def doctor(nodes: int) -> None:
    """Check that this host can build node images and run clusters; exits 1 if it cannot."""
    from harness.host.doctor import run_checks

    checks = run_checks(nodes)
    for check in checks:
        click.echo(check.line())
    failed = [c for c in checks if c.status == "fail"]
    if failed:
        click.echo(f"{len(failed)} requirement(s) not met", err=True)
        sys.exit(1)
    click.echo("this host can run clusters")


@cli.group()
def host() -> None:
    """Prepare the host."""


@host.command("prepare")
@click.option("--no-tools", is_flag=True, help="Do not build kind and kubectl.")
@click.option("--with-vms", is_flag=True,
              help="Also install and start what VM clusters need: Vagrant, vagrant-libvirt, libvirtd, QEMU "
                   "(and extlinux for building the box); probes whether guests get KVM or only QEMU TCG.")  # fmt: skip
def host_prepare(no_tools: bool, with_vms: bool) -> None:
    """Install and start what clusters need (Docker engine, runtime shim, mmdebstrap, kind, kubectl)."""
    from harness.host.prepare import prepare

    prepare(build_tools=not no_tools, with_vms=with_vms)


@host.command("restore")
@click.option("--force", is_flag=True,
              help="Restore even while containers use the kube-harness-runc runtime (Docker can no "
                   "longer start them afterwards, and exec or stop may fail).")  # fmt: skip
def host_restore(force: bool) -> None:
    """Undo the Docker changes of `host prepare`.

    Puts /etc/docker/daemon.json back byte for byte as it was before the first prepare (or removes
    it if there was none), removes the runc shim, and reloads dockerd (SIGHUP) if it runs and
    daemon.json changed. A daemon.json edited after prepare is first copied to
    daemon.json.kube-harness-replaced; after an older prepare that kept no backup, only the
    kube-harness-runc entries are taken out of it. Refuses while containers still use the shim's
    runtime, unless --force. Installed packages, a started dockerd and raised sysctls are left as
    they are (and listed). With nothing to restore it says so and exits 0.
    """
    from harness.host.restore import restore

    restore(force=force)


@cli.group()
def tools() -> None:
    """kind and kubectl."""


@tools.command("build")
def tools_build() -> None:
    """Build kind and kubectl into the cache (unless fitting versions are on PATH); print their paths."""
    from harness.images import tools as t
    from harness.progress import Progress

    progress = Progress()
    click.echo(t.ensure_kind(progress))
    click.echo(t.ensure_kubectl(progress))


from harness.cli.cluster import COMMANDS  # noqa: E402
from harness.cli.conformance import conformance  # noqa: E402
from harness.cli.fault import fault  # noqa: E402
from harness.cli.image import image  # noqa: E402
from harness.cli.report import report  # noqa: E402

cli.add_command(image)
cli.add_command(conformance)
cli.add_command(fault)
cli.add_command(report)
for command in COMMANDS:
    cli.add_command(command)


def main() -> None:
    # A background job may inherit SIGINT as ignored; Ctrl-C, a CI cancel (SIGTERM) and a closed
    # terminal (SIGHUP) must always reach the phase engine and faults, which turn them into cleanup.
    signals.install()
    # The CLI's progress is its stderr, also when a test runs it under a pytest that follows a
    # progress file (that file is for library calls made inside the test process).
    os.environ.pop(PROGRESS_ENV, None)
    cli(prog_name="kube-harness")


if __name__ == "__main__":
    main()
