"""``kube-harness conformance``: the upstream e2e suite offline (build, images, load, run)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from harness.cluster import Cluster
    from harness.progress import Progress

from harness.conformance import presets
from harness.conformance.presets import PRESETS
from harness.images.build import DEFAULT_VERSION
from harness.providers import registry

SOURCE = click.option("--from-source", type=click.Path(path_type=Path, file_okay=False),
                      help="Build from this Kubernetes checkout (the tree the node image was built from).")  # fmt: skip


@click.group()
def conformance() -> None:
    """The upstream e2e suite with every image built here (no registry)."""


@conformance.command("build")
@click.option("--kubernetes-version", default=DEFAULT_VERSION, show_default=True, help="Release tag to build.")
@SOURCE
def build(kubernetes_version: str, from_source: Path | None) -> None:
    """Build e2e.test, ginkgo, kubectl and the e2e test images (cached by their inputs); print the
    image archive's path (load it with `conformance load`, or bake it in with `image build --preload`)."""
    from harness.conformance.api import prepare
    from harness.progress import Progress

    suite, archive = prepare(kubernetes_version, Progress(), from_source)
    click.echo(f"e2e.test: {suite.e2e_test}\nimages: {archive.path} ({len(archive.built)} built)")
    for name, why in sorted(archive.skipped.items()):
        click.echo(f"  not built: {name}: {why}")


@conformance.command("images")
@click.option("--kubernetes-version", default=DEFAULT_VERSION, show_default=True)
@SOURCE
def images(kubernetes_version: str, from_source: Path | None) -> None:
    """List the images the suite names, whether each is built here, and how ours differs."""
    from harness.conformance import recipes
    from harness.conformance.suite import build_suite
    from harness.images.versions import parse_version
    from harness.progress import Progress

    suite = build_suite(parse_version(kubernetes_version), Progress(), from_source)
    built, skipped = recipes.plan(suite.list_images())
    for name in built:
        differs = recipes.DIFFERS.get(recipes.repository(name))
        click.echo(f"built      {name}" + (f"  ({differs})" if differs else ""))
    for name, why in skipped.items():
        click.echo(f"not built  {name}  ({why})")


@conformance.command("load")
@click.argument("name")
def load(name: str) -> None:
    """Load the e2e test images into every node of cluster NAME (built first if needed)."""
    from harness.cluster import Cluster
    from harness.conformance.api import cluster_version, prepare
    from harness.conformance.load import load_cluster
    from harness.progress import Progress

    cluster, progress = Cluster.load(name), Progress()
    _, archive = prepare(cluster_version(cluster), progress)
    load_cluster(cluster, archive, progress)


@conformance.command("run")
@click.argument("name")
@click.option("--preset", type=click.Choice(list(PRESETS)), default="conformance", show_default=True,
              help="; ".join(f"{p.name}: {p.about}" for p in PRESETS.values()))  # fmt: skip
@click.option("--focus", help="Also require this regular expression in the spec name.")
@click.option("--skip", help="Also skip specs matching this regular expression.")
@click.option("--parallel", type=int, default=4, show_default=True, help="ginkgo processes.")
@click.option("--no-quarantine", is_flag=True, help="Run the quarantined specs too.")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), help="Report folder.")
@click.option(
    "--create",
    is_flag=True,
    help="Create cluster NAME for this run (1 control plane + 2 workers) and delete it afterwards.",
)
@click.option(
    "--provider",
    type=click.Choice(registry.names()),
    default="kind",
    show_default=True,
    help="With --create: the provider that makes the cluster.",
)
@click.option("--keep-cluster", is_flag=True, help="With --create: keep the cluster after the run.")
@SOURCE
def run(name: str, preset: str, focus: str | None, skip: str | None, parallel: int, no_quarantine: bool,
        out: Path | None, create: bool, provider: str, keep_cluster: bool,
        from_source: Path | None) -> None:  # fmt: skip
    """Run a preset of the e2e suite against cluster NAME; exits 1 when a spec failed. Writes
    junit.xml (one test case per spec), summary.json and ginkgo.log in the report folder. With
    --create, NAME is made first (deleted afterwards, also on a failure or Ctrl-C)."""
    from harness.conformance.api import conformance as run_conformance
    from harness.progress import Progress

    progress = Progress()
    presets.select(preset, focus, skip)  # bad input is named before a cluster is made
    with _cluster(name, create, provider, keep_cluster, progress) as cluster:
        result = run_conformance(cluster, preset, progress, focus, skip, parallel, not no_quarantine,
                                 source=from_source, out=out)  # fmt: skip
    click.echo(json.dumps(result.summary()))
    if result.count("failed") or result.rc != 0:
        raise SystemExit(1)


@contextlib.contextmanager
def _cluster(name: str, create: bool, provider: str, keep: bool, progress: Progress) -> Iterator[Cluster]:
    """Cluster NAME as it is, or (``create``) a default 3-node cluster made for the run."""
    from harness.cluster import Cluster
    from harness.lifecycle import managed_cluster
    from harness.spec import spec_from_kwargs

    if not create:
        yield Cluster.load(name)
        return
    with managed_cluster(spec_from_kwargs(name=name, workers=2), provider=provider, keep=keep,
                         progress=progress) as cluster:  # fmt: skip
        yield cluster
