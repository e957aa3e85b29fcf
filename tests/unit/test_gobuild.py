"""harness.images.gobuild: the wrapper module around k8s.io/kubernetes and the version stamp."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.images.gobuild import staging_modules, version_ldflags, wrapper_gomod
from harness.images.versions import KubeVersion

pytestmark = pytest.mark.unit

# Imitates the shape of k8s.io/kubernetes' go.mod: staging modules replaced with local paths.
KUBERNETES_GOMOD = """\
module k8s.io/kubernetes

go 1.25.0

require (
	github.com/example/dep v1.2.3
	k8s.io/api v0.0.0
	k8s.io/client-go v0.0.0
)

replace (
	github.com/example/other => github.com/example/other v0.9.0
	k8s.io/api => ./staging/src/k8s.io/api
	k8s.io/client-go => ./staging/src/k8s.io/client-go
	k8s.io/component-base => ./staging/src/k8s.io/component-base
)
"""
STAGING = ["k8s.io/api", "k8s.io/client-go", "k8s.io/component-base"]


def test_staging_modules() -> None:
    assert staging_modules(KUBERNETES_GOMOD) == STAGING


def test_wrapper_gomod_release(v1_37_2: KubeVersion) -> None:
    text = wrapper_gomod(v1_37_2, KUBERNETES_GOMOD)
    lines = text.splitlines()
    assert lines[0] == "module kube-harness.local/build"
    assert "go 1.25.0" in lines
    assert "require k8s.io/kubernetes v1.37.2" in lines
    assert "\tk8s.io/api => k8s.io/api v0.37.2" in lines
    assert "\tk8s.io/client-go => k8s.io/client-go v0.37.2" in lines
    assert "\tk8s.io/component-base => k8s.io/component-base v0.37.2" in lines
    assert "staging/src" not in text
    assert "k8s.io/kubernetes =>" not in text
    assert "github.com/example/other" not in text


def test_wrapper_gomod_from_source(v1_37_2: KubeVersion) -> None:
    lines = wrapper_gomod(v1_37_2, KUBERNETES_GOMOD, source=Path("/src/kubernetes")).splitlines()
    assert "require k8s.io/kubernetes v0.0.0" in lines
    assert "\tk8s.io/kubernetes => /src/kubernetes" in lines
    for mod in STAGING:
        assert f"\t{mod} => /src/kubernetes/staging/src/{mod}" in lines
    assert not [line for line in lines if "v0.37.2" in line]


def test_wrapper_gomod_without_go_line(v1_37_2: KubeVersion) -> None:
    gomod = KUBERNETES_GOMOD.replace("go 1.25.0\n", "")
    assert "go 1.24" in wrapper_gomod(v1_37_2, gomod).splitlines()


def test_version_ldflags(v1_37_2: KubeVersion) -> None:
    flags = version_ldflags(v1_37_2)
    assert flags.startswith("-s -w ")
    for pkg in ("k8s.io/client-go/pkg/version", "k8s.io/component-base/version"):
        assert f"-X {pkg}.gitVersion=v1.37.2" in flags
        assert f"-X {pkg}.gitMajor=1" in flags
        assert f"-X {pkg}.gitMinor=37" in flags
        assert f"-X {pkg}.gitTreeState=clean" in flags
