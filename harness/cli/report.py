"""``kube-harness report``: the HTML report of a session or run record."""

from __future__ import annotations

from pathlib import Path

import click


def _latest() -> str:
    from harness.errors import UsageError
    from harness.paths import reports_root

    found = sorted(reports_root().glob("session-*/session.json"), key=lambda p: p.stat().st_mtime)
    if not found:
        raise UsageError(f"no session record under {reports_root()}/",
                         fix="run pytest with the plugin (a session that makes clusters writes one) or "
                             "`kube-harness create`, or name a run: `kube-harness report RUN_ID`")  # fmt: skip
    return str(found[-1])


@click.command()
@click.argument("record", required=False)
@click.option("--compare", "other", metavar="OTHER", help="A second session or run: its phase and latency "
              "figures side by side with RECORD's.")  # fmt: skip
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="The HTML file (default: report.html beside the record).")  # fmt: skip
def report(record: str | None, other: str | None, output: Path | None) -> None:
    """Write one self-contained HTML report of RECORD: a session (session.json, its folder or its id
    session-ID / ID) or a run (run.json, its folder or its run id); default: the newest session.

    Per cluster a timeline of its phases per node; per disruptive test its fault against node
    Ready state, taints, evictions, Ready pods and endpoints; the tests with links to their failure
    bundles and logs. Opens with no network (charts are inline SVG)."""
    from harness.reporting.html import load, write_report
    from harness.reporting.session import find

    what = record or _latest()
    session = load(what)
    compare = load(other) if other else None
    out = output or find(what).parent / "report.html"
    click.echo(write_report(session, out, compare))
