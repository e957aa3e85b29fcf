"""Create, delete and garbage-collect clusters: the logic behind the CLI and the pytest plugin.

``create_cluster`` validates everything first (name free, provider known, spec valid), then runs
the provider's phases through the engine. On failure or Ctrl-C the cleanup phase removes every
labelled resource unless ``keep``; the run record lands in ``reports/<run-id>/run.json``.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from harness.cluster import Cluster
from harness.errors import UsageError
from harness.phases.engine import Context, Engine
from harness.progress import Progress
from harness.providers import dockerapi
from harness.providers.base import LABEL_PID
from harness.reporting.record import OK, SKIPPED, PhaseRecord, RunRecord, new_run_id

PROVIDERS = ("kind", "kubeadm", "existing")
NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$")


def provider_for(name: str, phased: bool = False) -> Any:
    if phased and name != "kubeadm":
        raise UsageError("--phased needs the kubeadm provider", fix="use --provider kubeadm, or drop --phased")
    if name == "kind":
        from harness.providers.kindprov import KindProvider

        return KindProvider()
    if name == "kubeadm":
        from harness.providers.kubeadm.provider import KubeadmProvider

        return KubeadmProvider(phased=phased)
    if name == "existing":
        from harness.providers.existing import ExistingProvider

        return ExistingProvider()
    raise UsageError(f"unknown provider {name!r}", fix=f"use one of: {', '.join(PROVIDERS)}")


def _check_name(name: str, provider: str) -> None:
    if not NAME_RE.fullmatch(name):
        raise UsageError(f"cluster name {name!r} is not a DNS label of at most 40 characters",
                         fix="use lowercase letters, digits and '-'")  # fmt: skip
    taken = Cluster.state_dir_path(name).exists()
    if not taken and provider != "existing":  # an existing cluster needs no Docker on this host
        taken = name in dockerapi.labelled_clusters()
    if taken:
        raise UsageError(f"a cluster named {name!r} already exists", fix=f"delete it (kube-harness delete {name})")


def _printer(progress: Progress) -> Callable[[PhaseRecord], None]:
    def on_phase(rec: PhaseRecord) -> None:
        if rec.status != SKIPPED:
            mark = "ok " if rec.status == OK else "xx "
            progress.say(f"{mark} {rec.name} ({rec.duration:.1f}s){'' if rec.status == OK else ': ' + rec.status}")

    return on_phase


def create_cluster(spec: Any, provider: str = "kind", keep: bool = False, phased: bool = False,
                   progress: Progress | None = None, kubeconfig: Path | None = None,
                   background_until: Callable[[], bool] | None = None) -> Cluster:  # fmt: skip
    """Make a cluster from ``spec``; returns its handle (state saved; kubeconfig under the run dir).

    ``background_until``: make it in the background (its nodes get a small CPU share, see
    ``harness.providers.priority``) until it is ready or this returns True."""
    progress = progress or Progress()
    prov = provider_for(provider, phased)
    if kubeconfig is not None and provider != "existing":
        raise UsageError("--kubeconfig is only used by the existing provider",
                         fix="drop --kubeconfig, or use --provider existing")  # fmt: skip
    if hasattr(prov, "validate"):
        prov.validate(spec)
    if provider == "existing":
        from harness.providers.existing import check_kubeconfig

        kubeconfig = check_kubeconfig(kubeconfig)
    run_id = new_run_id()
    name = spec.name or f"kh-{run_id[-6:]}"
    _check_name(name, provider)
    record = RunRecord(run_id, "create", cluster=name, provider=provider, spec=spec.model_dump(mode="json"))
    cluster = Cluster(name, provider, run_id, keep=keep, spec=record.spec)
    cluster.save()
    progress.say(f"==> creating cluster {name} with {provider} (run {run_id}, record {record.path})")
    ctx = Context(record, keep=keep, data={"cluster": cluster, "spec": spec, "kubeconfig": kubeconfig})
    lowered: contextlib.AbstractContextManager[None] = contextlib.nullcontext()
    if background_until:
        from harness.providers import priority

        lowered = priority.background(name, background_until)
    try:
        with lowered:
            Engine(prov.plan(spec, name), on_phase=_printer(progress)).run(ctx)
    except BaseException:
        if keep:
            cluster.status = "failed"
            cluster.save()
        raise
    return cluster


def delete_cluster(name: str) -> list[str]:
    """Remove a cluster's resources (by state and by label) and forget it."""
    try:
        cluster = Cluster.load(name)
        provider = cluster.provider
    except UsageError:
        if name not in dockerapi.labelled_clusters():
            raise
        provider = "kubeadm"
    gone = provider_for(provider).delete(name)
    Cluster.state_dir_path(name).unlink(missing_ok=True)
    return gone


def _alive(pid: str) -> bool:
    if not pid.isdigit() or int(pid) <= 0:
        return False
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, ValueError):
        return False
    except PermissionError:
        return True
    return True


def gc(dry_run: bool = False) -> list[str]:
    """Remove every cluster whose creating process is gone and that was not kept: labelled Docker
    resources first, then records of clusters that have nothing left."""
    states = {c.name: c for c in Cluster.all()}
    removed = []
    for name, labels in dockerapi.labelled_clusters().items():
        state = states.get(name)
        if (state and state.keep) or _alive(labels.get(LABEL_PID, "")):
            continue
        removed.append(name)
        if not dry_run:
            delete_cluster(name)
    leftovers = dockerapi.labelled_clusters()
    for name, state in states.items():
        if name not in removed and name not in leftovers and _orphaned(state):
            removed.append(name)
            if not dry_run:
                state.forget()
    return removed


def _orphaned(state: Cluster) -> bool:
    return not state.keep and not _alive(str(state.pid)) and state.provider != "existing"


@contextlib.contextmanager
def managed_cluster(spec: Any, provider: str = "kind", keep: bool = False, phased: bool = False,
                    progress: Progress | None = None, kubeconfig: Path | None = None) -> Iterator[Cluster]:  # fmt: skip
    """A cluster for the length of a ``with`` block; deleted on exit (even on error) unless ``keep``.

    Usable without pytest::

        with managed_cluster(spec_from_kwargs(workers=2), provider="kubeadm") as c:
            print(c.kubectl("get", "nodes"))
    """
    cluster = create_cluster(
        spec, provider=provider, keep=keep, phased=phased, progress=progress, kubeconfig=kubeconfig
    )
    try:
        yield cluster
    finally:
        if keep:
            (progress or Progress()).say(f"kept cluster {cluster.name}; kubeconfig {cluster.kubeconfig}")
        else:
            delete_cluster(cluster.name)
