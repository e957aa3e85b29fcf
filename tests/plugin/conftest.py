"""pytester runs its inner sessions with HOME set to a temporary directory: without this, the
harness would find no cached kind, kubectl or node image there and build them from source again in
every inner session (minutes each). The cache is resolved once, before pytester changes HOME."""

from __future__ import annotations

import pytest

from harness.paths import cache_root

REAL_CACHE = str(cache_root())


@pytest.fixture(autouse=True)
def _real_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBE_HARNESS_CACHE", REAL_CACHE)
