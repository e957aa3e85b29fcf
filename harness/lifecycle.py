"""Create, delete and garbage-collect clusters: the logic behind the CLI and the pytest plugin.

``create_cluster`` validates everything first (name free, provider known, spec valid), then runs
the provider's phases through the engine. On failure or Ctrl-C the cleanup phase removes every
labelled resource unless ``keep``; the run record lands in ``reports/<run-id>/run.json``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from harness.cluster import Cluster
from harness.errors import CleanupError, HarnessError, UsageError, name_taken
from harness.locks import host_lock
from harness.phases.engine import Context, Engine
from harness.progress import Progress
from harness.providers import dockerapi
from harness.providers.base import (
    KIND_CLUSTER_LABEL,
    LABEL_CLUSTER,
    LABEL_KEEP,
    LABEL_PID,
    LABEL_PROVIDER,
    LABEL_SESSION,
)
from harness.reporting.record import OK, SKIPPED, PhaseRecord, RunRecord, new_run_id
from harness.spec import spec_warnings
from harness.spec.rules import NAME_RE

PROVIDERS = ("kind", "kubeadm", "existing")


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
                         fix="use lowercase letters, digits and '-' (the name is part of node hostnames, "
                             "Docker names and file paths)")  # fmt: skip
    taken = Cluster.state_dir_path(name).exists()
    if not taken and provider != "existing":  # an existing cluster needs no Docker on this host
        taken = name in dockerapi.labelled_clusters() or bool(dockerapi.resources({KIND_CLUSTER_LABEL: name}))
    if taken:
        raise name_taken(name)


def _claim(cluster: Cluster) -> None:
    """Check the name and write the cluster's state, under the host lock: of two creates of one
    name, exactly one gets it; the other stops here, before it has made anything."""
    with host_lock():
        _check_name(cluster.name, cluster.provider)
        cluster.claim()


def _printer(progress: Progress) -> Callable[[PhaseRecord], None]:
    def on_phase(rec: PhaseRecord) -> None:
        if rec.status != SKIPPED:
            mark = "ok " if rec.status == OK else "xx "
            progress.say(f"{mark} {rec.name} ({rec.duration:.1f}s){'' if rec.status == OK else ': ' + rec.status}")

    return on_phase


def _validate(spec: Any, provider: str, prov: Any, kubeconfig: Path | None, progress: Progress) -> Path | None:
    """Everything about the spec and the host that can be checked before anything exists (images
    present, address ranges free, ...); prints the spec's warnings."""
    for warning in spec_warnings(spec):
        progress.say(f"warning: {warning}")
    if hasattr(prov, "validate"):
        prov.validate(spec)
    if provider == "existing":
        from harness.providers.existing import check_kubeconfig

        return check_kubeconfig(kubeconfig)
    return kubeconfig


def create_cluster(spec: Any, provider: str = "kind", keep: bool = False, keep_failed: bool = False,
                   phased: bool = False, progress: Progress | None = None, kubeconfig: Path | None = None,
                   background_until: Callable[[], bool] | None = None) -> Cluster:  # fmt: skip
    """Make a cluster from ``spec``; returns its handle (state saved; kubeconfig under the run dir).

    ``keep``: the cluster is kept (labelled so: gc never removes it, only ``delete`` does).
    ``keep_failed``: after a failed or interrupted create, leave what was made for inspection.
    ``background_until``: make it in the background (its nodes get a small CPU share, see
    ``harness.providers.priority``) until it is ready or this returns True."""
    progress = progress or Progress()
    prov = provider_for(provider, phased)
    if kubeconfig is not None and provider != "existing":
        raise UsageError("--kubeconfig is only used by the existing provider",
                         fix="drop --kubeconfig, or use --provider existing")  # fmt: skip
    run_id = new_run_id()
    name = spec.name or f"kh-{run_id[-6:]}"
    _check_name(name, provider)
    kubeconfig = _validate(spec, provider, prov, kubeconfig, progress)
    record = RunRecord(run_id, "create", cluster=name, provider=provider, spec=spec.model_dump(mode="json"))
    cluster = Cluster(name, provider, run_id, keep=keep, spec=record.spec)
    _claim(cluster)
    progress.say(f"==> creating cluster {name} with {provider} (run {run_id}, record {record.path})")
    ctx = Context(record, keep=keep_failed, data={"cluster": cluster, "spec": spec, "kubeconfig": kubeconfig})
    lowered: contextlib.AbstractContextManager[None] = contextlib.nullcontext()
    if background_until:
        from harness.providers import priority

        lowered = priority.background(name, background_until)
    try:
        with lowered:
            Engine(prov.plan(spec, name), on_phase=_printer(progress)).run(ctx)
    except BaseException:
        if keep_failed:
            cluster.status = "failed"
            cluster.save_if_mine()
        raise
    return cluster


def _provider_of(name: str) -> str:
    """The provider of a cluster this cache has no state for (made from another cache)."""
    found = dockerapi.labelled_clusters().get(name)
    if found is None:
        raise UsageError(f"no cluster named {name!r}", fix="see `kube-harness list`")
    if LABEL_PROVIDER in found:
        return found[LABEL_PROVIDER]
    networks = {r.name for r in dockerapi.resources({LABEL_CLUSTER: name}) if r.kind == "network"}
    return "kind" if f"kh-kind-{name}" in networks else "kubeadm"  # made before the provider label


def delete_cluster(name: str) -> list[str]:
    """Remove a cluster's resources (by state and by label) and forget it. When something cannot
    be removed, the rest still goes, the state stays marked ``failed`` with what is left, and the
    CleanupError names it."""
    state = Cluster.load(name) if Cluster.state_dir_path(name).exists() else None
    provider = state.provider if state else _provider_of(name)
    try:
        gone = provider_for(provider).delete(name)
    except CleanupError as exc:
        if state is not None:
            state.status, state.leftovers = "failed", exc.leftovers
            state.save()
        raise
    Cluster.state_dir_path(name).unlink(missing_ok=True)
    return list(gone)


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


def _kept(labels: dict[str, str], state: Cluster | None) -> bool:
    return labels.get(LABEL_KEEP) == "true" or bool(state and state.keep)


def gc(dry_run: bool = False) -> list[str]:
    """Remove every cluster whose creating process is gone and that is not kept (by its label, seen
    from any cache, or by its state here): labelled Docker resources first, then records of
    clusters that have nothing left (kept or not). Goes on after a cluster it cannot remove; then
    raises."""
    states = {c.name: c for c in Cluster.all()}
    removed, failures = [], []
    for name, labels in dockerapi.labelled_clusters().items():
        state = states.get(name)
        if _kept(labels, state) or _alive(labels.get(LABEL_PID, "")):
            continue
        removed.append(name)
        if not dry_run:
            try:
                delete_cluster(name)
            except CleanupError as exc:
                failures.extend(exc.leftovers)
    leftovers = dockerapi.labelled_clusters()
    for name, state in states.items():
        if name not in removed and name not in leftovers and _orphaned(state):
            removed.append(name)
            if not dry_run:
                state.forget()
    if failures:
        raise CleanupError(failures)
    return removed


def sweep_session(session: str) -> list[str]:
    """Delete what a pytest session left (clusters labelled with its id, not kept): what an
    interrupted or killed worker could not delete itself. Returns the names."""
    left = [n for n, labels in dockerapi.labelled_clusters().items()
            if labels.get(LABEL_SESSION) == session and labels.get(LABEL_KEEP) != "true"]  # fmt: skip
    for name in left:
        with contextlib.suppress(HarnessError):
            delete_cluster(name)
    return left


def _orphaned(state: Cluster) -> bool:
    """A record here of a cluster with nothing left on Docker (its process gone): deleted from
    another cache, or by hand. Kept ones too: there is nothing left to keep."""
    return not _alive(str(state.pid)) and state.provider != "existing"


@contextlib.contextmanager
def managed_cluster(spec: Any, provider: str = "kind", keep: bool = False, phased: bool = False,
                    progress: Progress | None = None, kubeconfig: Path | None = None) -> Iterator[Cluster]:  # fmt: skip
    """A cluster for the length of a ``with`` block; deleted on exit (even on error) unless ``keep``.

    Usable without pytest::

        with managed_cluster(spec_from_kwargs(workers=2), provider="kubeadm") as c:
            print(c.kubectl("get", "nodes"))
    """
    cluster = create_cluster(spec, provider=provider, keep=keep, keep_failed=keep, phased=phased,
                             progress=progress, kubeconfig=kubeconfig)  # fmt: skip
    try:
        yield cluster
    finally:
        if keep:
            (progress or Progress()).say(f"kept cluster {cluster.name}; kubeconfig {cluster.kubeconfig}")
        else:
            delete_cluster(cluster.name)
