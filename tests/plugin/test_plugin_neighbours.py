"""kube-harness in one venv with the plugins our users install beside it: pytest-kind (which also
registers ``--keep-cluster`` and ``--kubeconfig``) and pytest-kubernetes (a ``k8s`` fixture, a
``k8s`` marker). Both load with ours, every option of each is there, and each plugin's fixtures
are its own. The two are installed from PyPI once into a folder of the cache (keyed by their pinned
versions) and put on the inner session's path."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from harness.paths import cache_root

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
