"""harness.lifecycle (provider choice, name checks, gc) and harness.providers.base.labels.

Docker is never reached: ``no_docker`` makes the SDK client refuse, and the label listing gc
reads is monkeypatched.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

from harness import lifecycle
from harness.cluster import Cluster
from harness.errors import UsageError
from harness.providers import base, registry
from harness.providers.base import LABEL_CLUSTER, LABEL_PID, LABEL_ROLE, LABEL_RUN, LABEL_SESSION, LABEL_WORKER, labels
from harness.providers.containers import dockerapi
from harness.providers.vms import virsh

pytestmark = [pytest.mark.unit, pytest.mark.usefixtures("no_docker")]

Labelled = Callable[[dict[str, dict[str, str]]], None]


@pytest.fixture
def labelled(monkeypatch: pytest.MonkeyPatch) -> Labelled:
    """``labelled({name: labels})``: what ``dockerapi.labelled_clusters`` reports."""

    def _set(clusters: dict[str, dict[str, str]]) -> None:
        monkeypatch.setattr(dockerapi, "labelled_clusters", lambda: {k: dict(v) for k, v in clusters.items()})
        monkeypatch.setattr(dockerapi, "resources", lambda selector: [])  # no kind nodes either
        monkeypatch.setattr(virsh, "available", lambda: False)  # no libvirt: no VM clusters

    return _set


# -- provider_for ------------------------------------------------------------------------------------


def test_unknown_provider_lists_known_ones() -> None:
    with pytest.raises(UsageError) as err:
        lifecycle.provider_for("nope")
    assert "'nope'" in err.value.message
    assert "kind" in (err.value.fix or "") and "kubeadm" in (err.value.fix or "")


def test_phased_kind_is_refused() -> None:
    with pytest.raises(UsageError) as err:
        lifecycle.provider_for("kind", phased=True)
    assert "--phased needs the kubeadm or vagrant provider" in err.value.message
    assert "--provider kubeadm" in (err.value.fix or "")


@pytest.mark.parametrize(("name", "phased"), [("kind", False), ("kubeadm", False), ("kubeadm", True)])
def test_known_providers(name: str, phased: bool) -> None:
    provider = lifecycle.provider_for(name, phased=phased)
    assert provider.name == name
    assert getattr(provider, "phased", False) is phased


# -- _check_name -------------------------------------------------------------------------------------

BAD_NAMES = ["", "Demo", "-demo", "demo-", "de_mo", "de.mo", "démo", "a" * 41, "demo\n", "demo\nx"]


@pytest.mark.parametrize("name", BAD_NAMES, ids=repr)
def test_bad_names_refused_before_docker(name: str, no_docker: list[str]) -> None:
    with pytest.raises(UsageError, match="is not a DNS label"):
        lifecycle._check_name(name, registry.get("kind"))
    assert no_docker == []


@pytest.mark.parametrize("name", ["a", "kh-1a2b3c", "a" * 40, "0demo9"])
def test_free_names_pass(name: str, labelled: Labelled) -> None:
    labelled({"other": {}})
    lifecycle._check_name(name, registry.get("kind"))


def test_name_of_labelled_resources_is_taken(labelled: Labelled) -> None:
    labelled({"taken": {LABEL_CLUSTER: "taken"}})
    with pytest.raises(UsageError, match="a cluster named 'taken' already exists") as err:
        lifecycle._check_name("taken", registry.get("kubeadm"))
    assert "kube-harness delete taken" in (err.value.fix or "")


def test_name_with_state_is_taken_without_asking_docker(no_docker: list[str]) -> None:
    Cluster("saved", "kind", "run").save()
    with pytest.raises(UsageError, match="already exists"):
        lifecycle._check_name("saved", registry.get("kind"))
    assert no_docker == []


def test_existing_provider_checks_names_without_docker(no_docker: list[str]) -> None:
    lifecycle._check_name("remote", registry.get("existing"))
    Cluster("remote", "existing", "run").save()
    with pytest.raises(UsageError, match="already exists"):
        lifecycle._check_name("remote", registry.get("existing"))
    assert no_docker == []


# -- gc ----------------------------------------------------------------------------------------------


@pytest.fixture
def deleted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    names: list[str] = []
    monkeypatch.setattr(lifecycle, "delete_cluster", lambda name: names.append(name) or [])
    return names


@pytest.fixture
def leftovers(labelled: Labelled, dead_pid: str) -> None:
    """dead: its process is gone; alive: this process; kept: gone but kept; unlabelled: no pid label."""
    labelled({
        "dead": {LABEL_CLUSTER: "dead", LABEL_PID: dead_pid},
        "alive": {LABEL_CLUSTER: "alive", LABEL_PID: str(os.getpid())},
        "kept": {LABEL_CLUSTER: "kept", LABEL_PID: dead_pid},
    })  # fmt: skip
    Cluster("kept", "kubeadm", "run", keep=True, pid=int(dead_pid)).save()
    Cluster("alive", "kubeadm", "run").save()


@pytest.mark.usefixtures("leftovers")
def test_gc_removes_only_dead_unkept_clusters(deleted: list[str]) -> None:
    assert lifecycle.gc() == ["dead"]
    assert deleted == ["dead"]
    assert {c.name for c in Cluster.all()} == {"kept", "alive"}


@pytest.mark.usefixtures("leftovers")
def test_gc_dry_run_removes_nothing(deleted: list[str]) -> None:
    assert lifecycle.gc(dry_run=True) == ["dead"]
    assert deleted == []
    assert {c.name for c in Cluster.all()} == {"kept", "alive"}


def test_gc_treats_missing_pid_label_as_dead(labelled: Labelled, deleted: list[str]) -> None:
    labelled({"old": {LABEL_CLUSTER: "old"}})
    assert lifecycle.gc() == ["old"]
    assert deleted == ["old"]


@pytest.mark.parametrize("dry_run", [False, True])
def test_gc_forgets_records_with_nothing_left(labelled: Labelled, deleted: list[str], dead_pid: str,
                                              dry_run: bool) -> None:  # fmt: skip
    labelled({})
    Cluster("stale", "kubeadm", "run", pid=int(dead_pid)).save()
    Cluster("kept", "kubeadm", "run", keep=True, pid=int(dead_pid)).save()
    Cluster("external", "existing", "run", pid=int(dead_pid)).save()
    Cluster("mine", "kind", "run").save()
    assert sorted(lifecycle.gc(dry_run=dry_run)) == ["kept", "stale"]  # nothing left of either on Docker
    assert deleted == []
    remaining = {"external", "mine"} | ({"stale", "kept"} if dry_run else set())
    assert {c.name for c in Cluster.all()} == remaining


# -- labels ------------------------------------------------------------------------------------------


def test_labels_come_from_the_caller_not_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Providers never read pytest's environment: who made a cluster is what the caller says."""
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw3")
    monkeypatch.setenv("KUBE_HARNESS_SESSION", "s1")
    out = labels("demo", "run-1")
    assert out == {LABEL_CLUSTER: "demo", LABEL_RUN: "run-1"}


def test_cluster_labels_carry_the_pid_and_the_owner_given() -> None:
    cluster = Cluster("demo", "kubeadm", "run-1", owner={LABEL_WORKER: "gw3", LABEL_SESSION: "s1"})
    out = cluster.labels(role=base.WORKER)
    assert out[LABEL_WORKER] == "gw3" and out[LABEL_SESSION] == "s1" and out[LABEL_ROLE] == "worker"
    assert out[LABEL_PID] == str(os.getpid()) and out[base.LABEL_PROVIDER] == "kubeadm"
    assert {LABEL_CLUSTER, LABEL_RUN} <= out.keys()


def test_the_plugin_says_which_worker_and_session(monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.pytest_plugin.session import owner

    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    monkeypatch.setenv("KUBE_HARNESS_SESSION", "abc")
    assert owner() == {LABEL_WORKER: "gw1", LABEL_SESSION: "abc"}
    monkeypatch.delenv("PYTEST_XDIST_WORKER")
    monkeypatch.delenv("KUBE_HARNESS_SESSION")
    assert owner() == {LABEL_WORKER: "main"}


@pytest.mark.parametrize("role", [None, ""])
def test_labels_without_role(role: str | None) -> None:
    assert LABEL_ROLE not in labels("demo", "run-1", role=role)
