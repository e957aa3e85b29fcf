"""``kube-harness create``: bad input is refused with exit code 2 before anything exists.

Every refusal is checked the same way: exit code, message, Docker never asked (``no_docker``), no
cluster state written and no run folder made.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from harness import lifecycle
from harness.cli.main import cli
from harness.cluster import Cluster
from harness.paths import reports_root
from harness.providers.existing import ExistingProvider

pytestmark = pytest.mark.unit

Refused = Callable[..., Result]


def create(*argv: str) -> Result:
    return CliRunner().invoke(cli, ["create", *argv], prog_name="kube-harness")


@pytest.fixture
def refused(no_docker: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Refused:
    """``refused(*argv, expect=[...])``: run ``create`` in an empty directory; assert it was refused
    with exit code 2, every ``expect`` text in the output, and no side effect. Phases never run."""
    monkeypatch.chdir(tmp_path)

    def no_phases(*args: object, **kwargs: object) -> None:
        no_docker.append("Engine(...)")
        raise AssertionError("the phases must not run: the input should have been refused")

    monkeypatch.setattr(lifecycle, "Engine", no_phases)

    def _run(*argv: str, expect: list[str]) -> Result:
        result = create(*argv)
        assert result.exit_code == 2, (result.output, result.exception)
        for text in expect:
            assert text in result.output
        assert no_docker == []
        assert Cluster.all() == []
        assert not reports_root().exists()
        return result

    return _run


@pytest.fixture
def kubeconfig(tmp_path: Path) -> Path:
    path = tmp_path / "kubeconfig.yaml"
    path.write_text("apiVersion: v1\nkind: Config\n")
    return path


def test_unknown_provider(refused: Refused) -> None:
    refused("--provider", "nope", expect=["Invalid value for '--provider'", "'nope'", "kind", "kubeadm"])


def test_missing_spec_file_is_named(refused: Refused) -> None:
    refused("--spec", "missing.yaml", expect=["error: spec file missing.yaml not found", "fix:"])


def test_invalid_spec_file_is_named(refused: Refused, tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("workers: many\n")
    refused(
        "--spec", "bad.yaml", expect=["invalid cluster spec in bad.yaml", "workers:", "correct the spec file bad.yaml"]
    )


def test_phased_needs_kubeadm(refused: Refused) -> None:
    refused(
        "--phased",
        "--provider",
        "kind",
        expect=["--phased needs the kubeadm or vagrant provider", "--provider kubeadm"],
    )


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["--workers", "-1"], "workers:"),
        (["--control-planes", "0"], "control_planes:"),
        (["--name", "Bad_Name"], "name:"),
        (["--kubernetes-version", "banana"], "kubernetes_version:"),
        (["--node-image", "UPPER/Case"], "node_image:"),
    ],
)
def test_bad_overrides(refused: Refused, argv: list[str], problem: str) -> None:
    refused(*argv, expect=["invalid cluster spec", problem])


def test_name_with_trailing_newline(refused: Refused) -> None:
    refused("--name", "demo\n", expect=["name"])


def test_existing_needs_a_kubeconfig(refused: Refused, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBECONFIG")
    refused("--provider", "existing", expect=["the existing provider needs a kubeconfig", "--kubeconfig"])


def test_existing_kubeconfig_must_exist(refused: Refused) -> None:
    refused("--provider", "existing", "--kubeconfig", "nowhere.yaml", expect=["kubeconfig nowhere.yaml does not exist"])


def test_taken_name(no_docker: list[str]) -> None:
    Cluster("taken", "kind", "run").save()
    result = create("--name", "taken")
    assert result.exit_code == 2
    assert "a cluster named 'taken' already exists" in result.output
    assert no_docker == []
    assert [c.name for c in Cluster.all()] == ["taken"]


def test_overrides_reach_create_cluster(no_docker: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The spec file plus command-line overrides make the spec; the result is kept and saved."""
    seen: dict[str, Any] = {}

    def fake_create(spec: Any, **kw: Any) -> Cluster:
        seen.update(spec=spec, **kw)
        return Cluster(spec.name, kw["provider"], "run", kubeconfig="/tmp/kc")

    monkeypatch.setattr(lifecycle, "create_cluster", fake_create)
    spec = tmp_path / "spec.yaml"
    spec.write_text("name: from-file\nworkers: 3\nnetworking:\n  kube_proxy_mode: nftables\n")
    result = create("--spec", str(spec), "--name", "demo", "--workers", "0", "--provider", "kubeadm", "--phased")
    assert result.exit_code == 0, result.output
    assert "cluster demo ready; kubeconfig: /tmp/kc" in result.output
    assert (seen["spec"].name, seen["spec"].workers) == ("demo", 0)
    assert seen["spec"].networking.kube_proxy_mode == "nftables"
    # made from the command line: kept (labelled so) until `kube-harness delete`; --keep is about failures
    assert (seen["provider"], seen["phased"], seen["keep"], seen["keep_failed"]) == ("kubeadm", True, True, False)
    assert no_docker == []


def test_existing_provider_needs_no_docker(
    no_docker: list[str], kubeconfig: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ExistingProvider, "plan", lambda self, spec, cluster: [])  # connect would reach the API
    result = create("--provider", "existing", "--kubeconfig", str(kubeconfig), "--name", "remote")
    assert no_docker == []
    assert result.exit_code == 0, result.output


# -- flags that belong to another provider are refused before Docker -----------------------------


@pytest.mark.parametrize("provider", ["kind", "kubeadm"])
def test_kubeconfig_only_with_existing(refused: Refused, kubeconfig: Path, provider: str) -> None:
    refused("--provider", provider, "--kubeconfig", str(kubeconfig), expect=["--kubeconfig"])


def test_phased_with_existing(refused: Refused, kubeconfig: Path) -> None:
    refused("--provider", "existing", "--phased", "--kubeconfig", str(kubeconfig), expect=["--phased"])


def test_list_marks_a_record_whose_creator_died_as_abandoned(monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess

    from harness.providers import registry

    dead = subprocess.Popen(["true"])  # a process that has exited: its pid names no live process
    dead.wait()
    Cluster("kh-dead", "kubeadm", "20261203-000000-abcdef", pid=dead.pid).save()
    Cluster("kh-live", "kubeadm", "20261203-000000-fedcba").save()  # this process: alive
    monkeypatch.setattr(registry, "all_clusters", lambda: {})
    out = CliRunner().invoke(cli, ["list"], prog_name="kube-harness").output
    dead_line = next(line for line in out.splitlines() if line.startswith("kh-dead"))
    live_line = next(line for line in out.splitlines() if line.startswith("kh-live"))
    assert "abandoned" in dead_line and "kube-harness gc" in dead_line
    assert "creating" in live_line and "abandoned" not in live_line
