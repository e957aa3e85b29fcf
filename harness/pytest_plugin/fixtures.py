"""Fixtures: the node image, the clusters tests ask for (shared across xdist workers, or private
for disruptive tests), kubernetes clients, per-test namespaces, a factory for private clusters.

Every setting is a fixture (``cluster_provider``, ``cluster_spec``, ``keep_cluster``, ...) that a
conftest.py can override; the logic itself (``harness.lifecycle.managed_cluster``,
``harness.pytest_plugin.sharing.Registry``) works without pytest.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.cluster import Cluster
from harness.images.build import BuildOptions, build_node_image
from harness.k8s.client import K8s
from harness.lifecycle import create_cluster, delete_cluster
from harness.progress import Progress
from harness.providers.base import xdist_worker
from harness.pytest_plugin import markers
from harness.pytest_plugin.session import session_dir
from harness.pytest_plugin.sharing import Registry, cluster_key
from harness.spec import ClusterSpec, load_spec, spec_from_kwargs


@pytest.fixture(scope="session")
def node_image(pytestconfig: pytest.Config) -> str:
    """``--node-image`` if given, else the default image (built, or found up to date in Docker)."""
    return pytestconfig.getoption("node_image") or build_node_image(BuildOptions(), Progress(tick=60))


@pytest.fixture(scope="session")
def keep_cluster(pytestconfig: pytest.Config) -> bool:
    return bool(pytestconfig.getoption("keep_cluster"))


@pytest.fixture(scope="session")
def cluster_provider(pytestconfig: pytest.Config) -> str:
    return str(pytestconfig.getoption("provider"))


@pytest.fixture(scope="session")
def cluster_kubeconfig(pytestconfig: pytest.Config) -> Path | None:
    value = pytestconfig.getoption("kubeconfig")
    return Path(value) if value else None


@pytest.fixture(scope="session")
def cluster_spec(pytestconfig: pytest.Config, node_image: str) -> ClusterSpec:
    """``--spec FILE`` if given, else 1 control plane + 2 workers; the node image filled in."""
    path = pytestconfig.getoption("spec")
    spec = load_spec(path) if path else spec_from_kwargs(control_planes=1, workers=2)
    return spec if spec.node_image else spec.model_copy(update={"node_image": node_image})


class Pool:
    """This worker's view of the session's shared clusters."""

    def __init__(self, registry: Registry, kubeconfig: Path | None, reuse: str | None = None) -> None:
        self.registry, self.kubeconfig, self.reuse = registry, kubeconfig, reuse
        self.local: dict[str, Cluster] = {}

    def shared(self, provider: str, spec: ClusterSpec) -> Cluster:
        if self.reuse:
            return Cluster.load(self.reuse)
        key = cluster_key(provider, spec)
        if key not in self.local:

            def make() -> Cluster:
                return create_cluster(spec, provider=provider, progress=Progress(tick=60), kubeconfig=self.kubeconfig)

            self.local[key] = self.registry.acquire(key, xdist_worker(), make)
        return self.local[key]


@pytest.fixture(scope="session")
def cluster_pool(pytestconfig: pytest.Config, cluster_kubeconfig: Path | None) -> Pool:
    """The session's shared clusters (``--reuse-cluster NAME`` attaches every test to a kept one)."""
    return Pool(Registry(session_dir()), cluster_kubeconfig, pytestconfig.getoption("reuse_cluster"))


@pytest.fixture(scope="session", autouse=True)
def _prefetch_shared_clusters(request: pytest.FixtureRequest) -> Iterator[None]:
    """Under xdist, worker N starts making every N-th shared cluster the session needs at once, in
    a thread, so different clusters come up side by side instead of when a test first asks."""
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    items = [i for i in request.session.items if markers.uses_cluster(i) and not i.get_closest_marker("disruptive")]
    if count < 2 or not items or request.config.getoption("reuse_cluster"):
        yield
        return
    pool: Pool = request.getfixturevalue("cluster_pool")
    spec, provider = request.getfixturevalue("cluster_spec"), request.getfixturevalue("cluster_provider")
    wanted: dict[str, markers.Request] = {}
    for item in items:
        with contextlib.suppress(Exception):  # misuse is reported by the test itself
            want = markers.request_for(item, spec, provider)
            wanted.setdefault(cluster_key(want.provider, want.spec), want)
    index = int(re.sub(r"\D", "", xdist_worker()) or 0)
    mine = list(wanted.values())[index::count]

    def make() -> None:
        for want in mine:
            with contextlib.suppress(Exception):  # the tests that need it report the error
                pool.shared(want.provider, want.spec)

    thread = threading.Thread(target=make, name="kube-harness-prefetch", daemon=True)
    thread.start()
    yield
    thread.join()


def _private_name(nodeid: str) -> str:
    stem = re.sub(r"[^a-z0-9]+", "-", nodeid.split("::")[-1].lower()).strip("-")[:20].strip("-")
    return f"kh-p-{stem}-{hashlib.sha256(nodeid.encode()).hexdigest()[:5]}"


@pytest.fixture
def cluster_factory(
    request: pytest.FixtureRequest,
    cluster_spec: ClusterSpec,
    cluster_provider: str,
    keep_cluster: bool,
    cluster_kubeconfig: Path | None,
) -> Iterator[Callable[..., Cluster]]:
    """``cluster_factory(workers=3, provider="kubeadm")``: a private cluster, deleted after the test."""
    made: list[Cluster] = []

    def make(provider: str | None = None, spec: ClusterSpec | None = None, **fields: Any) -> Cluster:
        base = (spec or cluster_spec).model_dump(mode="json", exclude_unset=True)
        name = f"{_private_name(request.node.nodeid)}{len(made) or ''}"
        full = spec_from_kwargs(**{**base, **fields, "name": name})
        made.append(create_cluster(full, provider=provider or cluster_provider, progress=Progress(tick=60),
                                   kubeconfig=cluster_kubeconfig))  # fmt: skip
        return made[-1]

    yield make
    if not keep_cluster:
        for c in made:
            delete_cluster(c.name)


@pytest.fixture
def cluster(request: pytest.FixtureRequest, cluster_pool: Pool, cluster_spec: ClusterSpec,
            cluster_provider: str, cluster_factory: Callable[..., Cluster]) -> Cluster:  # fmt: skip
    """The cluster the test asks for (markers ``cluster``, ``provider``, ``disruptive``): shared by
    every test and xdist worker wanting the same one, or private when the test is disruptive."""
    want = markers.request_for(request.node, cluster_spec, cluster_provider)
    if want.disruptive:
        return cluster_factory(provider=want.provider, spec=want.spec)
    return cluster_pool.shared(want.provider, want.spec)


@pytest.fixture(scope="module")
def module_cluster(request: pytest.FixtureRequest, cluster_spec: ClusterSpec, cluster_provider: str,
                   keep_cluster: bool, cluster_kubeconfig: Path | None) -> Iterator[Cluster]:  # fmt: skip
    """A private cluster for one module's tests, which run on it one after the other (the module's
    ``cluster``/``provider`` markers say which). For disruptive scenarios that revert their damage:
    a module overrides ``cluster`` with it. Under xdist each worker running the module has its own."""
    want = markers.request_for(request.node, cluster_spec, cluster_provider)
    base = want.spec.model_dump(mode="json", exclude_unset=True)
    spec = spec_from_kwargs(**{**base, "name": _private_name(request.node.nodeid)})
    cluster = create_cluster(spec, provider=want.provider, progress=Progress(tick=60), kubeconfig=cluster_kubeconfig)
    yield cluster
    if not keep_cluster:
        delete_cluster(cluster.name)


class Faults:
    """``faults.kill_node("demo-worker2")`` etc. bound to the test's cluster; every fault entered
    through it is reverted at teardown, even if the test left it injected."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster, self.made = cluster, list[Any]()

    def __getattr__(self, name: str) -> Callable[..., Any]:
        from harness import faults

        make = getattr(faults, name)

        def bound(*args: Any, **kwargs: Any) -> Any:
            self.made.append(make(self.cluster, *args, **kwargs))
            return self.made[-1]

        return bound


@pytest.fixture
def faults(cluster: Cluster) -> Iterator[Faults]:
    """Fault injection on the test's cluster (see ``harness.faults``), always reverted."""
    helper = Faults(cluster)
    yield helper
    for fault in reversed(helper.made):
        if fault.injected_at and not fault.reverted_at:
            fault.__exit__(None, None, None)


@pytest.fixture
def k8s(cluster: Cluster) -> Iterator[K8s]:
    """kubernetes Python clients (``k8s.core``, ``k8s.apps``, ...) bound to the test's cluster."""
    client = K8s(cluster.kubeconfig)
    yield client
    client.close()


@pytest.fixture
def namespace(request: pytest.FixtureRequest, cluster: Cluster) -> Iterator[str]:
    """A fresh namespace for the test, deleted afterwards (without waiting)."""
    digest = hashlib.sha256(f"{request.node.nodeid}{os.getpid()}".encode()).hexdigest()[:6]
    name = f"kh-{re.sub(r'[^a-z0-9]+', '-', request.node.name.lower())[:40].strip('-')}-{digest}"
    cluster.kubectl("create", "namespace", name)
    request.node.stash[NAMESPACE_KEY] = name
    yield name
    cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)


NAMESPACE_KEY = pytest.StashKey[str]()
