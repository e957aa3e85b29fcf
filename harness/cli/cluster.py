"""Cluster commands: create, delete, list, status, shell, exec, kubeconfig, logs export, gc."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import click

from harness.providers import registry


@click.command()
@click.option("--provider", type=click.Choice(registry.names()), default="kind", show_default=True)
@click.option("--spec", "spec_path", type=click.Path(path_type=Path), help="ClusterSpec YAML file.")
@click.option("--name", help="Cluster name (default: kh-<random>; overrides the spec's name).")
@click.option("--control-planes", type=int, help="Override the spec's number of control planes.")
@click.option("--workers", type=int, help="Override the spec's number of workers.")
@click.option("--kubernetes-version", help="Override the spec's Kubernetes version.")
@click.option("--node-image", help="Use this node image instead of building the default.")
@click.option("--phased", is_flag=True, help="kubeadm provider: run `kubeadm init` phase by phase.")
@click.option("--keep", is_flag=True, help="After a failure or Ctrl-C, keep what was made (for debugging).")
@click.option(
    "--kubeconfig",
    "kubeconfig_path",
    type=click.Path(path_type=Path),
    help="existing provider: the kubeconfig of a cluster made elsewhere.",
)
def create(provider: str, spec_path: Path | None, name: str | None, control_planes: int | None, workers: int | None,
           kubernetes_version: str | None, node_image: str | None, phased: bool, keep: bool,
           kubeconfig_path: Path | None) -> None:  # fmt: skip
    """Create a cluster; prints its name and kubeconfig path. It is kept (labelled so: gc never
    removes it) until `kube-harness delete`."""
    from harness.lifecycle import create_cluster
    from harness.reporting.session import SessionRecord, recorded
    from harness.spec import load_spec, spec_from_dict

    base = load_spec(spec_path).model_dump(mode="json") if spec_path else {}
    overrides = {"name": name, "control_planes": control_planes, "workers": workers,
                 "kubernetes_version": kubernetes_version, "node_image": node_image}  # fmt: skip
    spec = spec_from_dict({**base, **{k: v for k, v in overrides.items() if v is not None}})
    session = SessionRecord("")
    try:
        with recorded("create", sys.argv[1:]) as session:
            cluster = create_cluster(spec, provider=provider, keep=True, keep_failed=keep, phased=phased,
                                     kubeconfig=kubeconfig_path)  # fmt: skip
    finally:
        if session.session and session.path.exists():  # a failed create has its record too
            click.echo(f"session record: {session.path} (`kube-harness report {session.session}`)", err=True)
    click.echo(f"cluster {cluster.name} ready; kubeconfig: {cluster.kubeconfig}")


@click.command()
@click.argument("names", nargs=-1)
@click.option("--all", "everything", is_flag=True, help="Every cluster this host knows (state here, or labelled).")
def delete(names: tuple[str, ...], everything: bool) -> None:
    """Delete clusters (kept ones too) and every resource they labelled; their kh-NAME context
    leaves your kubeconfig. Goes on after a cluster that cannot be removed entirely; exits with
    that error at the end."""
    from harness.cluster import Cluster
    from harness.errors import HarnessError, UsageError
    from harness.lifecycle import delete_cluster

    if everything == bool(names):
        raise UsageError("name the clusters to delete, or give --all (not both)",
                         fix="kube-harness delete NAME...  or  kube-harness delete --all")  # fmt: skip
    if everything:
        names = tuple(dict.fromkeys([c.name for c in Cluster.all()] + sorted(registry.all_clusters())))
    failed: HarnessError | None = None
    for name in names:
        try:
            for line in delete_cluster(name):
                click.echo(f"removed {line}")
        except HarnessError as exc:
            click.echo(f"error: {name}: {exc}", err=True)
            failed = exc
    if failed is not None:
        sys.exit(failed.exit_code)


@click.command("list")
def list_() -> None:
    """List the clusters the harness knows (its state here, and labelled resources of clusters
    made from other caches)."""
    from harness.cluster import Cluster
    from harness.lifecycle import abandoned
    from harness.providers.base import LABEL_KEEP, LABEL_PROVIDER

    known = Cluster.all()
    click.echo(f"{'NAME':24} {'PROVIDER':9} {'STATUS':9} {'NODES':6} {'KEPT':5} KUBECONFIG")
    for c in known:
        kept = "yes" if c.keep else "no"
        left = f"  (left: {', '.join(c.leftovers)})" if c.leftovers else ""
        status = "abandoned" if abandoned(c) else c.status
        if status == "abandoned":
            left += "  (its creating process is gone: `kube-harness gc` removes it)"
        click.echo(f"{c.name:24} {c.provider:9} {status:9} {len(c.nodes):<6} {kept:5} {c.kubeconfig}{left}")
    labelled = registry.all_clusters()  # backends that do not answer here have nothing to add
    for name, found in sorted(labelled.items()):
        if name not in {c.name for c in known}:
            kept = "yes" if found.get(LABEL_KEEP) == "true" else "no"
            click.echo(
                f"{name:24} {found.get(LABEL_PROVIDER, '?'):9} {'-':9} {'-':6} {kept:5} (no state in this cache)"
            )


@click.command()
@click.argument("name")
def status(name: str) -> None:
    """Nodes of a cluster and their readiness."""
    from harness.cluster import Cluster
    from harness.k8s import checks

    cluster = Cluster.load(name)
    click.echo(f"cluster {cluster.name} ({cluster.provider}, run {cluster.run_id}) endpoint {cluster.endpoint}")
    ready = checks.ready_nodes(cluster) if cluster.kubeconfig and Path(cluster.kubeconfig).exists() else {}
    for n in cluster.nodes:
        state = "-" if n.name not in ready else ("Ready" if ready[n.name] else "NotReady")
        click.echo(f"  {n.name:40} {n.role:14} {n.ip:16} {state}")


@click.command()
@click.argument("name")
@click.argument("node")
def shell(name: str, node: str) -> None:
    """An interactive shell on NODE of cluster NAME."""
    from harness.cluster import Cluster

    argv = Cluster.load(name).node(node).interactive("bash")  # no node access: NoNodeAccess, with the fix
    os.execvp(argv[0], argv)


@click.command("exec", context_settings={"ignore_unknown_options": True})
@click.argument("name")
@click.argument("node")
@click.argument("argv", nargs=-1, required=True, type=click.UNPROCESSED)
def exec_(name: str, node: str, argv: tuple[str, ...]) -> None:
    """Run a command on NODE: a node name, or a group as kinder writes it: @all, @cp* / @w* (every
    control plane / worker), @cp1 / @w2 (one of them), @lb. kube-harness exec NAME @w* -- CMD ARGS...
    On several nodes the output lines are prefixed with the node; the exit code is the worst."""
    from harness.cluster import Cluster

    nodes = Cluster.load(name).select(node)
    worst = 0
    for n in nodes:
        res = n.command(*argv).run(check=False)
        prefix = f"{n.name}: " if len(nodes) > 1 else ""
        for stream, err in ((res.stdout, False), (res.stderr, True)):
            text = "".join(f"{prefix}{line}\n" for line in stream.splitlines()) if prefix else stream
            click.echo(text, nl=False, err=err)
        worst = max(worst, res.rc)
    sys.exit(worst)


@click.command("cp")
@click.argument("name")
@click.argument("source")
@click.argument("dest")
def cp(name: str, source: str, dest: str) -> None:
    """Copy a file between the host and nodes, as docker cp: NODE:PATH on one side (NODE a name or
    a group such as @all or @w* when copying to nodes). kube-harness cp NAME ./f @all:/tmp/f"""
    from harness.cluster import Cluster
    from harness.errors import UsageError

    cluster = Cluster.load(name)
    if ":" in dest and ":" not in source:
        pattern, _, path = dest.partition(":")
        for n in cluster.select(pattern):
            n.copy_to(Path(source), path)
            click.echo(f"{source} -> {n.name}:{path}")
    elif ":" in source and ":" not in dest:
        pattern, _, path = source.partition(":")
        nodes = cluster.select(pattern)
        if len(nodes) != 1:
            raise UsageError(f"{pattern} is {len(nodes)} nodes: copy from one node at a time",
                             fix="name one node, e.g. @cp1 or a node name")  # fmt: skip
        nodes[0].copy_from(path, Path(dest))
        click.echo(f"{nodes[0].name}:{path} -> {dest}")
    else:
        raise UsageError("one side must be NODE:PATH and the other a host path",
                         fix="e.g. `kube-harness cp NAME ./file @w*:/tmp/file` or `... @cp1:/etc/x ./x`")  # fmt: skip


@click.command()
@click.argument("name")
@click.option("--merge", is_flag=True, help="Also merge it into your kubeconfig ($KUBECONFIG's first file or "
              "~/.kube/config) as context kh-NAME, made current; `delete` takes it out again.")  # fmt: skip
def kubeconfig(name: str, merge: bool) -> None:
    """Print the absolute path of a cluster's kubeconfig (or merge it into yours)."""
    from harness.cluster import Cluster
    from harness.kubeconfigs import merge as merge_into
    from harness.kubeconfigs import user_kubeconfig

    path = Path(Cluster.load(name).kubeconfig).resolve()
    if merge:
        context = merge_into(name, path)
        click.echo(f"merged into {user_kubeconfig()}: context {context} (current)", err=True)
    click.echo(path)


@click.group()
def logs() -> None:
    """Node logs."""


@logs.command("export")
@click.argument("name")
@click.argument("directory", type=click.Path(path_type=Path))
def logs_export(name: str, directory: Path) -> None:
    """Write each node's journal (kubelet, containerd, all), console and kubeadm files to DIRECTORY."""
    from harness.cluster import Cluster
    from harness.reporting.nodelogs import export

    for path in export(Cluster.load(name), directory):
        click.echo(path)


@click.command()
@click.option("--dry-run", is_flag=True, help="Only list what would be removed.")
def gc(dry_run: bool) -> None:
    """Remove every labelled cluster whose creating process is gone, unless it is kept."""
    from harness.lifecycle import gc as collect

    for name in collect(dry_run=dry_run):
        click.echo(f"{'would remove' if dry_run else 'removed'} cluster {name}")


@click.command("load")
@click.argument("name")
@click.argument("images", nargs=-1)
@click.option("--archive", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A `docker save` (or OCI) archive to load instead of local Docker images.")  # fmt: skip
def load(name: str, images: tuple[str, ...], archive: Path | None) -> None:
    """Load images into every node of cluster NAME (kind provider, kubeadm provider, VMs): IMAGES from
    the local Docker image store, or --archive FILE; imported into each node's containerd (k8s.io
    namespace) for pods with imagePullPolicy Never or IfNotPresent. A node that already has every
    image at the same digest is left alone."""
    from harness.cluster import Cluster
    from harness.errors import UsageError

    if bool(images) == bool(archive):
        raise UsageError("give image names or --archive FILE (one of the two)",
                         fix="`kube-harness load NAME my/app:dev` or `... load NAME --archive app.tar`")  # fmt: skip
    start = time.monotonic()
    counts = Cluster.load(name).load_image(*images, archive=archive)
    for node, count in counts.items():
        click.echo(f"{node}: {'imported ' + str(count) if count else 'had every image'}")
    click.echo(f"loaded in {time.monotonic() - start:.1f}s")


COMMANDS = [create, delete, list_, status, shell, exec_, cp, kubeconfig, load, logs, gc]
