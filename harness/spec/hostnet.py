"""Does a cluster's address ranges collide with what the host already routes? Pure logic, no I/O.

The caller (a provider) collects what is taken on the live host (its networks, its engine's address
pools, ``ip -j route``) and passes it in as ``(what, CIDR)`` pairs:

>>> subnet_conflicts({"pod_subnet": "172.18.0.0/16"}, [("Docker network kh-foo", "172.18.0.0/16")])[0][:62]
'pod_subnet 172.18.0.0/16 overlaps Docker network kh-foo 172.18'
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any

Net = ipaddress.IPv4Network | ipaddress.IPv6Network

# Where a replacement range is looked for (RFC 1918), in this order.
PRIVATE_SPACES = tuple(ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


def parse_net(cidr: str, what: str) -> Net:
    try:
        return ipaddress.ip_network(cidr.strip(), strict=False)  # like Go's net.ParseCIDR: host bits are dropped
    except ValueError as e:
        raise ValueError(f"{what}: {cidr!r} is not a CIDR ({e})") from None


def labelled_host_routes(ip_json: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """``("host route dev eth0", "10.0.0.0/24")`` for each route of ``ip -j route`` output but the default one."""
    out: list[tuple[str, str]] = []
    for i, route in enumerate(ip_json):
        dst = route.get("dst")
        if not isinstance(dst, str) or dst == "default":
            continue
        net = parse_net(dst, f"ip route entry {i}")  # a host route ("10.0.0.1") is a /32
        if net.prefixlen == 0:
            continue  # 0.0.0.0/0 written out: the default route too
        dev = route.get("dev")
        what = f"host route {'dev ' + dev if isinstance(dev, str) else route.get('type', 'route')}"
        if (what, str(net)) not in out:
            out.append((what, str(net)))
    return out


def host_routes(ip_json: Sequence[Mapping[str, Any]]) -> list[str]:
    """The destination CIDRs of ``ip -j route`` output, without the default route, each once."""
    return list(dict.fromkeys(cidr for _, cidr in labelled_host_routes(ip_json)))


def _relation(mine: Net, other: Net) -> str:
    """How two overlapping CIDR blocks relate: overlapping aligned blocks always nest."""
    if mine.prefixlen == other.prefixlen:
        return "the same range"
    return "the other lies inside it" if other.prefixlen > mine.prefixlen else "it lies inside the other"


def free_range(prefixlen: int, avoid: Sequence[Net]) -> ipaddress.IPv4Network | None:
    """The first IPv4 /prefixlen in 10/8, 172.16/12, 192.168/16 that overlaps nothing in ``avoid``."""
    size = 2 ** (32 - prefixlen)
    v4 = [a for a in avoid if isinstance(a, ipaddress.IPv4Network)]
    for space in PRIVATE_SPACES:
        start, end = int(space.network_address), int(space.broadcast_address)
        while prefixlen >= space.prefixlen and start + size - 1 <= end:
            candidate = ipaddress.IPv4Network((start, prefixlen))
            hit = next((a for a in v4 if a.overlaps(candidate)), None)
            if hit is None:
                return candidate
            after = int(hit.broadcast_address) + 1
            start = max(start + size, -(-after // size) * size)  # the next aligned block past the collision
    return None


def subnet_conflicts(subnets: Mapping[str, str], taken: Sequence[tuple[str, str]]) -> list[str]:
    """One message per overlap of a cluster range (``{"pod_subnet": CIDR, ...}``) with a taken ``(what, CIDR)``."""
    mine = {field: parse_net(cidr, field) for field, cidr in subnets.items()}
    others = [(what, parse_net(cidr, what)) for what, cidr in taken]
    problems: list[str] = []
    for field, net in mine.items():
        hits = [(what, o) for what, o in others if o.version == net.version and o.overlaps(net)]
        if not hits:
            continue
        avoid = [o for _, o in others] + [n for f, n in mine.items() if f != field]
        spare = free_range(net.prefixlen, avoid) if net.version == 4 else None
        fix = f"pick another range for {field}" + (
            f", e.g. {spare}" if spare else " (no private range of this size is free: use a smaller one)"
        )
        problems += [
            f"{field} {net} overlaps {what} {o} ({_relation(net, o)}): traffic to the shared addresses would "
            f"reach only one of them; {fix}"
            for what, o in hits
        ]
    return problems
