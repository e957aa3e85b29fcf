"""Shared by the benchmarks: where results go and the machine/date fields every result carries."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent.parent / "reports" / "bench"


def machine() -> str:
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal:"))  # fmt: skip
    return f"{platform.node()} {os.cpu_count()} cpu {mem_kb // (1 << 20)} GiB {platform.release()}"


def write(name: str, values: dict[str, float | int | str]) -> Path:
    """Write ``reports/bench/<name>.json``: flat named numbers plus machine and date."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{name}.json"
    doc = {**values, "machine": machine(), "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    out.write_text(json.dumps(doc, indent=2) + "\n")
    return out
