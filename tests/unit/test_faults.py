"""Fault context managers (inject/revert semantics) and the iptables scripts of network faults."""

from __future__ import annotations

import pytest

from harness.faults import network
from harness.faults.base import Fault

pytestmark = pytest.mark.unit


def test_fault_reverts_on_exit_and_records_times() -> None:
    calls: list[str] = []
    with Fault("x", "n1", lambda: calls.append("inject"), lambda: calls.append("revert")) as f:
        assert calls == ["inject"] and f.injected_at > 0 and f.reverted_at == 0
    assert calls == ["inject", "revert"] and f.reverted_at >= f.injected_at
    assert f.record()["fault"] == "x" and f.record()["target"] == "n1"


def test_fault_reverts_when_the_body_fails() -> None:
    calls: list[str] = []
    with pytest.raises(RuntimeError), Fault("x", "n1", lambda: calls.append("inject"), lambda: calls.append("revert")):
        raise RuntimeError("test body failed")
    assert calls == ["inject", "revert"]


def test_half_injected_fault_is_reverted() -> None:
    calls: list[str] = []

    def inject() -> None:
        calls.append("inject")
        raise OSError("docker went away")

    with pytest.raises(OSError), Fault("x", "n1", inject, lambda: calls.append("revert")):
        pass
    assert calls == ["inject", "revert"]


def test_partition_script_uses_its_own_chain_on_every_hook() -> None:
    script = network._script_inject(["-s 10.0.0.2 -j DROP", "-d 10.0.0.2 -j DROP"])
    for hook in network.HOOKS:
        assert f"iptables -w -I {hook} 1 -j KH-FAULT" in script
    assert script.endswith("iptables -w -A KH-FAULT -d 10.0.0.2 -j DROP")


def test_revert_script_removes_jumps_and_chain_idempotently() -> None:
    script = network._script_revert()
    assert all(f"iptables -w -D {h} -j KH-FAULT" in script for h in network.HOOKS)
    assert "iptables -w -X KH-FAULT" in script and script.endswith("true")
