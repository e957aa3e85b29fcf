"""Service-CIDR isolation on nodes: the rules and the unit that keeps them."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.unit


def test_service_cidr_isolation_rejects_untranslated_traffic_first_and_idempotently() -> None:
    from harness.bootstrap import isolation

    text = isolation.script("10.96.0.0/16")
    for chain in ("OUTPUT", "FORWARD"):
        assert f"iptables -w -C {chain} -d 10.96.0.0/16" in text and f"iptables -w -I {chain} 1 -d 10.96.0.0/16" in text
    assert "ip6tables" in isolation.script("fd00:10:96::/112")
    unit = isolation.unit(["10.96.0.0/16", "fd00:10:96::/112"])
    assert "RemainAfterExit=yes" in unit and "WantedBy=multi-user.target" in unit and "ip6tables" in unit


def test_isolation_installs_enables_and_applies_in_one_node_command() -> None:
    from harness.bootstrap import isolation

    class Node:
        calls: list[tuple[tuple[str, ...], str | None]] = []

        def command(self, *argv: str, input: str | None = None, timeout: float | None = None):
            self.calls.append((argv, input))
            return type("C", (), {"run": lambda self: None})()

    node = Node()
    isolation.isolate(node, "10.96.0.0/16")  # type: ignore[arg-type]
    [(argv, stdin)] = node.calls
    assert argv[:2] == ("sh", "-c") and "systemctl" not in argv[2]
    assert f"multi-user.target.wants/{isolation.UNIT}" in argv[2] and "iptables -w -I OUTPUT 1" in argv[2]
    assert stdin is not None and "10.96.0.0/16" in stdin
