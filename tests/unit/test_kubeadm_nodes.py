"""harness.providers.containers.nodes / loadbalancer: node naming and the haproxy configuration."""

from __future__ import annotations

import io
import tarfile

import pytest

from harness.cluster import NodeInfo
from harness.providers.containers.loadbalancer import _config_tar, haproxy_config
from harness.providers.containers.nodes import lb_name, network_name, node_names

pytestmark = pytest.mark.unit

CP, WORKER = "control-plane", "worker"


HA = [("x-control-plane", CP), ("x-control-plane2", CP), ("x-control-plane3", CP), ("x-worker", WORKER),
      ("x-worker2", WORKER)]  # fmt: skip


@pytest.mark.parametrize(
    ("control_planes", "workers", "expected"),
    [(1, 0, HA[:1]), (1, 1, [HA[0], HA[3]]), (3, 2, HA), (3, 0, HA[:3]), (0, 0, [])],
)
def test_node_names_follow_kind(control_planes: int, workers: int, expected: list[tuple[str, str]]) -> None:
    assert node_names("x", control_planes, workers) == expected


def test_node_names_beyond_nine_are_not_padded() -> None:
    assert node_names("x", 1, 10)[-1] == ("x-worker10", WORKER)


def test_lb_and_network_names() -> None:
    assert lb_name("demo") == "demo-external-load-balancer"
    assert network_name("demo") == "kh-demo"


# -- haproxy ---------------------------------------------------------------------------------------

BACKENDS = [NodeInfo("x-control-plane", CP, "172.18.0.2"), NodeInfo("x-control-plane2", CP, "172.18.0.3"),
            NodeInfo("x-control-plane3", CP, "172.18.0.4")]  # fmt: skip


def server_lines(config: str) -> list[list[str]]:
    return [line.split() for line in config.splitlines() if line.strip().startswith("server ")]


def test_one_server_per_control_plane() -> None:
    servers = server_lines(haproxy_config(BACKENDS))
    assert [s[1:3] for s in servers] == [[n.name, f"{n.ip}:6443"] for n in BACKENDS]
    assert all("check" in s for s in servers)


def test_health_check_on_readyz() -> None:
    config = haproxy_config(BACKENDS)
    lines = [line.strip() for line in config.splitlines()]
    assert "option httpchk GET /readyz" in lines
    assert "http-check expect status 200" in lines
    assert "bind *:6443" in lines
    assert "mode tcp" in lines
    # the check and the servers belong to the backend section the frontend sends to
    backend = lines.index("backend control-planes")
    assert backend < lines.index("option httpchk GET /readyz") < lines.index(" ".join(server_lines(config)[0]))
    assert "default_backend control-planes" in lines


def test_no_backends_no_servers() -> None:
    assert server_lines(haproxy_config([])) == []


def test_config_tar_holds_haproxy_cfg() -> None:
    text = haproxy_config(BACKENDS) + "# ünïcode counts in bytes\n"
    with tarfile.open(fileobj=io.BytesIO(_config_tar(text))) as tar:
        (member,) = tar.getmembers()
        assert (member.name, member.isfile(), member.size) == ("haproxy.cfg", True, len(text.encode()))
        extracted = tar.extractfile(member)
        assert extracted is not None
        assert extracted.read().decode() == text
