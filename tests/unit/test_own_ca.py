"""spec.ca: a CA of one's own, checked before anything is created, anchored at the spec file,
mounted (kind) on the first control plane only; external-CA mode refused, saying why."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.errors import UsageError
from harness.providers.containers import kindconfig
from harness.scenarios.pki import make_ca, pem, self_signed_ca
from harness.spec import load_spec, spec_from_dict
from harness.spec.ca import CA_CERT, CA_KEY

pytestmark = pytest.mark.unit


def test_a_ca_and_its_private_key_pass(tmp_path: Path) -> None:
    crt, key = make_ca(tmp_path)
    spec = spec_from_dict({"ca": {"cert": str(crt), "key": str(key)}})
    assert spec.ca is not None
    spec.ca.check()
    assert spec.ca.read()[0].startswith("-----BEGIN CERTIFICATE-----")


def test_relative_paths_are_the_spec_files(tmp_path: Path) -> None:
    make_ca(tmp_path / "pki")
    (tmp_path / "spec.yaml").write_text("ca: {cert: pki/ca.crt, key: pki/ca.key}\n")
    spec = load_spec(tmp_path / "spec.yaml")
    assert spec.ca is not None and spec.ca.cert == tmp_path / "pki" / "ca.crt"


def test_external_ca_mode_is_refused_saying_why(tmp_path: Path) -> None:
    crt, _ = make_ca(tmp_path)
    with pytest.raises(UsageError, match="external-CA mode, which needs every certificate and kubeconfig"):
        spec_from_dict({"ca": {"cert": str(crt)}})


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("open", "readable by others \\(mode 0644\\); chmod 600"),
        ("other-key", "is not the key of ca.cert"),
        ("not-ca", "not a PEM certificate|not a readable PEM certificate"),
    ],
)
def test_unusable_files_are_named_with_the_fix(tmp_path: Path, damage: str, message: str) -> None:
    crt, key = make_ca(tmp_path)
    if damage == "open":
        key.chmod(0o644)
    elif damage == "other-key":
        key.write_bytes(pem(*self_signed_ca("another"))[1])
    else:
        crt.write_text("not a certificate\n")
    spec = spec_from_dict({"ca": {"cert": str(crt), "key": str(key)}})
    assert spec.ca is not None
    with pytest.raises(UsageError, match=message) as err:
        spec.ca.check()
    assert err.value.fix


def test_kind_mounts_the_ca_on_the_first_control_plane_only(tmp_path: Path) -> None:
    crt, key = make_ca(tmp_path)
    spec = spec_from_dict({"control_planes": 3, "workers": 1, "ca": {"cert": str(crt), "key": str(key)}})
    nodes = yaml.safe_load(kindconfig.from_spec(spec, cgroup_v1=False))["nodes"]
    mounts = [[m["containerPath"] for m in n.get("extraMounts", [])] for n in nodes]
    assert mounts == [[CA_CERT, CA_KEY], [], [], []]
