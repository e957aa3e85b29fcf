"""kube-harness in one venv with the plugins our users install beside it: pytest-kind (which also
registers ``--keep-cluster`` and ``--kubeconfig``) and pytest-kubernetes (a ``k8s`` fixture, a
``k8s`` marker). Both load with ours, every option of each is there, and each plugin's fixtures
are its own; and pytest-kind's own ``KindCluster`` makes a cluster with our kind, kubectl and node
image in the same session as our ``cluster`` fixture makes one. The two are installed from PyPI once
into a folder of the cache (keyed by their pinned versions) and put on the inner session's path."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from harness.images import tools
from harness.paths import cache_root
from harness.progress import Progress
from harness.providers.containers import kindconfig
from tests.outcomes import own_outcomes

NEIGHBOURS = ("pytest-kind==22.11.1", "pytest-kubernetes==0.9.0", "pykube-ng==23.6.0", "deprecated==1.3.1")
INNER = """
def test_each_plugin_has_its_fixtures(request, cluster_provider, k8s_manager):
    k8s = request._fixturemanager.getfixturedefs("k8s", request.node)[-1]
    assert k8s.func.__module__.startswith("pytest_kubernetes")  # theirs: ours is k8s_client
    assert cluster_provider == "kind"
    assert request.config.getoption("keep_cluster") is True  # pytest-kind's flag, given
    assert not request.config.getoption("kh_keep_cluster")  # ours, not given
"""


@pytest.fixture(scope="module")
def neighbours() -> Path:
    target = cache_root() / "test-plugins" / hashlib.sha256(" ".join(NEIGHBOURS).encode()).hexdigest()[:12]
    if not (target / ".complete").exists():
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target),
                        *NEIGHBOURS], check=True, timeout=600)  # fmt: skip
        (target / ".complete").touch()
    return target


def test_loads_beside_pytest_kind_and_pytest_kubernetes(pytester: pytest.Pytester, neighbours: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("PYTHONPATH", str(neighbours))
    pytester.makepyfile(test_inner=INNER)
    result = pytester.runpytest_subprocess("--keep-cluster", "-p", "no:cacheprovider", "-rA")
    plugins = next(line for line in result.stdout.lines if line.startswith("plugins:"))
    assert "kind-22.11.1" in plugins and "kubernetes-0.9.0" in plugins and "kube-harness" in plugins
    result.assert_outcomes(passed=1)
    help_text = pytester.runpytest_subprocess("--help").stdout.str()
    for flag in ("--keep-cluster", "--kind-image", "--k8s-provider", "--kh-keep-cluster", "--kh-provider"):
        assert flag in help_text


BOTH = """
from pathlib import Path

import pykube
import pytest
from pytest_kind import KindCluster

from harness.k8s import checks


@pytest.fixture(scope="session")
def their_cluster(tmp_path_factory):
    kind = KindCluster("kh-neighbour", kind_path=Path({kind!r}), kubectl_path=Path({kubectl!r}), image={image!r})
    config = tmp_path_factory.mktemp("kind") / "kind.yaml"
    config.write_text({config!r})  # this host's cgroup v1 needs kind's failCgroupV1 patch
    kind.create(config_file=config)
    yield kind
    kind.delete()


def test_their_cluster_and_ours_side_by_side(their_cluster, cluster):
    their_cluster.kubectl("wait", "--for=condition=Ready", "node", "--all", "--timeout=180s")
    theirs = [n.name for n in pykube.Node.objects(their_cluster.api)]
    assert theirs == ["kh-neighbour-control-plane"]
    ours = checks.wait_nodes_ready(cluster, len(cluster.all_nodes))
    assert not set(ours) & set(theirs) and cluster.name != "kh-neighbour"
"""


@pytest.mark.kh_cluster
def test_pytest_kind_makes_its_cluster_beside_ours(pytester: pytest.Pytester, neighbours: Path, node_image: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """A user's session fixture built on pytest-kind (pointed at our kind, kubectl and node image,
    as on a machine with no registry) and our ``cluster`` fixture, one test using both."""
    kind = str(tools.ensure_kind(Progress(quiet=True)))
    kubectl = str(tools.ensure_kubectl(Progress(quiet=True)))
    monkeypatch.setenv("PYTHONPATH", str(neighbours))
    pytester.makepyfile(test_both=BOTH.format(kind=kind, kubectl=kubectl, image=node_image,
                                              config=kindconfig.render(1, 0)))  # fmt: skip
    try:
        result = pytester.runpytest_subprocess("--kh-node-image", node_image, "-p", "no:cacheprovider", "-rA")
    finally:
        subprocess.run([kind, "delete", "cluster", "--name", "kh-neighbour"], capture_output=True, timeout=300)
    own_outcomes(result, passed=1)
