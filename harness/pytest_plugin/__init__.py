"""The kube-harness pytest plugin (registered through the ``pytest11`` entry point)."""

from __future__ import annotations

import pytest

TIER_MARKERS = {
    "unit": "pure logic, no Docker, seconds",
    "cluster": "needs Docker and the node image; makes real clusters",
    "vm": "needs libvirt/Vagrant VMs",
    "slow": "long-running (minutes)",
}


def pytest_configure(config: pytest.Config) -> None:
    for name, doc in TIER_MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {doc}")
