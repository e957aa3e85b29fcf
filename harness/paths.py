"""Where the harness keeps its cache and writes its output (both overridable by environment)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """``$KUBE_HARNESS_CACHE`` or ``$XDG_CACHE_HOME/kube-harness`` or ``~/.cache/kube-harness``."""
    if env := os.environ.get("KUBE_HARNESS_CACHE"):
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kube-harness"


def reports_root() -> Path:
    """``$KUBE_HARNESS_REPORTS`` or ``./reports``."""
    return Path(os.environ.get("KUBE_HARNESS_REPORTS", "reports"))


def go_cache() -> Path:
    """GOCACHE for every Go build the harness runs (kept between runs: warm rebuilds are fast)."""
    return Path(os.environ.get("KUBE_HARNESS_GOCACHE") or cache_root() / "go" / "build")
