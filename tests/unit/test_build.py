"""harness.images.build: validation before anything runs, and the node image tag."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.errors import HostError, UsageError
from harness.exec import Result
from harness.images import build, gobuild
from harness.images.build import BuildOptions, node_tag, validate
from harness.images.versions import KubeVersion
from harness.progress import Progress

pytestmark = pytest.mark.unit

BUILD_KEY = "0123456789abcdef"


@pytest.fixture
def no_commands(forbid: Callable[[object, str], None]) -> None:
    """Validation of bad input must fail before Docker or Go are asked anything."""
    forbid(build, "Cmd")
    forbid(gobuild, "module_info")


@pytest.fixture
def as_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)


@pytest.fixture
def docker_info_rc(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], list[str]]:
    """Fake ``docker info`` with the given exit code; returns the modules module_info was asked for."""

    def install(rc: int) -> list[str]:
        asked: list[str] = []

        class FakeCmd:
            def __init__(self, argv: list[str], **kwargs: object) -> None:
                assert argv == ["docker", "info"]

            def run(self, check: bool = True) -> Result:
                return Result(["docker", "info"], rc, "", "", 0.0)

        def module_info(module: str, version: str) -> dict[str, str]:
            asked.append(f"{module}@{version}")
            return {}

        monkeypatch.setattr(build, "Cmd", FakeCmd)
        monkeypatch.setattr(gobuild, "module_info", module_info)
        return asked

    return install


@pytest.mark.usefixtures("no_commands")
@pytest.mark.parametrize("euid", [0, 1000])
@pytest.mark.parametrize(
    ("make_opts", "problem"),
    [
        (lambda t: BuildOptions(kubernetes_version="banana"), "unknown Kubernetes version 'banana'"),
        (lambda t: BuildOptions(kubernetes_version="v1.30.1"), "older than the harness supports"),
        (lambda t: BuildOptions(cni="calico"), "unknown CNI 'calico'"),
        (lambda t: BuildOptions(preload=[t / "missing.tar"]), "--preload"),
        (lambda t: BuildOptions(kubeadm_binary=t / "kubeadm.txt"), "--kubeadm-binary"),
        (lambda t: BuildOptions(kubelet_binary=t / "missing"), "--kubelet-binary"),
        (lambda t: BuildOptions(from_source=t), "no go.mod"),
    ],
    ids=["version", "old-version", "cni", "preload", "kubeadm-not-executable", "kubelet-missing", "source"],
)
def test_validate_rejects_bad_input_first(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    write_file: Callable[..., Path],
    make_opts: Callable[[Path], BuildOptions],
    problem: str,
    euid: int,
) -> None:
    write_file(tmp_path / "kubeadm.txt", "not a program", mode=0o644)
    monkeypatch.setattr(os, "geteuid", lambda: euid)  # bad input is reported before the root check
    with pytest.raises(UsageError) as err:
        validate(make_opts(tmp_path))
    assert problem in err.value.message
    assert err.value.fix


@pytest.mark.usefixtures("no_commands")
def test_validate_needs_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(HostError) as err:
        validate(BuildOptions())
    assert "root" in str(err.value)
    assert err.value.exit_code == 3


@pytest.mark.usefixtures("as_root")
def test_validate_needs_docker(docker_info_rc: Callable[[int], list[str]]) -> None:
    asked = docker_info_rc(1)
    with pytest.raises(HostError, match="no Docker engine answers"):
        validate(BuildOptions())
    assert asked == []


@pytest.mark.usefixtures("as_root")
def test_validate_checks_the_proxy_for_release_builds(docker_info_rc: Callable[[int], list[str]]) -> None:
    asked = docker_info_rc(0)
    version = validate(BuildOptions(kubernetes_version="1.37.2"))
    assert version.text == "v1.37.2"
    assert asked == ["k8s.io/kubernetes@v1.37.2"]


@pytest.mark.usefixtures("as_root")
def test_validate_from_source_skips_the_proxy(
    tmp_path: Path, write_file: Callable[..., Path], docker_info_rc: Callable[[int], list[str]]
) -> None:
    asked = docker_info_rc(0)
    write_file(tmp_path / "go.mod", "module k8s.io/kubernetes\n")
    exe = write_file(tmp_path / "kubeadm", "#!/bin/sh\n", mode=0o755)
    preload = write_file(tmp_path / "extra.tar", "")
    validate(BuildOptions(from_source=tmp_path, kubeadm_binary=exe, preload=[preload]))
    assert asked == []


@pytest.mark.parametrize(
    ("opts", "tag"),
    [
        (BuildOptions(), "kube-harness/node:v1.37.2"),
        (BuildOptions(kubernetes_version="v1.36.1"), "kube-harness/node:v1.36.1"),
        (BuildOptions(cni="none"), "kube-harness/node:v1.37.2-01234567"),
        (BuildOptions(preload=[Path("/x.tar")]), "kube-harness/node:v1.37.2-01234567"),
        (BuildOptions(kubeadm_binary=Path("/kubeadm")), "kube-harness/node:v1.37.2-01234567"),
        (BuildOptions(kubelet_binary=Path("/kubelet")), "kube-harness/node:v1.37.2-01234567"),
        (BuildOptions(from_source=Path("/src")), "kube-harness/node:v1.37.2-01234567"),
        (BuildOptions(cni="none", tag="mine:dev"), "mine:dev"),
        (BuildOptions(mirror="http://example.invalid/debian"), "kube-harness/node:v1.37.2"),
    ],
)
def test_node_tag(opts: BuildOptions, tag: str) -> None:
    assert node_tag(opts, BUILD_KEY) == tag


def test_builds_of_one_cache_run_one_at_a_time(monkeypatch: pytest.MonkeyPatch, v1_37_2: KubeVersion) -> None:
    """Two xdist workers asking for the image on a cold cache: the second waits, then finds it built."""
    events: list[str] = []
    said: list[str] = []
    first_in = threading.Event()

    def fake_build(version: KubeVersion, opts: BuildOptions, progress: Progress) -> str:
        events.append("in")
        first_in.set()
        time.sleep(0.3)
        events.append("out")
        return "tag"

    monkeypatch.setattr(build, "validate", lambda opts: v1_37_2)
    monkeypatch.setattr(build, "_build", fake_build)
    progress = Progress(quiet=True)
    monkeypatch.setattr(progress, "say", said.append)
    other = threading.Thread(target=build.build_node_image, args=(BuildOptions(), progress))
    other.start()
    first_in.wait(5)
    assert build.build_node_image(BuildOptions(), progress) == "tag"
    other.join()
    assert events == ["in", "out", "in", "out"]
    assert any("waiting for another build" in s for s in said)


def test_kubectl_comes_from_the_node_images_kubernetes_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.images import pieces, tools
    from harness.progress import Progress

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "kubectl").write_text("#!/bin/sh\n")
    asked: list[str] = []
    monkeypatch.setattr(tools, "find", lambda name, want: None)
    monkeypatch.setattr(pieces, "kubernetes", lambda version, progress: asked.append(version.text) or bin_dir)
    path = tools.ensure_kubectl(Progress(quiet=True), "v1.37.2")
    assert (
        asked == ["v1.37.2"]
        and path.read_text() == "#!/bin/sh\n"
        and path == tools.tool_dir("kubectl", "v1.37.2") / "kubectl"
    )
