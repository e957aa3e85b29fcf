"""harness.providers.containers.node.ContainerNode: the engine CLI argv it builds (nothing is run)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.providers.base import Node
from harness.providers.containers.node import ContainerNode
from tests.unit.conftest import Recorder

pytestmark = pytest.mark.unit

ENGINES = pytest.mark.parametrize("binary", ["docker", "podman"])


def node(binary: str) -> ContainerNode:
    return ContainerNode("demo-worker", "worker", binary=binary)


@ENGINES
def test_command_without_input(binary: str) -> None:
    cmd = node(binary).command("kubectl", "get", "nodes")
    assert cmd.argv == [binary, "exec", "demo-worker", "kubectl", "get", "nodes"]
    assert (cmd.input, cmd.timeout) == (None, None)


@ENGINES
@pytest.mark.parametrize("text", ["some input\n", ""], ids=["text", "empty"])
def test_command_with_input_adds_dash_i(binary: str, text: str) -> None:
    cmd = node(binary).command("sh", "-c", "cat > /x", input=text, timeout=5)
    assert cmd.argv == [binary, "exec", "-i", "demo-worker", "sh", "-c", "cat > /x"]
    assert (cmd.input, cmd.timeout) == (text, 5)


def test_default_engine_is_docker() -> None:
    assert ContainerNode("n", "worker").command("true").argv[0] == "docker"


@ENGINES
def test_copy_to_and_from(binary: str, recorder: Recorder) -> None:
    node(binary).copy_to(Path("/tmp/a.yaml"), "/root/a.yaml")
    node(binary).copy_from("/var/log/x", Path("/tmp/x"))
    assert [c.argv for c in recorder.cmds] == [
        [binary, "cp", "/tmp/a.yaml", "demo-worker:/root/a.yaml"],
        [binary, "cp", "demo-worker:/var/log/x", "/tmp/x"],
    ]


@ENGINES
def test_write_file_goes_through_stdin(binary: str, recorder: Recorder) -> None:
    node(binary).write_file("/etc/x/config.yaml", "a: 1\n", mode="0600")
    cmd = recorder.only
    assert cmd.argv[:6] == [binary, "exec", "-i", "demo-worker", "sh", "-c"]
    assert "cat > /etc/x/config.yaml" in cmd.argv[6]
    assert "chmod 0600 /etc/x/config.yaml" in cmd.argv[6]
    assert cmd.input == "a: 1\n"


@ENGINES
@pytest.mark.parametrize(("stdout", "ip"), [("172.18.0.2 10.0.0.9 \n", "172.18.0.2"), ("\n", "")])
def test_ip_is_the_first_address(binary: str, recorder: Recorder, stdout: str, ip: str) -> None:
    recorder.stdout = stdout
    assert node(binary).ip() == ip
    assert recorder.only.argv[:3] == [binary, "inspect", "--format"]
    assert recorder.only.argv[-1] == "demo-worker"


def test_is_a_node() -> None:
    n = node("docker")
    assert isinstance(n, Node)
    assert str(n) == "demo-worker"
