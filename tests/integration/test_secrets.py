"""No secret in the clear in anything a real failing HA run leaves: phase logs, the run record, a
pytest session's JUnit, session record, HTML report and failure bundle; the files that must hold
secrets are 0600.

One kubeadm-provider HA cluster (3 control planes behind the load balancer, 1 worker) is made in
this process with the worker's join failing for real: kubeadm refuses a wrong CA hash, so the
failing command's text (with ``--token``) reaches the phase log, the record and the error. The
nodes are kept (``keep_failed``) so the secrets can be read from them afterwards, and an inner
pytest session (its own process: nothing registered here helps it) attaches to the cluster, prints
a fresh join command (a new token) and fails, which writes a JUnit XML and a failure bundle. Then
every file is scanned for every secret value read from the nodes: the bootstrap tokens, the
certificate key, each private key of /etc/kubernetes/pki (by each base64 line of its body), the
admin client key (as kubeconfig base64), and cluster-info's JWS signatures.
"""

from __future__ import annotations

import base64
import json
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.bootstrap import flow
from harness.cluster import Cluster
from harness.lifecycle import create_cluster, delete_cluster
from harness.paths import cache_root
from harness.phases.engine import PhaseFailed
from harness.spec import spec_from_kwargs

pytestmark = pytest.mark.kh_cluster
WRONG_HASH = "sha256:" + "0" * 64
REAL_CACHE = str(cache_root())  # pytester changes HOME: the inner session must find the built tools
INNER_TEST = """
def test_prints_a_join_command_and_fails(cluster):
    out = cluster.control_planes[0].exec("kubeadm", "token", "create", "--print-join-command").stdout
    print("join command:", out)
    assert False, f"failing on purpose with a fresh join command: {out}"
"""


@pytest.fixture(autouse=True)
def _real_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBE_HARNESS_CACHE", REAL_CACHE)


@pytest.fixture(scope="module")
def failed_ha(node_image: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cluster, Path, str]]:
    reports = tmp_path_factory.mktemp("reports")
    mp = pytest.MonkeyPatch()
    mp.setenv("KUBE_HARNESS_REPORTS", str(reports))
    real = flow.join_argv

    def wrong_hash_for_workers(state: Any, node: Any, control_plane: bool) -> list[str]:
        argv = real(state, node, control_plane)
        return argv if control_plane else [WRONG_HASH if a == state.ca_hash else a for a in argv]

    mp.setattr(flow, "join_argv", wrong_hash_for_workers)
    spec = spec_from_kwargs(name="kh-secrets", control_planes=3, workers=1, node_image=node_image)
    with pytest.raises(PhaseFailed) as info:
        create_cluster(spec, provider="kubeadm", keep_failed=True)
    mp.undo()
    cluster = Cluster.load("kh-secrets")
    try:
        yield cluster, reports, str(info.value)
    finally:
        delete_cluster(cluster.name)


def _pem_lines(text: str) -> list[str]:
    body = re.findall(r"-----BEGIN [A-Z ]*PRIVATE KEY-----\n(.*?)\n-----END", text, re.S)
    return [line for block in body for line in block.splitlines() if len(line) >= 20]


def secret_values(cluster: Cluster) -> dict[str, str]:
    """Every secret of the cluster, read from its first control plane, by a name for the report."""
    cp = cluster.control_planes[0]
    values: dict[str, str] = {}
    config = cp.exec("cat", flow.CONFIG_PATH).stdout
    values["certificate key"] = re.search(r"certificateKey: (\S+)", config).group(1)  # type: ignore[union-attr]
    tokens = json.loads(cluster.kubectl("get", "secrets", "-n", "kube-system", "-o", "json",
                                        "--field-selector", "type=bootstrap.kubernetes.io/token"))["items"]  # fmt: skip
    for secret in tokens:
        token_id = base64.b64decode(secret["data"]["token-id"]).decode()
        values[f"token {token_id}"] = base64.b64decode(secret["data"]["token-secret"]).decode()
    for path in cp.exec("sh", "-c", "find /etc/kubernetes/pki -name '*.key'").stdout.split():
        for i, line in enumerate(_pem_lines(cp.exec("cat", path).stdout)):
            values[f"{path} line {i}"] = line
    admin = cp.exec("cat", flow.ADMIN_CONF).stdout
    values["admin client-key-data"] = re.search(r"client-key-data: (\S+)", admin).group(1)  # type: ignore[union-attr]
    for line in _pem_lines(base64.b64decode(values["admin client-key-data"]).decode()):
        values[f"admin key line {line[:8]}"] = line
    info = json.loads(cluster.kubectl("get", "configmap", "-n", "kube-public", "cluster-info", "-o", "json"))
    for key, jws in info["data"].items():
        if key.startswith("jws-kubeconfig-"):
            values[key] = jws.split("..")[1]
    return values


def scan(roots: list[Path], values: dict[str, str], allowed: set[Path]) -> list[str]:
    hits = []
    for root in roots:
        for path in (p for p in root.rglob("*") if p.is_file() and p not in allowed):
            text = path.read_text(errors="replace")
            hits += [f"{name} in {path}" for name, value in values.items() if value in text]
    return hits


def test_no_secret_in_the_clear_after_a_failing_ha_run(failed_ha: tuple[Cluster, Path, str],
                                                       pytester: pytest.Pytester) -> None:  # fmt: skip
    cluster, reports, error = failed_ha
    assert "join-workers" in error and WRONG_HASH in error, "the worker join failed for real, as kubeadm says"
    pytester.makepyfile(test_inner=INNER_TEST)
    artifacts = pytester.path / "artifacts"
    junit = pytester.path / "junit.xml"
    html = pytester.path / "report.html"
    result = pytester.runpytest_subprocess("--kh-reuse-cluster", cluster.name, "--kh-artifacts-dir", str(artifacts),
                                           f"--junitxml={junit}", f"--kh-html={html}", "-rA")  # fmt: skip
    result.assert_outcomes(failed=1)
    assert "join command:" in junit.read_text() and "kubeadm join" in junit.read_text()
    assert "kubeadm join" in html.read_text()  # the failure is in the report (and the session record) ...
    values = secret_values(cluster)
    assert len([v for v in values if v.startswith("token ")]) >= 2, "the inner test's token is listed too"
    kubeconfig = Path(cluster.kubeconfig)
    assert list(pytester.path.glob("reports/session-*/session.json")), "the inner session wrote its record"
    hits = scan([reports, artifacts, junit.parent], values, allowed={kubeconfig})  # ... with no secret
    assert not hits, "secrets in the clear:\n" + "\n".join(hits[:20])
    output = result.stdout.str() + result.stderr.str()
    assert not [name for name, value in values.items() if value in output], "secrets in pytest's output"
    assert not [name for name, value in values.items() if value in error], "secrets in the create's error"
    # the one file that must hold the admin key is 0600; the folders around it 0700
    assert values["admin client-key-data"] in kubeconfig.read_text()
    assert stat.S_IMODE(kubeconfig.stat().st_mode) == 0o600
    assert stat.S_IMODE(kubeconfig.parent.stat().st_mode) == 0o700
    bundles = list(artifacts.glob("session-*/bundles/*"))
    assert bundles and all(stat.S_IMODE(b.stat().st_mode) == 0o700 for b in bundles)
    assert stat.S_IMODE(Cluster.state_dir_path(cluster.name).stat().st_mode) == 0o600
