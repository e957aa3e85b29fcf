"""Linux capabilities of this process versus what the kernel knows."""

from __future__ import annotations

from pathlib import Path

from harness.host.runc_shim import CAP_NAMES


def cap_name(bit: int) -> str:
    return "CAP_" + CAP_NAMES[bit] if bit < len(CAP_NAMES) else f"CAP_{bit}"


def bounding_mask(status: str | None = None) -> int:
    text = status if status is not None else Path("/proc/self/status").read_text()
    for line in text.splitlines():
        if line.startswith("CapBnd:"):
            return int(line.split()[1], 16)
    raise ValueError("no CapBnd line in /proc/self/status")


def last_cap() -> int:
    return int(Path("/proc/sys/kernel/cap_last_cap").read_text())


def missing_caps(mask: int, last: int) -> list[str]:
    """Capabilities the kernel knows (bits 0..last) that the bounding set ``mask`` lacks."""
    return [cap_name(bit) for bit in range(last + 1) if not mask >> bit & 1]
