"""Cleanup that cannot be derailed, with failures injected into it: resources vanishing while a
delete runs, a removal that fails, a listing that fails; the state left marked ``failed`` with
what is left; a losing create never touching the winner's resources; gc and kept clusters."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from docker.errors import APIError, NotFound

from harness import lifecycle
from harness.cluster import Cluster
from harness.errors import CleanupError, UsageError
from harness.providers import bringup
from harness.providers.base import LABEL_CLUSTER, LABEL_KEEP, LABEL_PID, LABEL_RUN, LABEL_SESSION
from harness.providers.containers import checks, dockerapi

pytestmark = pytest.mark.unit


class FakeAPI:
    """Containers, networks and volumes with labels; removals can vanish or fail on purpose."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}  # id -> {"kind", "name", "labels"}
        self.vanish: set[str] = set()  # removed by someone else just before our removal
        self.fail: dict[str, int] = {}  # id -> how many removals fail with a 500
        self.list_fails = 0

    def add(self, kind: str, name: str, **labels: str) -> None:
        self.items[name] = {"kind": kind, "name": name, "labels": labels}

    def _match(self, kind: str, filters: dict[str, Any]) -> list[dict[str, Any]]:
        if self.list_fails:
            self.list_fails -= 1
            raise APIError("daemon busy")
        wanted = filters["label"] if isinstance(filters["label"], list) else [filters["label"]]
        out = []
        for iid, item in self.items.items():
            ok = all((w.split("=", 1)[1] == item["labels"].get(w.split("=", 1)[0])) if "=" in w
                     else w in item["labels"] for w in wanted)  # fmt: skip
            if item["kind"] == kind and ok:
                out.append({"Id": iid, "Name": iid, "Names": [f"/{iid}"], "Labels": item["labels"]})
        return out

    def containers(self, all: bool, filters: dict[str, Any]) -> list[dict[str, Any]]:
        return self._match("container", filters)

    def networks(self, filters: dict[str, Any] | None = None, names: list[str] | None = None) -> list[dict[str, Any]]:
        if names is not None:
            return [{"Name": n} for n in names if n in self.items and self.items[n]["kind"] == "network"]
        return self._match("network", filters or {"label": LABEL_CLUSTER})

    def volumes(self, filters: dict[str, Any]) -> dict[str, Any]:
        return {"Volumes": self._match("volume", filters)}

    def _remove(self, iid: str) -> None:
        if iid in self.vanish:
            self.items.pop(iid, None)
            self.vanish.discard(iid)
            raise NotFound(f"No such object: {iid}")
        if self.fail.get(iid):
            self.fail[iid] -= 1
            raise APIError(
                f"cannot remove {iid}: device busy",
                response=SimpleNamespace(status_code=500, url="u", reason="device busy"),
            )  # type: ignore[arg-type]
        self.items.pop(iid)

    def remove_container(self, iid: str, force: bool, v: bool) -> None:
        self._remove(iid)

    def remove_network(self, iid: str) -> None:
        self._remove(iid)

    def remove_volume(self, iid: str, force: bool) -> None:
        self._remove(iid)


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> FakeAPI:
    fake = FakeAPI()
    monkeypatch.setattr(dockerapi, "client", lambda: SimpleNamespace(api=fake))
    monkeypatch.setattr(dockerapi.time, "sleep", lambda s: None)
    return fake


def demo(api: FakeAPI, run: str = "r1", cluster: str = "demo") -> None:
    for kind, name in [("container", f"{cluster}-control-plane"), ("container", f"{cluster}-worker"),
                       ("network", f"kh-{cluster}"), ("volume", f"{cluster}-worker-var")]:  # fmt: skip
        api.add(kind, name, **{LABEL_CLUSTER: cluster, LABEL_RUN: run})


def test_resources_vanishing_mid_delete_count_as_removed(api: FakeAPI) -> None:
    demo(api)
    api.vanish = {"demo-worker", "kh-demo"}
    gone = dockerapi.remove_cluster("demo")
    assert api.items == {}
    assert "container demo-control-plane" in gone and "volume demo-worker-var" in gone


def test_one_failing_removal_does_not_stop_the_rest_and_is_retried(api: FakeAPI) -> None:
    demo(api)
    api.fail = {"demo-control-plane": 1}  # fails once, then goes
    dockerapi.remove_cluster("demo")
    assert api.items == {}


def test_what_cannot_be_removed_is_named(api: FakeAPI) -> None:
    demo(api)
    api.fail = {"kh-demo": 99}
    with pytest.raises(CleanupError) as info:
        dockerapi.remove_cluster("demo")
    assert info.value.leftovers == ["network kh-demo"]
    assert "device busy" in info.value.message and "kube-harness delete" in (info.value.fix or "")
    assert set(api.items) == {"kh-demo"}, "everything else went"


def test_a_failing_listing_is_retried(api: FakeAPI) -> None:
    demo(api)
    api.list_fails = 1
    dockerapi.remove_cluster("demo")
    assert api.items == {}


def test_removal_by_run_spares_another_runs_resources_of_the_same_name(api: FakeAPI) -> None:
    demo(api, run="winner")
    api.add("volume", "demo-loser-var", **{LABEL_CLUSTER: "demo", LABEL_RUN: "loser"})
    dockerapi.remove_cluster("demo", run="loser")
    assert set(api.items) == {"demo-control-plane", "demo-worker", "kh-demo", "demo-worker-var"}


def test_network_claim_refuses_a_name_another_run_holds(api: FakeAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    demo(api, run="winner")
    with pytest.raises(UsageError, match="a cluster named 'demo' already exists"):
        dockerapi.create_network("kh-demo-2", {LABEL_CLUSTER: "demo", LABEL_RUN: "loser"})
    assert len(api.items) == 4


# --- the state after a failed delete --------------------------------------------------------------


def test_failed_cleanup_marks_the_state_failed_with_the_leftovers(api: FakeAPI) -> None:
    demo(api)
    api.fail = {"kh-demo": 99}
    cluster = Cluster("demo", "kubeadm", "r1", status="creating")
    cluster.save()
    with pytest.raises(CleanupError):
        bringup.forget_after(cluster, lambda: dockerapi.remove_cluster("demo", "r1"))
    state = Cluster.load("demo")
    assert (state.status, state.leftovers) == ("failed", ["network kh-demo"])


def test_cleanup_of_a_losing_run_leaves_the_winners_state(api: FakeAPI) -> None:
    Cluster("demo", "kubeadm", "winner", status="ready").save()
    loser = Cluster("demo", "kubeadm", "loser")
    bringup.forget_after(loser, lambda: [])
    assert Cluster.load("demo").run_id == "winner"


def test_delete_marks_the_state_failed_and_keeps_it(api: FakeAPI) -> None:
    demo(api)
    api.fail = {"demo-worker": 99}
    Cluster("demo", "kubeadm", "r1", status="ready").save()
    with pytest.raises(CleanupError):
        lifecycle.delete_cluster("demo")
    assert Cluster.load("demo").leftovers == ["container demo-worker"]
    api.fail = {}
    lifecycle.delete_cluster("demo")  # deleting again finishes the job
    assert not Cluster.state_dir_path("demo").exists() and api.items == {}


def test_claim_is_exclusive() -> None:
    Cluster("demo", "kind", "first").claim()
    with pytest.raises(UsageError, match="already exists"):
        Cluster("demo", "kind", "second").claim()
    assert Cluster.load("demo").run_id == "first"


# --- keep and gc ------------------------------------------------------------------------------------


def test_gc_spares_a_cluster_kept_by_its_label_even_without_state(api: FakeAPI, dead_pid: str) -> None:
    pid = dead_pid
    api.add("network", "kh-kept", **{LABEL_CLUSTER: "kept", LABEL_RUN: "r", LABEL_PID: pid, LABEL_KEEP: "true"})
    api.add("container", "kept-worker", **{LABEL_CLUSTER: "kept", LABEL_RUN: "r", LABEL_PID: pid})
    demo(api, cluster="orphan")
    for item in api.items.values():
        item["labels"].setdefault(LABEL_PID, pid)
    assert lifecycle.gc() == ["orphan"]
    assert {i["labels"][LABEL_CLUSTER] for i in api.items.values()} == {"kept"}


def test_gc_goes_on_after_a_cluster_it_cannot_remove(api: FakeAPI, dead_pid: str) -> None:
    pid = dead_pid
    for name in ("stuck", "free"):
        demo(api, cluster=name)
    for item in api.items.values():
        item["labels"][LABEL_PID] = pid
    api.fail = {"kh-stuck": 99}
    with pytest.raises(CleanupError) as info:
        lifecycle.gc()
    assert info.value.leftovers == ["network kh-stuck"]
    assert set(api.items) == {"kh-stuck"}


def test_session_sweep_deletes_the_sessions_unkept_clusters_only(api: FakeAPI) -> None:
    for name, session, keep in [("mine", "s1", ""), ("mine-kept", "s1", "true"), ("other", "s2", "")]:
        labels = {LABEL_CLUSTER: name, LABEL_RUN: "r", LABEL_SESSION: session}
        api.add("network", f"kh-{name}", **({**labels, LABEL_KEEP: keep} if keep else labels))
    assert lifecycle.sweep_session("s1") == ["mine"]
    assert set(api.items) == {"kh-mine-kept", "kh-other"}


def test_labelled_clusters_say_kept_when_any_resource_does(api: FakeAPI) -> None:
    api.add("container", "a", **{LABEL_CLUSTER: "c", LABEL_RUN: "r"})
    api.add("network", "b", **{LABEL_CLUSTER: "c", LABEL_RUN: "r", LABEL_KEEP: "true"})
    assert dockerapi.labelled_clusters()["c"][LABEL_KEEP] == "true"


# --- never pull --------------------------------------------------------------------------------------


def test_a_node_image_not_in_the_local_store_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checks, "local_image", lambda image: False)
    spec = SimpleNamespace(node_image="example.com/custom/node:v9", control_planes=1, join_discovery=None)
    with pytest.raises(UsageError) as info:
        checks.require_node_image(spec)
    assert "example.com/custom/node:v9" in info.value.message and "kube-harness image build" in (info.value.fix or "")


@pytest.mark.parametrize(("control_planes", "envoy_here", "refused"), [(1, False, False), (2, False, True),
                                                                       (3, True, False)])  # fmt: skip
def test_kind_ha_needs_kinds_load_balancer_image_locally(monkeypatch: pytest.MonkeyPatch, control_planes: int,
                                                         envoy_here: bool, refused: bool) -> None:  # fmt: skip
    monkeypatch.setattr(checks, "local_image", lambda image: envoy_here or image != checks.KIND_LB_IMAGE)
    monkeypatch.setattr(checks, "check_host_subnets", lambda spec: None)
    spec = SimpleNamespace(node_image=None, control_planes=control_planes, join_discovery=None)
    if not refused:
        checks.validate_kind(spec)
        return
    with pytest.raises(UsageError) as info:
        checks.validate_kind(spec)
    assert checks.KIND_LB_IMAGE in info.value.message and "--provider kubeadm" in (info.value.fix or "")


def test_pod_subnet_on_a_host_route_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checks, "host_taken", lambda: [("host route dev eth0", "10.244.0.0/20")])
    spec = SimpleNamespace(networking=SimpleNamespace(pod_subnet="10.244.0.0/16", service_subnet="10.96.0.0/16"))
    with pytest.raises(UsageError, match=r"pod_subnet 10\.244\.0\.0/16 overlaps host route dev eth0"):
        checks.check_host_subnets(spec)
