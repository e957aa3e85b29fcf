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
