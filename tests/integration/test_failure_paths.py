"""The paths around the happy one, on real Docker: kept clusters survive gc (seen from another
cache too), orphans do not; failed creates leave nothing, also when resources vanish mid-cleanup;
two creates of one name at once; nothing is ever pulled; HA on kind is refused offline."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.cluster import Cluster
from harness.lifecycle import create_cluster, delete_cluster
from harness.paths import cache_root
from harness.phases.engine import FAIL_ENV, PhaseFailed
from harness.providers.base import LABEL_KEEP
from harness.providers.containers import dockerapi
from harness.spec import spec_from_kwargs
from tests.integration.conftest import assert_healthy
from tests.outcomes import own_outcomes

pytestmark = pytest.mark.kh_cluster
REAL_CACHE = str(cache_root())
CLI = [sys.executable, "-m", "harness.cli.main"]

KEPT_SESSION = """
def test_makes_a_cluster(cluster):
    assert cluster.kubectl("get", "nodes")
"""
KILLED_SESSION = """
import os, signal

def test_dies_without_cleanup(cluster):
    os.kill(os.getpid(), signal.SIGKILL)  # an OOM kill, a lost runner: nothing of ours runs after this
"""


def labelled(name: str) -> dict[str, str] | None:
    return dockerapi.labelled_clusters().get(name)


def run_cli(*argv: str, env: dict[str, str] | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "KUBE_HARNESS_CACHE": REAL_CACHE, **(env or {})}  # pytester moves HOME
    return subprocess.run([*CLI, *argv], capture_output=True, text=True, timeout=timeout, env=full_env)


def real_state(name: str) -> Path:
    """A cluster's state file in the real cache (pytester points HOME elsewhere in this process)."""
    return Path(REAL_CACHE) / "state" / "clusters" / f"{name}.json"


def session_clusters(reports: Path) -> list[str]:
    """The clusters a pytest session made, from the run records it wrote."""
    import json

    return sorted({json.loads(p.read_text())["cluster"] for p in reports.glob("*/run.json")})


def test_gc_spares_a_kept_cluster_made_by_pytest_and_removes_an_orphan(pytester: pytest.Pytester, node_image: str,
                                                                      tmp_path: Path) -> None:  # fmt: skip
    args = ["--kh-provider", "kubeadm", "--kh-node-image", node_image, "-p", "no:cacheprovider"]
    env = {"KUBE_HARNESS_CACHE": REAL_CACHE}
    kept_reports, orphan_reports = tmp_path / "kept", tmp_path / "orphan"
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        (pytester.path / "kept").mkdir()
        (pytester.path / "kept" / "test_kept.py").write_text(KEPT_SESSION)
        mp.setenv("KUBE_HARNESS_REPORTS", str(kept_reports))
        mp.setenv("KUBE_HARNESS_SPEC", str(_one_node_spec(tmp_path)))
        own_outcomes(pytester.runpytest_subprocess("kept", "--kh-keep-cluster", "-rA", *args), passed=1)
        (pytester.path / "killed").mkdir()
        (pytester.path / "killed" / "test_killed.py").write_text(KILLED_SESSION)
        mp.setenv("KUBE_HARNESS_REPORTS", str(orphan_reports))
        pytester.runpytest_subprocess("killed", *args)  # dies with SIGKILL: no outcome to assert
    [kept], [orphan] = session_clusters(kept_reports), session_clusters(orphan_reports)
    try:
        assert (labelled(kept) or {}).get(LABEL_KEEP) == "true", "--kh-keep-cluster is on the cluster's resources"
        assert labelled(orphan) is not None and labelled(orphan).get(LABEL_KEEP) is None  # type: ignore[union-attr]
        # gc from a cache that has no state of either cluster: keeping must be seen on Docker itself
        res = run_cli("gc", env={"KUBE_HARNESS_CACHE": str(tmp_path / "other-cache")})
        assert res.returncode == 0, res.stderr
        assert f"removed cluster {orphan}" in res.stdout and kept not in res.stdout
        assert labelled(orphan) is None and dockerapi.containers(kept)
        assert run_cli("gc").returncode == 0 and labelled(kept), "nor from the cache that made it"
        assert not real_state(orphan).exists(), "the orphan's record here went with it"
        res = run_cli("delete", kept)
        assert res.returncode == 0, res.stderr
        assert labelled(kept) is None and not real_state(kept).exists()
    finally:
        for name in (kept, orphan):
            if labelled(name):
                delete_cluster(name)


def _one_node_spec(tmp_path: Path) -> Path:
    path = tmp_path / "one-node.yaml"
    path.write_text("control_planes: 1\nworkers: 0\n")
    return path


@pytest.mark.parametrize(("provider", "phase"), [("kind", "create:after"), ("kubeadm", "join-workers:after")])
def test_a_failed_create_leaves_nothing(node_image: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        provider: str, phase: str) -> None:  # fmt: skip
    monkeypatch.setenv(FAIL_ENV, phase)
    monkeypatch.setenv("KUBE_HARNESS_REPORTS", str(tmp_path))
    name = f"kh-fail-{provider}"
    with pytest.raises(PhaseFailed, match=FAIL_ENV):
        create_cluster(spec_from_kwargs(name=name, workers=1, node_image=node_image), provider=provider)
    assert labelled(name) is None
    assert not dockerapi.resources({"io.x-k8s.kind.cluster": name})
    assert not Cluster.state_dir_path(name).exists()


def test_cleanup_goes_on_when_resources_vanish_under_it(node_image: str, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """While the failed create's cleanup removes one resource, someone else removes the next ones."""
    monkeypatch.setenv(FAIL_ENV, "join-workers:after")
    monkeypatch.setenv("KUBE_HARNESS_REPORTS", str(tmp_path))
    name = "kh-vanish"
    real_remove = dockerapi.remove
    stolen: list[str] = []

    def remove_and_steal(res: dockerapi.Resource) -> None:
        others = [r for r in dockerapi.resources({"kube-harness.io/cluster": name}) if r.id != res.id]
        for other in others[:1]:  # gone before our loop reaches it (docker rm -f from another shell)
            flag = {"container": ["rm", "-f", "-v"], "network": ["network", "rm"], "volume": ["volume", "rm", "-f"]}
            subprocess.run(["docker", *flag[other.kind], other.id], capture_output=True, check=False)
            stolen.append(str(other))
        real_remove(res)

    monkeypatch.setattr(dockerapi, "remove", remove_and_steal)
    with pytest.raises(PhaseFailed, match=FAIL_ENV):
        create_cluster(spec_from_kwargs(name=name, workers=2, node_image=node_image), provider="kubeadm")
    assert len(stolen) >= 3, "resources did vanish mid-cleanup"
    assert labelled(name) is None and not Cluster.state_dir_path(name).exists()


def test_two_creates_of_one_name_at_once(node_image: str, tmp_path: Path) -> None:
    """Exactly one gets the name; the other stops before making anything; the winner's cluster is
    whole and healthy afterwards."""
    name = "kh-race"
    argv = [*CLI, "create", "--provider", "kubeadm", "--name", name, "--workers", "0", "--node-image", node_image]
    env = {**os.environ, "KUBE_HARNESS_REPORTS": str(tmp_path)}
    procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for _ in range(2)]  # fmt: skip
    try:
        results = [(p.wait(timeout=600), p.stderr.read() if p.stderr else "") for p in procs]
        codes = sorted(rc for rc, _ in results)
        assert codes == [0, 2], results
        loser = next(err for rc, err in results if rc == 2)
        assert f"a cluster named '{name}' already exists" in loser
        cluster = Cluster.load(name)
        assert cluster.status == "ready" and cluster.keep
        assert_healthy(cluster)
    finally:
        if labelled(name) or Cluster.state_dir_path(name).exists():
            delete_cluster(name)


def test_networks_made_at_once_get_distinct_subnets() -> None:
    """Docker's subnet pick and its pinning happen under the host lock: never the same subnet twice."""
    from concurrent.futures import ThreadPoolExecutor

    names = [f"kh-subnet-{i}" for i in range(4)]

    def make(name: str) -> None:
        dockerapi.create_network(f"kh-{name}", Cluster(name, "kubeadm", f"run-{name}").labels())

    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(make, names))
        subnets = [dockerapi.client().networks.get(f"kh-{n}").attrs["IPAM"]["Config"][0]["Subnet"] for n in names]
        assert len(set(subnets)) == 4, subnets
    finally:
        for name in names:
            dockerapi.remove_cluster(name)


@pytest.mark.parametrize("provider", ["kind", "kubeadm"])
def test_a_missing_node_image_is_refused_before_anything_and_never_pulled(provider: str) -> None:
    start = time.monotonic()
    res = run_cli("create", "--provider", provider, "--name", "kh-nopull", "--node-image", "example.invalid/node:v0")
    assert res.returncode == 2, res.stderr
    assert "example.invalid/node:v0" in res.stderr and "kube-harness image build" in res.stderr
    assert time.monotonic() - start < 30, "it did not wait for a registry"
    assert labelled("kh-nopull") is None and not Cluster.state_dir_path("kh-nopull").exists()


def test_ha_on_kind_is_refused_offline_with_the_fix(node_image: str) -> None:
    res = run_cli("create", "--provider", "kind", "--name", "kh-kind-ha", "--control-planes", "3",
                  "--node-image", node_image)  # fmt: skip
    assert res.returncode == 2, res.stderr
    assert "envoy" in res.stderr and "--provider kubeadm" in res.stderr
    assert labelled("kh-kind-ha") is None


def test_even_control_planes_warn_with_the_quorum() -> None:
    """Said before anything is checked against the host (here the missing image stops the create)."""
    res = run_cli("create", "--provider", "kubeadm", "--control-planes", "2", "--node-image", "example.invalid/n:v0")
    assert res.returncode == 2
    assert "warning: control_planes: 2 gives an etcd quorum of 2 and tolerates 0" in res.stderr
