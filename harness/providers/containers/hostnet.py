"""The address pools Docker cuts node networks from (pure logic: the caller reads daemon.json)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.spec.hostnet import parse_net

# Docker's built-in local-scope pools when daemon.json sets no default-address-pools: moby
# libnetwork/ipamutils/utils.go localScopeDefaultNetworks (the bases; the size each is split into
# has changed between Docker releases, 22 bits in older ones, /16 and /20 in newer ones).
DOCKER_DEFAULT_POOLS = ("172.17.0.0/16", "172.18.0.0/15", "172.20.0.0/14", "172.24.0.0/13", "192.168.0.0/16")


def docker_address_pools(daemon_json: Mapping[str, Any]) -> list[str]:
    """The bases of daemon.json's ``default-address-pools``, or Docker's built-in pools when it sets none.

    Docker replaces its built-in pools with the configured ones (it does not add to them). A malformed
    entry is a ValueError naming it (Docker itself would refuse to start with it).
    """
    pools = daemon_json.get("default-address-pools")
    if not pools:
        return list(DOCKER_DEFAULT_POOLS)
    if not isinstance(pools, list):
        raise ValueError(f"daemon.json default-address-pools: a list of {{base, size}} objects, not {pools!r}")
    bases: list[str] = []
    for i, pool in enumerate(pools):
        where = f"daemon.json default-address-pools[{i}]"
        base = pool.get("base") if isinstance(pool, Mapping) else None
        if not isinstance(base, str):
            raise ValueError(f"{where}: {pool!r} has no 'base' CIDR")
        bases.append(str(parse_net(base, where)))
    return bases
