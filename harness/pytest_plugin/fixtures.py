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
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.cluster import Cluster
from harness.errors import UsageError
from harness.images.build import BuildOptions, build_node_image
from harness.k8s.client import K8s, client_for
from harness.lifecycle import create_cluster, delete_cluster
from harness.progress import Progress
from harness.pytest_plugin import markers, reuse
from harness.pytest_plugin.durations import CLUSTER_WAIT
from harness.pytest_plugin.session import mark_used, owner, session_dir, session_id, xdist_worker
from harness.pytest_plugin.sharing import Registry, cluster_key
from harness.spec import ClusterSpec, load_spec, spec_from_kwargs


@pytest.fixture(scope="session")
def node_image(pytestconfig: pytest.Config) -> str:
    """``--kh-node-image`` if given, else the default image (built, or found up to date in Docker)."""
    return pytestconfig.getoption("kh_node_image") or build_node_image(BuildOptions(), Progress(tick=60))


@pytest.fixture(scope="session")
def keep_cluster(pytestconfig: pytest.Config) -> bool:
    return bool(pytestconfig.getoption("kh_keep_cluster"))


@pytest.fixture(scope="session")
def cluster_provider(pytestconfig: pytest.Config) -> str:
    return str(pytestconfig.getoption("kh_provider"))


@pytest.fixture(scope="session")
def cluster_kubeconfig(pytestconfig: pytest.Config) -> Path | None:
    value = pytestconfig.getoption("kh_kubeconfig")
    return Path(value) if value else None


@pytest.fixture(scope="session")
def cluster_spec(pytestconfig: pytest.Config, node_image: str) -> ClusterSpec:
    """``--kh-spec FILE`` if given, else 1 control plane + 2 workers; the node image filled in."""
    path = pytestconfig.getoption("kh_spec")
    spec = load_spec(path) if path else spec_from_kwargs(control_planes=1, workers=2)
    return spec if spec.node_image else spec.model_copy(update={"node_image": node_image})


class Pool:
    """This worker's view of the session's shared clusters.

    ``plan`` (test node id -> cluster key, for every test of the session that wants a shared
    cluster) lets ``test_done`` release a cluster as soon as its last test has ended, in a thread.
    ``reuse`` (a name) or ``reuse_keyed`` keep them between runs (``reuse.py``); ``fresh`` remakes them."""

    def __init__(self, registry: Registry, kubeconfig: Path | None, reuse: str | None = None,
                 keep: bool = False, reuse_keyed: bool = False, fresh: bool = False) -> None:  # fmt: skip
        self.registry, self.kubeconfig, self.reuse, self.keep = registry, kubeconfig, reuse, keep
        self.reuse_keyed, self.fresh = reuse_keyed, fresh
        self.local: dict[str, Cluster] = {}
        self.plan: dict[str, str] = {}
        self.releasing: list[threading.Thread] = []

    @property
    def kept(self) -> bool:
        """Shared clusters outlive the session (kept, or reused)."""
        return self.keep or bool(self.reuse) or self.reuse_keyed

    def shared(self, provider: str, spec: ClusterSpec, background: bool = False, asked: bool = True) -> Cluster:
        """The shared cluster for (provider, spec); ``background``: made ahead of need, yielding the
        CPU (see harness.providers.containers.priority) until it is ready or a test asks for it.
        ``asked``: markers asked for this cluster (a named reused one must then be it)."""
        key = cluster_key(provider, spec)
        mark_used()
        if key not in self.local:
            if not background:
                self.registry.wanted_now(key)

            def make(full: ClusterSpec = spec, prov: str = provider) -> Cluster:
                until = (lambda: self.registry.is_wanted_now(key)) if background else None
                return create_cluster(full, provider=prov, keep=self.kept, progress=Progress(tick=60),
                                      kubeconfig=self.kubeconfig, background_until=until, owner=owner(),
                                      phase_cases=True)  # fmt: skip

            name = self.reuse or (reuse.keyed_name(key) if self.reuse_keyed else None)
            if name:
                self.local[key] = self.registry.acquire(
                    key,
                    xdist_worker(),
                    lambda: reuse.reused(name, provider, spec, self.fresh, make, strict=asked, healthy=not self.reuse),
                )
            else:
                self.local[key] = self.registry.acquire(key, xdist_worker(), make)
        return self.local[key]

    def test_done(self, nodeid: str) -> None:
        key = self.plan.get(nodeid)
        if key is None or self.kept:
            return
        name = self.registry.finished(key, nodeid, sum(k == key for k in self.plan.values()))
        if name:
            self.local.pop(key, None)
            thread = threading.Thread(target=_delete_quietly, args=(name,), name=f"kube-harness-release-{name}")
            thread.start()
            self.releasing.append(thread)

    def join(self) -> None:
        for thread in self.releasing:
            thread.join()


def _delete_quietly(name: str) -> None:
    try:
        delete_cluster(name)
    except Exception as exc:  # a release thread must not fail the session; gc collects what is left
        print(f"kube-harness: could not delete cluster {name} after its last test ({exc}); "
              "`kube-harness gc` removes it", file=sys.stderr)  # fmt: skip


POOL_KEY = pytest.StashKey[Pool]()


@pytest.fixture(scope="session")
def cluster_pool(pytestconfig: pytest.Config, cluster_kubeconfig: Path | None) -> Pool:
    """The session's shared clusters (``--kh-reuse-cluster NAME`` attaches every test to a kept one)."""
    opt = pytestconfig.getoption
    pool = Pool(Registry(session_dir()), cluster_kubeconfig, opt("kh_reuse_cluster"), keep=bool(opt("kh_keep_cluster")),
                reuse_keyed=bool(opt("kh_reuse")), fresh=bool(opt("kh_create_cluster")))  # fmt: skip
    pytestconfig.stash[POOL_KEY] = pool
    return pool


def shared_plan(items: list[pytest.Item], spec: ClusterSpec, provider: str) -> dict[str, tuple[str, markers.Request]]:
    """node id -> (cluster key, request) of every test that wants a shared cluster."""
    plan = {}
    for item in items:
        if markers.uses_cluster(item) and not item.get_closest_marker("kh_disruptive"):
            with contextlib.suppress(Exception):  # misuse is reported by the test itself
                want = markers.request_for(item, spec, provider)
                plan[item.nodeid] = (cluster_key(want.provider, want.spec), want)
    return plan


@pytest.fixture(scope="session", autouse=True)
def _shared_clusters(request: pytest.FixtureRequest) -> Iterator[None]:
    """Plans the session's shared clusters (which tests want which, so each is released after its
    last test). Under xdist, worker N also starts making every N-th of them at once, in a thread,
    so different clusters come up side by side instead of when a test first asks; all but the
    first (the one the first tests want) in the background."""
    if not any(markers.uses_cluster(i) for i in request.session.items):
        yield
        return
    pool: Pool = request.getfixturevalue("cluster_pool")
    spec, provider = request.getfixturevalue("cluster_spec"), request.getfixturevalue("cluster_provider")
    plan = shared_plan(request.session.items, spec, provider)
    pool.plan = {nodeid: key for nodeid, (key, _) in plan.items()}
    pool.registry.set_plan(pool.plan)
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    wanted = list({key: want for key, want in plan.values()}.values())
    mine = wanted[int(re.sub(r"\D", "", xdist_worker()) or 0) :: count] if count > 1 else []

    def make() -> None:
        for want in mine:
            with contextlib.suppress(Exception):  # the tests that need it report the error
                pool.shared(want.provider, want.spec, background=want is not wanted[0])

    thread = threading.Thread(target=make, name="kube-harness-prefetch", daemon=True)
    thread.start()
    yield
    thread.join()


def _private_name(nodeid: str) -> str:
    """``kh-p-<test>-<hash>``: the hash covers the session id, so two sessions running the same
    disruptive test at once never pick the same name."""
    stem = re.sub(r"[^a-z0-9]+", "-", nodeid.split("::")[-1].lower()).strip("-")[:20].strip("-")
    return f"kh-p-{stem}-{hashlib.sha256(f'{session_id()}/{nodeid}'.encode()).hexdigest()[:5]}"


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
        mark_used()
        base = (spec or cluster_spec).model_dump(mode="json", exclude_unset=True)
        name = f"{_private_name(request.node.nodeid)}{len(made) or ''}"
        full = spec_from_kwargs(**{**base, **fields, "name": name})
        made.append(create_cluster(full, owner=owner(), phase_cases=True,
                                   provider=provider or cluster_provider, keep=keep_cluster,
                                   progress=Progress(tick=60), kubeconfig=cluster_kubeconfig))  # fmt: skip
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
    start = time.monotonic()
    asked = want.spec != cluster_spec or want.provider != cluster_provider  # markers asked for another one
    shared = cluster_pool.shared(want.provider, want.spec, asked=asked)
    if (waited := time.monotonic() - start) > 0.1:  # not the test's own time (durations, scheduling)
        request.node.user_properties.append((CLUSTER_WAIT, round(waited, 2)))
    return shared


@pytest.fixture(scope="session")
def session_cluster(request: pytest.FixtureRequest, cluster_pool: Pool, cluster_spec: ClusterSpec,
                    cluster_provider: str) -> Cluster:  # fmt: skip
    """The session's default shared cluster (``--kh-provider``, ``--kh-spec``), session-scoped: the
    very cluster an unmarked test gets as ``cluster``, for session fixtures that install something
    once (an operator, a CRD). Held until the session ends (not released after its last test)."""
    return _held(cluster_pool, cluster_provider, cluster_spec)


@pytest.fixture(scope="module")
def module_shared_cluster(request: pytest.FixtureRequest, cluster_pool: Pool, cluster_spec: ClusterSpec,
                          cluster_provider: str) -> Cluster:  # fmt: skip
    """The shared cluster the module's markers (``pytestmark = pytest.mark.kh_cluster(...)``,
    ``kh_provider``) ask for, module-scoped: the one the module's tests get as ``cluster``."""
    want = markers.request_for(request.node, cluster_spec, cluster_provider)
    if want.disruptive:
        raise UsageError("module_shared_cluster is shared: a kh_disruptive module gets a private one",
                         fix="use module_cluster in a kh_disruptive module")  # fmt: skip
    asked = want.spec != cluster_spec or want.provider != cluster_provider
    return _held(cluster_pool, want.provider, want.spec, asked)


def _held(pool: Pool, provider: str, spec: ClusterSpec, asked: bool = False) -> Cluster:
    found = pool.shared(provider, spec, asked=asked)
    pool.registry.pin(cluster_key(provider, spec))
    return found


@pytest.fixture(scope="module")
def module_cluster(request: pytest.FixtureRequest, cluster_spec: ClusterSpec, cluster_provider: str,
                   keep_cluster: bool, cluster_kubeconfig: Path | None) -> Iterator[Cluster]:  # fmt: skip
    """A private cluster for one module's tests, which run on it one after the other (the module's
    ``cluster``/``provider`` markers say which). For disruptive scenarios that revert their damage:
    a module overrides ``cluster`` with it. Under xdist each worker running the module has its own."""
    want = markers.request_for(request.node, cluster_spec, cluster_provider)
    base = want.spec.model_dump(mode="json", exclude_unset=True)
    spec = spec_from_kwargs(**{**base, "name": _private_name(request.node.nodeid)})
    mark_used()
    cluster = create_cluster(spec, owner=owner(), phase_cases=True, provider=want.provider, keep=keep_cluster,
                             progress=Progress(tick=60),
                             kubeconfig=cluster_kubeconfig)  # fmt: skip
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
def k8s_client(cluster: Cluster) -> Iterator[K8s]:
    """kubernetes Python clients (``k8s_client.core``, ``.apps``, ...) bound to the test's cluster
    (not ``k8s``: pytest-kubernetes has a fixture of that name)."""
    client = K8s(cluster.kubeconfig)
    yield client
    client.close()


@pytest.fixture
def namespace(request: pytest.FixtureRequest, cluster: Cluster) -> Iterator[str]:
    """A fresh namespace for the test, deleted afterwards (without waiting); through the Python
    client (no kubectl process per test)."""
    from kubernetes import client as k8s

    digest = hashlib.sha256(f"{request.node.nodeid}{os.getpid()}".encode()).hexdigest()[:6]
    name = f"kh-{re.sub(r'[^a-z0-9]+', '-', request.node.name.lower())[:40].strip('-')}-{digest}"
    core = client_for(cluster.kubeconfig).core
    core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=name)), _request_timeout=60)
    request.node.stash[NAMESPACE_KEY] = name
    yield name
    with contextlib.suppress(Exception):  # the cluster may be gone (a disruptive test): nothing to clean
        core.delete_namespace(name, propagation_policy="Background", _request_timeout=30)


NAMESPACE_KEY = pytest.StashKey[str]()
