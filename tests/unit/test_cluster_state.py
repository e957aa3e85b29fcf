"""harness.cluster: the persisted cluster handle (in the per-test cache) and node lookup."""

from __future__ import annotations

import json
import os

import pytest

from harness.cluster import Cluster, NodeInfo, state_dir
from harness.errors import UsageError
from harness.paths import cache_root
from harness.providers.containers.node import ContainerNode

pytestmark = pytest.mark.unit

CP, WORKER, LB = "control-plane", "worker", "load-balancer"


def make(name: str = "demo", **kw: object) -> Cluster:
    nodes = [NodeInfo(f"{name}-control-plane", CP, "172.18.0.2"), NodeInfo(f"{name}-control-plane2", CP, "172.18.0.3"),
             NodeInfo(f"{name}-worker", WORKER, "172.18.0.4"), NodeInfo(f"{name}-worker2", WORKER, "172.18.0.5"),
             NodeInfo(f"{name}-external-load-balancer", LB, "172.18.0.6")]  # fmt: skip
    fields: dict[str, object] = {"kubeconfig": "/tmp/kubeconfig", "nodes": nodes, "endpoint": "https://172.18.0.6:6443",
                                 "status": "ready", "spec": {"workers": 2, "control_planes": 2}}  # fmt: skip
    return Cluster(name, "kubeadm", "20250101-000000-abcdef", **{**fields, **kw})  # type: ignore[arg-type]


@pytest.fixture
def demo() -> Cluster:
    return make()


def test_state_lives_in_the_cache(demo: Cluster) -> None:
    demo.save()
    assert demo.state_path == cache_root() / "state" / "clusters" / "demo.json"
    assert demo.state_path.is_file()
    assert Cluster.state_dir_path("demo") == demo.state_path


def test_save_load_round_trip(demo: Cluster) -> None:
    demo.keep = True
    demo.save()
    loaded = Cluster.load("demo")
    assert loaded == demo
    assert all(isinstance(n, NodeInfo) for n in loaded.nodes)


def test_save_overwrites(demo: Cluster) -> None:
    demo.save()
    demo.status = "failed"
    demo.save()
    assert Cluster.load("demo").status == "failed"


def test_state_without_newer_fields_loads() -> None:
    doc = {"name": "old", "provider": "kind", "run_id": "r", "nodes": [{"name": "n", "role": CP}]}
    state_dir().mkdir(parents=True, exist_ok=True)
    (state_dir() / "old.json").write_text(json.dumps(doc))
    old = Cluster.load("old")
    assert (old.name, old.provider, old.nodes) == ("old", "kind", [NodeInfo("n", CP)])


def test_forget(demo: Cluster) -> None:
    demo.save()
    demo.forget()
    demo.forget()  # idempotent
    assert not demo.state_path.exists()


def test_new_cluster_records_the_creating_process() -> None:
    assert make().pid == os.getpid()


@pytest.mark.parametrize(("saved", "known"), [([], "none"), (["beta", "alpha"], "alpha, beta")])
def test_load_unknown_lists_known_clusters(saved: list[str], known: str) -> None:
    for name in saved:
        make(name).save()
    with pytest.raises(UsageError) as err:
        Cluster.load("ghost")
    assert err.value.exit_code == 2
    assert "no cluster named 'ghost'" in err.value.message
    assert f"(known: {known})" in (err.value.fix or "")


def test_all_is_sorted_by_name() -> None:
    for name in ("gamma", "alpha", "beta"):
        make(name).save()
    assert [c.name for c in Cluster.all()] == ["alpha", "beta", "gamma"]


def test_all_without_state_is_empty() -> None:
    assert Cluster.all() == []


# -- nodes -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "name", "role"),
    [
        ("demo-control-plane", "demo-control-plane", CP),
        ("control-plane", "demo-control-plane", CP),
        ("control-plane2", "demo-control-plane2", CP),
        ("demo-worker2", "demo-worker2", WORKER),
        ("worker", "demo-worker", WORKER),
        ("external-load-balancer", "demo-external-load-balancer", LB),
    ],
)
def test_node_by_full_or_short_name(demo: Cluster, query: str, name: str, role: str) -> None:
    node = demo.node(query)
    assert isinstance(node, ContainerNode)
    assert (node.name, node.role) == (name, role)


def test_unknown_node_lists_the_nodes(demo: Cluster) -> None:
    with pytest.raises(UsageError) as err:
        demo.node("worker3")
    assert "no node 'worker3' in cluster demo" in err.value.message
    assert all(n.name in (err.value.fix or "") for n in demo.nodes)


def test_role_filters(demo: Cluster) -> None:
    assert [n.name for n in demo.control_planes] == ["demo-control-plane", "demo-control-plane2"]
    assert [n.name for n in demo.workers] == ["demo-worker", "demo-worker2"]
    assert [n.name for n in demo.all_nodes] == ["demo-control-plane", "demo-control-plane2", "demo-worker",
                                                "demo-worker2"]  # fmt: skip
    assert all(isinstance(n, ContainerNode) for n in demo.all_nodes)


def test_role_filters_without_workers() -> None:
    single = make(nodes=[NodeInfo("demo-control-plane", CP)])
    assert [n.name for n in single.control_planes] == ["demo-control-plane"]
    assert single.workers == []


@pytest.mark.parametrize(("pattern", "names"), [
    ("@all", ["control-plane", "control-plane2", "worker", "worker2"]), ("@cp*", ["control-plane", "control-plane2"]),
    ("@cp2", ["control-plane2"]), ("@w*", ["worker", "worker2"]), ("@w1", ["worker"]),
    ("@lb", ["external-load-balancer"]), ("worker2", ["worker2"]),
])  # fmt: skip
def test_node_groups_as_kinder_names_them(demo: Cluster, pattern: str, names: list[str]) -> None:
    assert [n.name.removeprefix("demo-") for n in demo.select(pattern)] == names


@pytest.mark.parametrize("pattern", ["@w3", "@cp0", "@workers", "@", "nope"])
def test_unknown_node_groups_name_the_choices(demo: Cluster, pattern: str) -> None:
    with pytest.raises(UsageError, match="no node") as err:
        demo.select(pattern)
    assert "@cp*" in (err.value.fix or "") or "demo-worker" in (err.value.fix or "")
