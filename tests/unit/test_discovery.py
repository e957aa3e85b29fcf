"""Discovery modes as JoinConfiguration sections, the discovery file, and the JWS a fake
cluster-info carries (checked by the verifier the init scenarios use on the real one)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.cluster import Cluster
from harness.scenarios import discovery
from harness.scenarios.init import verify_jws
from harness.spec import spec_from_dict

pytestmark = pytest.mark.unit


def test_each_mode_is_the_discovery_section_kubeadm_documents() -> None:
    assert discovery.discovery("token", "cp:6443", "abcdef.0123456789abcdef", "sha256:aa") == {
        "bootstrapToken": {"apiServerEndpoint": "cp:6443", "token": "abcdef.0123456789abcdef",
                           "caCertHashes": ["sha256:aa"]}}  # fmt: skip
    unsafe = discovery.discovery("unsafe", "cp:6443", "t.s")["bootstrapToken"]
    assert unsafe["unsafeSkipCAVerification"] is True and "caCertHashes" not in unsafe
    assert discovery.discovery("file", "cp:6443", "t.s") == {
        "file": {"kubeConfigPath": discovery.DISCOVERY_FILE}, "tlsBootstrapToken": "t.s"}  # fmt: skip


def test_join_config_registers_spares_tainted_with_short_timeouts() -> None:
    doc = yaml.safe_load(discovery.join_config(discovery.discovery("file", "cp:6443", "t.s"), "5s", "20s"))
    assert doc["kind"] == "JoinConfiguration" and doc["timeouts"] == {"discovery": "5s", "tlsBootstrap": "20s"}
    assert doc["nodeRegistration"]["taints"] == [{"key": discovery.SPARE_TAINT, "effect": "NoSchedule"}]


def test_discovery_file_has_the_address_nodes_use_the_ca_and_no_credential(tmp_path: Path) -> None:
    admin = {"clusters": [{"name": "kind", "cluster": {"server": "https://127.0.0.1:40001",
                                                       "certificate-authority-data": "Q0E="}}],
             "users": [{"name": "admin", "user": {"client-key-data": "S0VZ"}}]}  # fmt: skip
    (tmp_path / "admin.conf").write_text(yaml.safe_dump(admin))
    cluster = Cluster(name="kh-d", provider="kind", run_id="r", kubeconfig=str(tmp_path / "admin.conf"))
    doc = yaml.safe_load(discovery.discovery_kubeconfig(cluster, "kh-d-control-plane:6443"))
    assert doc["clusters"][0]["cluster"] == {"server": "https://kh-d-control-plane:6443",
                                             "certificate-authority-data": "Q0E="}  # fmt: skip
    assert doc["users"] == [{"name": "discovery", "user": {}}] and doc["current-context"] == "discovery"


def test_the_fake_cluster_info_is_signed_as_the_bootstrap_signer_signs() -> None:
    fake = discovery.FakeClusterInfo("192.0.2.1", "abcdef.0123456789abcdef")
    fake.endpoint = "192.0.2.1:4443"
    data = fake.cluster_info()["data"]
    assert verify_jws(data["jws-kubeconfig-abcdef"], data["kubeconfig"], "abcdef", "0123456789abcdef")
    assert not verify_jws(data["jws-kubeconfig-abcdef"], data["kubeconfig"], "abcdef", "fedcba9876543210")
    ca = yaml.safe_load(data["kubeconfig"])["clusters"][0]["cluster"]["certificate-authority-data"]
    assert base64.b64decode(ca) == fake.cert  # its own CA: what the hash pin must refuse


def _state(mode: str | None) -> Any:
    from harness.providers.bringup import BringUp

    cluster = Cluster(name="kh-d", provider="kubeadm", run_id="r", endpoint="https://10.0.0.2:6443")
    spec = spec_from_dict({"join_discovery": mode} if mode else {})
    return BringUp(cluster, spec, provider=None, token="abcdef.0123456789abcdef",  # type: ignore[arg-type]
                   ca_hash="sha256:aa", ca_data="Q0E=")  # fmt: skip


@pytest.mark.parametrize(
    ("mode", "discovery_args"),
    [
        (None, ["10.0.0.2:6443", "--token", "abcdef.0123456789abcdef", "--discovery-token-ca-cert-hash", "sha256:aa"]),
        ("unsafe", ["10.0.0.2:6443", "--token", "abcdef.0123456789abcdef",
                    "--discovery-token-unsafe-skip-ca-verification"]),
        ("file", ["--discovery-file", discovery.DISCOVERY_FILE, "--tls-bootstrap-token", "abcdef.0123456789abcdef"]),
    ],
)  # fmt: skip
def test_create_joins_by_the_specs_discovery_mode(mode: str | None, discovery_args: list[str]) -> None:
    from harness.bootstrap.flow import join_argv

    argv = join_argv(_state(mode), None, control_plane=False)  # type: ignore[arg-type]
    assert argv[:2] == ["kubeadm", "join"] and argv[2 : 2 + len(discovery_args)] == discovery_args


def test_file_discovery_writes_the_file_private_before_the_join() -> None:
    from harness.bootstrap.flow import discovery_file

    written: list[tuple[str, str, str]] = []
    node = type("N", (), {"write_file": lambda self, *a: written.append(a)})()
    discovery_file(_state("token"), node)
    assert written == []
    discovery_file(_state("file"), node)
    ((path, text, mode),) = written
    assert path == discovery.DISCOVERY_FILE and mode == "0600"
    assert yaml.safe_load(text)["clusters"][0]["cluster"] == {"server": "https://10.0.0.2:6443",
                                                               "certificate-authority-data": "Q0E="}  # fmt: skip


def test_kind_refuses_the_modes_its_own_join_config_cannot_do() -> None:
    from harness.errors import UsageError
    from harness.providers.containers.checks import validate_kind

    with pytest.raises(UsageError, match="kind joins nodes with a JoinConfiguration of its own") as err:
        validate_kind(spec_from_dict({"join_discovery": "file"}))
    assert "--provider kubeadm" in (err.value.fix or "")
