"""harness.images.versions: version parsing, kubeadm constants and the image names kubeadm expects."""

from __future__ import annotations

import pytest

from harness.errors import UsageError
from harness.images.versions import (
    KubeadmConstants,
    KubeVersion,
    image_set,
    parse_kubeadm_constants,
    parse_version,
)

pytestmark = pytest.mark.unit

# Imitates cmd/kubeadm/app/constants/constants.go: constants in a const block, the etcd table in a var block.
CONSTANTS_GO = """\
package constants

const (
	// DefaultEtcdVersion indicates the default etcd version that kubeadm uses
	DefaultEtcdVersion = "3.6.5-0"

	// PauseVersion indicates the default pause image version for kubeadm
	PauseVersion = "3.10.2"

	// CoreDNSVersion is the version of CoreDNS to be deployed if it is used
	CoreDNSVersion = "v1.14.6"
)

var (
	// SupportedEtcdVersion lists officially supported etcd versions with corresponding Kubernetes releases
	SupportedEtcdVersion = map[uint8]string{
		34: "3.7.0-0",
		35: "3.7.0-0",
		36: "3.7.0-0",
	}
)
"""

EXPECTED_V1_37_2 = [
    "registry.k8s.io/kube-apiserver:v1.37.2",
    "registry.k8s.io/kube-controller-manager:v1.37.2",
    "registry.k8s.io/kube-scheduler:v1.37.2",
    "registry.k8s.io/kube-proxy:v1.37.2",
    "registry.k8s.io/pause:3.10.2",
    "registry.k8s.io/etcd:3.7.0-0",
    "registry.k8s.io/coredns/coredns:v1.14.6",
]


def consts(table: dict[int, str]) -> KubeadmConstants:
    return KubeadmConstants(pause="3.10.2", coredns="v1.14.6", etcd_default="3.6.5-0", etcd_by_minor=table)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("v1.37.2", KubeVersion("v1.37.2", 37, 2)),
        ("1.37.2", KubeVersion("v1.37.2", 37, 2)),
        ("v1.38.0-rc.1", KubeVersion("v1.38.0-rc.1", 38, 0)),
        ("1.38.0-alpha.3", KubeVersion("v1.38.0-alpha.3", 38, 0)),
        ("v1.34.0", KubeVersion("v1.34.0", 34, 0)),
    ],
)
def test_parse_version_accepts(text: str, expected: KubeVersion) -> None:
    assert parse_version(text) == expected


def test_version_staging_and_str(v1_37_2: KubeVersion) -> None:
    assert v1_37_2.staging == "v0.37.2"
    assert str(v1_37_2) == "v1.37.2"
    assert parse_version("v1.38.0-rc.1").staging == "v0.38.0-rc.1"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("banana", "unknown Kubernetes version 'banana'"),
        ("v2.0.0", "unknown Kubernetes version 'v2.0.0'"),
        ("v1.37", "unknown Kubernetes version 'v1.37'"),
        ("v1.37.2-gamma.1", "unknown Kubernetes version"),
        ("", "unknown Kubernetes version"),
        ("v1.30.1", "Kubernetes v1.30.1 is older than the harness supports"),
        ("1.33.9", "Kubernetes v1.33.9 is older than the harness supports"),
    ],
)
def test_parse_version_rejects(text: str, problem: str) -> None:
    with pytest.raises(UsageError) as err:
        parse_version(text)
    assert problem in err.value.message
    assert err.value.fix
    assert "v1.37.2" in err.value.fix
    assert err.value.exit_code == 2


def test_parse_kubeadm_constants() -> None:
    parsed = parse_kubeadm_constants(CONSTANTS_GO)
    assert parsed == KubeadmConstants(
        pause="3.10.2",
        coredns="v1.14.6",
        etcd_default="3.6.5-0",
        etcd_by_minor={34: "3.7.0-0", 35: "3.7.0-0", 36: "3.7.0-0"},
    )


def test_parse_kubeadm_constants_without_etcd_table_uses_default() -> None:
    source = CONSTANTS_GO[: CONSTANTS_GO.index("var (")]
    parsed = parse_kubeadm_constants(source)
    assert parsed.etcd_by_minor == {}
    assert parsed.etcd_tag(37) == "3.6.5-0"


def test_parse_kubeadm_constants_missing_constant() -> None:
    with pytest.raises(ValueError, match="CoreDNSVersion"):
        parse_kubeadm_constants(CONSTANTS_GO.replace("CoreDNSVersion", "SomethingElse"))


@pytest.mark.parametrize(
    ("minor", "tag"),
    [
        (35, "3.6.5-0"),  # in the table
        (36, "3.7.0-0"),
        (37, "3.7.0-0"),  # above: the highest entry
        (40, "3.7.0-0"),
        (33, "3.6.4-0"),  # below: the lowest entry
    ],
)
def test_etcd_tag(minor: int, tag: str) -> None:
    assert consts({36: "3.7.0-0", 34: "3.6.4-0", 35: "3.6.5-0"}).etcd_tag(minor) == tag


def test_image_set_matches_kubeadm_images_list(v1_37_2: KubeVersion) -> None:
    images = image_set(v1_37_2, parse_kubeadm_constants(CONSTANTS_GO))
    assert images.names() == EXPECTED_V1_37_2


def test_image_set_other_registry(v1_37_2: KubeVersion) -> None:
    images = image_set(v1_37_2, consts({37: "3.7.0-0"}), registry="example.invalid/mirror")
    assert images.apiserver == "example.invalid/mirror/kube-apiserver:v1.37.2"
    assert images.coredns == "example.invalid/mirror/coredns/coredns:v1.14.6"


def test_image_set_versions(v1_37_2: KubeVersion) -> None:
    images = image_set(v1_37_2, consts({37: "3.7.0-0"}))
    assert images.etcd_version == "v3.7.0"
    assert images.coredns_version == "v1.14.6"


def test_a_version_with_a_trailing_newline_is_refused() -> None:
    """``$`` also matches before a final newline: the whole text must be the version."""
    from harness.errors import UsageError
    from harness.images.versions import parse_version

    with pytest.raises(UsageError):
        parse_version("v1.37.2\n")
