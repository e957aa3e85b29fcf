"""Session-scoped clusters and reuse between runs, on real clusters (one 1-node kind-provider
cluster, kept between the inner sessions and deleted at the end).

- a session fixture installs something once on ``session_cluster``; the tests get that very cluster
  as ``cluster`` and see it;
- ``--kh-reuse``: the second run finds the cluster the first one kept (same name, no new create);
- ``--kh-reuse-cluster NAME`` with a test whose marker asks for another spec: that test is refused
  with the difference, the others run;
- ``--kh-create-cluster`` makes it anew.
"""

from __future__ import annotations

import pytest

from harness.cluster import Cluster
from harness.lifecycle import delete_cluster
from harness.paths import cache_root
from tests.outcomes import split

pytestmark = pytest.mark.kh_cluster
REAL_CACHE = str(cache_root())
SPEC = "control_planes: 1\nworkers: 0\n"
INNER = """
import pytest


@pytest.fixture(scope="session", autouse=True)
def installed(session_cluster):
    session_cluster.kubectl("create", "configmap", "kh-installed-once", "-n", "default", check=False)
    print("SESSION CLUSTER", session_cluster.name)
    yield session_cluster
    session_cluster.kubectl("delete", "configmap", "kh-installed-once", "-n", "default", check=False)


def test_sees_it(cluster, installed):
    assert cluster.name == installed.name
    assert "kh-installed-once" in cluster.kubectl("get", "configmap", "-n", "default", "-o", "name")
    print("CLUSTER", cluster.name, cluster.run_id)


@pytest.mark.kh_cluster(workers=3)
def test_wants_another(cluster):
    pass
"""


def _run(pytester: pytest.Pytester, node_image: str, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("--kh-node-image", node_image, "-rA", "-s", "-p", "no:cacheprovider",
                                         "-k", "sees_it or wants_another", *args)  # fmt: skip


def _seen(result: pytest.RunResult) -> tuple[str, str]:
    line = next(ln for ln in result.stdout.lines if ln.startswith("CLUSTER "))
    _, name, run = line.split()
    return name, run


def test_session_cluster_and_reuse_between_runs(pytester: pytest.Pytester, node_image: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("KUBE_HARNESS_CACHE", REAL_CACHE)
    spec = pytester.path / "one-node.yaml"
    spec.write_text(SPEC)
    pytester.makepyfile(test_inner=INNER)
    name = "kh-reuse-plugin-test"
    try:
        first = _run(pytester, node_image, "--kh-spec", str(spec), "--kh-reuse-cluster", name)
        tests, _ = split(first)
        assert tests == {"passed": 1, "error": 1}, first.stdout.str()[-3000:]
        assert "other than the kept cluster kh-reuse-plugin-test" in first.stdout.str()
        assert _seen(first)[0] == name and Cluster.state_dir_path(name).exists(), "kept after the session"
        second = _run(pytester, node_image, "--kh-spec", str(spec), "--kh-reuse-cluster", name, "-k", "sees_it")
        assert _seen(second) == _seen(first), "the second run attached to the kept cluster"
        third = _run(pytester, node_image, "--kh-spec", str(spec), "--kh-reuse-cluster", name, "-k", "sees_it",
                     "--kh-create-cluster")  # fmt: skip
        assert _seen(third)[0] == name and _seen(third)[1] != _seen(first)[1], "made anew"
    finally:
        if Cluster.state_dir_path(name).exists():
            delete_cluster(name)


def test_reuse_keys_the_cluster_by_its_spec(pytester: pytest.Pytester, node_image: str,
                                            monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("KUBE_HARNESS_CACHE", REAL_CACHE)
    spec = pytester.path / "one-node.yaml"
    spec.write_text(SPEC)
    pytester.makepyfile(test_inner=INNER)
    first = _run(pytester, node_image, "--kh-spec", str(spec), "--kh-reuse", "-k", "sees_it")
    name = _seen(first)[0]
    try:
        assert name.startswith("kh-reuse-")
        second = _run(pytester, node_image, "--kh-spec", str(spec), "--kh-reuse", "-k", "sees_it")
        assert _seen(second) == _seen(first)
        assert not split(second)[1], "nothing was created the second time: no phase case"
    finally:
        delete_cluster(name)
