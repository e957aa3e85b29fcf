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
    """``$KUBE_HARNESS_REPORTS``, else ``$ARTIFACTS`` (the CI convention of kinder and test-infra:
    one output root for records, logs, bundles, JUnit and HTML), else ``./reports``."""
    return Path(os.environ.get("KUBE_HARNESS_REPORTS") or os.environ.get("ARTIFACTS") or "reports")


def go_cache() -> Path:
    """GOCACHE for every Go build the harness runs (kept between runs: warm rebuilds are fast)."""
    return Path(os.environ.get("KUBE_HARNESS_GOCACHE") or cache_root() / "go" / "build")


def private_dir(path: Path) -> Path:
    """``path`` made (with its parents) and readable by its owner only (0700): run folders and
    bundles hold kubeconfigs and node journals."""
    path.mkdir(parents=True, exist_ok=True)
    if path.stat().st_mode & 0o777 != 0o700:
        path.chmod(0o700)
    return path


def write_private(path: Path, text: str) -> Path:
    """Write a file that must hold a secret (a kubeconfig, a key): created 0600, never readable by others."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        os.fchmod(fh.fileno(), 0o600)
        fh.write(text)
    return path
