"""The plugin on real clusters: one cluster shared by two xdist workers, a private cluster for a
disruptive test, everything deleted at the end, and a failure bundle on a failing test."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from harness.providers.containers import dockerapi
from tests.outcomes import own_outcomes

pytestmark = pytest.mark.kh_cluster

SHARED_TESTS = """
import json, os, pytest
from harness.providers.containers import dockerapi
from harness.providers.base import LABEL_SESSION

def _record(cluster, tag):
    session = os.environ["KUBE_HARNESS_SESSION"]
    live = {labels[LABEL_SESSION] and name for name, labels in dockerapi.labelled_clusters().items()
            if labels.get(LABEL_SESSION) == session}
    with open(os.environ["RECORD_FILE"], "a") as fh:
        fh.write(json.dumps({"tag": tag, "worker": os.environ.get("PYTEST_XDIST_WORKER", "main"),
                             "cluster": cluster.name, "live": sorted(live)}) + "\\n")

@pytest.mark.parametrize("i", range(6))
def test_shared(cluster, i):
    import time
    _record(cluster, "shared")
    time.sleep(2)  # keep both workers busy at the same time

@pytest.mark.kh_disruptive
def test_disruptive(cluster):
    _record(cluster, "disruptive")
"""


def _records(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_xdist_workers_share_one_cluster_and_disruptive_gets_its_own(
    pytester: pytest.Pytester, node_image: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = pytester.path / "records.jsonl"
    monkeypatch.setenv("RECORD_FILE", str(record))
    pytester.makepyfile(test_shared=SHARED_TESTS)
    result = pytester.runpytest_subprocess("-n", "2", "-p", "xdist", "--kh-node-image", node_image, "-q", "-rA")
    own_outcomes(result, passed=7)
    rows = _records(record)
    shared = [r for r in rows if r["tag"] == "shared"]
    disruptive = [r for r in rows if r["tag"] == "disruptive"]
    assert len({r["cluster"] for r in shared}) == 1, "non-disruptive tests must share one cluster"
    assert len({r["worker"] for r in shared}) == 2, "both xdist workers should have run shared tests"
    assert all(len(r["live"]) <= 2 for r in rows)
    assert all(r["live"] == [shared[0]["cluster"]] for r in shared if len(r["live"]) == 1)
    assert disruptive[0]["cluster"] != shared[0]["cluster"], "a disruptive test must not share a cluster"
    leftovers = set(dockerapi.labelled_clusters()) & {shared[0]["cluster"], disruptive[0]["cluster"]}
    assert not leftovers, f"clusters left after the session: {leftovers}"


RELEASED_AFTER = """
import os, time
from harness.providers.containers import dockerapi
from harness.providers.base import LABEL_SESSION

def test_cluster_released_after_its_last_test():
    session, deadline = os.environ["KUBE_HARNESS_SESSION"], time.monotonic() + 120
    while True:
        live = [n for n, labels in dockerapi.labelled_clusters().items() if labels.get(LABEL_SESSION) == session]
        if not live or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert not live, f"the cluster outlived the last test that wanted it: {live}"
"""


def test_failing_test_gets_a_failure_bundle(pytester: pytest.Pytester, node_image: str) -> None:
    """...and the cluster, which no later test wants, is released before the session ends."""
    example = Path(__file__).parent.parent / "examples" / "failing_example.py"
    shutil.copy(example, pytester.path / "test_failing_example.py")
    pytester.makepyfile(test_zz_after=RELEASED_AFTER)
    result = pytester.runpytest_subprocess("--kh-node-image", node_image, "-rA", "--kh-artifacts-dir",
                                           str(pytester.path / "artifacts"))  # fmt: skip
    own_outcomes(result, failed=1, passed=1)
    out = result.stdout.str()
    assert "kube-harness failure bundle" in out
    bundles = list((pytester.path / "artifacts").glob("session-*/bundles/*"))
    assert len(bundles) == 1
    files = {str(p.relative_to(bundles[0])) for p in bundles[0].rglob("*") if p.is_file()}
    for expected in ("failure.txt", "nodes.yaml", "events-all.txt", "namespaces/kube-system/events.txt"):
        assert expected in files
    assert "test_failing_example.py" in (bundles[0] / "failure.txt").read_text()
    assert any(f.endswith("journal-kubelet.log") for f in files)
    assert any(f.endswith("iptables-save.txt") for f in files)
    assert any(f.startswith("create-phases/") for f in files)
    namespaced = [f for f in files if f.startswith("namespaces/kh-")]
    assert any(f.endswith("resources.yaml") for f in namespaced), "the test's namespace is in the bundle"
