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
from harness.providers import registry
from harness.providers.base import LABEL_KEEP, LABEL_PID, LABEL_PROVIDER, LABEL_SESSION, Provider
from harness.providers.bringup import BringUp
from harness.reporting.record import OK, SKIPPED, PhaseRecord, RunRecord, new_run_id
from harness.reporting.session import note_run
from harness.spec import spec_warnings
from harness.spec.rules import NAME_RE


def provider_for(name: str, phased: bool = False, kubeconfig: Path | None = None) -> Provider:
    return registry.get(name, phased=phased, kubeconfig=kubeconfig)


def _check_name(name: str, provider: Provider) -> None:
    if not NAME_RE.fullmatch(name):
        raise UsageError(f"cluster name {name!r} is not a DNS label of at most 40 characters",
                         fix="use lowercase letters, digits and '-' (the name is part of node hostnames, "
                             "container or VM names and file paths)")  # fmt: skip
    taken = Cluster.state_dir_path(name).exists()
    if not taken and provider.makes_resources:  # an existing cluster makes nothing on this host
        taken = registry.name_taken(name)
    if taken:
        raise name_taken(name)


def _claim(cluster: Cluster) -> None:
    """Check the name and write the cluster's state, under the host lock: of two creates of one
    name, exactly one gets it; the other stops here, before it has made anything."""
    with host_lock():
        _check_name(cluster.name, registry.get(cluster.provider))
        cluster.claim()


def _printer(progress: Progress, cluster: str) -> Callable[[PhaseRecord], None]:
    def on_phase(rec: PhaseRecord) -> None:
        if rec.status != SKIPPED:
            mark = "ok " if rec.status == OK else "xx "
            end = "" if rec.status == OK else f": {rec.status}"
            progress.say(f"{mark} {cluster}: {rec.name} ({rec.duration:.1f}s){end}")

    return on_phase


def _validate(spec: Any, prov: Provider, progress: Progress) -> None:
    """Everything about the spec and the host that can be checked before anything exists (images
    present, address ranges free, ...); prints the spec's warnings."""
    for warning in spec_warnings(spec):
        progress.say(f"warning: {warning}")
    if getattr(spec, "ca", None) is not None:
        spec.ca.check()
    prov.validate(spec)


def create_cluster(spec: Any, provider: str = "kind", keep: bool = False, keep_failed: bool = False,
                   phased: bool = False, progress: Progress | None = None, kubeconfig: Path | None = None,
                   background_until: Callable[[], bool] | None = None,
                   owner: dict[str, str] | None = None, phase_cases: bool = False) -> Cluster:  # fmt: skip
    """Make a cluster from ``spec``; returns its handle (state saved; kubeconfig under the run dir).

    ``keep``: the cluster is kept (labelled so: gc never removes it, only ``delete`` does).
    ``keep_failed``: after a failed or interrupted create, leave what was made for inspection.
    ``background_until``: make it in the background (the provider gives its nodes a small CPU
    share) until it is ready or this returns True. ``owner``: labels saying who makes it (the
    pytest session and worker); the creating pid is always one."""
    progress = progress or Progress()
    prov = provider_for(provider, phased, kubeconfig)
    run_id = new_run_id()
    name = spec.name or f"kh-{run_id[-6:]}"
    _check_name(name, prov)
    _validate(spec, prov, progress)
    record = RunRecord(run_id, "create", cluster=name, provider=provider, spec=spec.model_dump(mode="json"),
                       kubernetes_version=spec.kubernetes_version)  # fmt: skip
    note_run(record, phase_cases)  # phase_cases: the pytest fixtures' clusters (their phases as JUnit cases)
    cluster = Cluster(name, provider, run_id, keep=keep, spec=record.spec, owner=dict(owner or {}))
    _claim(cluster)
    progress.say(f"==> creating cluster {name} with {provider} (run {run_id}, record {record.path})")
    state = BringUp(cluster, spec, prov, kubeconfig=kubeconfig)
    ctx = Context(record, keep=keep_failed, state=state)
    lowered: contextlib.AbstractContextManager[None] = contextlib.nullcontext()
    if background_until:
        lowered = prov.background(name, background_until)
    try:
        with lowered:
            Engine(prov.plan(spec, name), on_phase=_printer(progress, name)).run(ctx)
    except BaseException:
        if keep_failed:
            cluster.status = "failed"
            cluster.save_if_mine()
        raise
    return cluster


def _provider_of(name: str) -> str:
    """The provider of a cluster this cache has no state for (made from another cache)."""
    found = registry.all_clusters().get(name)
    if found is None or LABEL_PROVIDER not in found:
        raise UsageError(f"no cluster named {name!r}", fix="see `kube-harness list`")
    return found[LABEL_PROVIDER]


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
    from harness.kubeconfigs import unmerge

    with contextlib.suppress(HarnessError, OSError):  # a user kubeconfig we cannot parse is theirs to fix
        if unmerge(name):
            gone = [*gone, f"context kh-{name} from your kubeconfig"]
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


def abandoned(state: Cluster) -> bool:
    """A record still saying "creating" whose creating process is gone (killed mid-create): what
    it made, if anything, is gc's to remove."""
    return state.status == "creating" and not _alive(str(state.pid))


def _kept(labels: dict[str, str], state: Cluster | None) -> bool:
    return labels.get(LABEL_KEEP) == "true" or bool(state and state.keep)


def gc(dry_run: bool = False) -> list[str]:
    """Remove every cluster whose creating process is gone and that is not kept (by its label, seen
    from any cache, or by its state here): labelled resources first, then records of
    clusters that have nothing left (kept or not). Goes on after a cluster it cannot remove; then
    raises."""
    states = {c.name: c for c in Cluster.all()}
    removed, failures = [], []
    for name, labels in registry.all_clusters().items():
        state = states.get(name)
        if _kept(labels, state) or _alive(labels.get(LABEL_PID, "")):
            continue
        removed.append(name)
        if not dry_run:
            try:
                delete_cluster(name)
            except CleanupError as exc:
                failures.extend(exc.leftovers)
    leftovers = registry.all_clusters()
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
    left = [n for n, labels in registry.all_clusters().items()
            if labels.get(LABEL_SESSION) == session and labels.get(LABEL_KEEP) != "true"]  # fmt: skip
    for name in left:
        with contextlib.suppress(HarnessError):
            delete_cluster(name)
    return left


def _orphaned(state: Cluster) -> bool:
    """A record here of a cluster with nothing left on any backend (its process gone): deleted from
    another cache, or by hand. Kept ones too: there is nothing left to keep."""
    return not _alive(str(state.pid)) and registry.get(state.provider).makes_resources


@contextlib.contextmanager
def managed_cluster(spec: Any, provider: str = "kind", keep: bool = False, phased: bool = False,
                    progress: Progress | None = None, kubeconfig: Path | None = None,
                    owner: dict[str, str] | None = None) -> Iterator[Cluster]:  # fmt: skip
    """A cluster for the length of a ``with`` block; deleted on exit (even on error) unless ``keep``.

    Usable without pytest::

        with managed_cluster(spec_from_kwargs(workers=2), provider="kubeadm") as c:
            print(c.kubectl("get", "nodes"))
    """
    cluster = create_cluster(spec, provider=provider, keep=keep, keep_failed=keep, phased=phased,
                             progress=progress, kubeconfig=kubeconfig, owner=owner)  # fmt: skip
    try:
        yield cluster
    finally:
        if keep:
            (progress or Progress()).say(f"kept cluster {cluster.name}; kubeconfig {cluster.kubeconfig}")
        else:
            delete_cluster(cluster.name)
