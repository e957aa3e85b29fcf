"""Clusters shared by every pytest(-xdist) worker of one session: a file lock and a JSON registry.

The registry lives in the directory all xdist workers share (the parent of each worker's base
temp dir, as pytest-xdist recommends). The first worker that needs a cluster for a given
(provider, spec) creates it under that cluster's own lock and records its name; the others attach
to it. Different clusters are created concurrently. The
process that is not an xdist worker (the controller, or pytest itself without xdist) deletes every
registered cluster at session end, after all workers are done: a worker that finishes early never
pulls a cluster away from the others. A creation that failed is recorded too, so the other
workers fail fast with the same error instead of trying again.

Every worker knows the whole collection, so it knows how many tests want each cluster; each test
that ends is entered in the registry, and the worker that ends the last one is told to release
the cluster at once (``finished``) instead of leaving it idle, burning CPU, until the session ends.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock

from harness.cluster import Cluster
from harness.errors import HarnessError

REGISTRY = "kube-harness-clusters.json"
LOCK = "kube-harness-clusters.lock"
PLAN = "kube-harness-plan.json"


def cluster_key(provider: str, spec: Any) -> str:
    blob = json.dumps({"provider": provider, "spec": spec.model_dump(mode="json")}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


class SharedCreateFailed(HarnessError):
    """Another worker tried to create this shared cluster and failed."""


@dataclass
class Registry:
    root: Path

    @property
    def path(self) -> Path:
        return self.root / REGISTRY

    def _read(self) -> dict[str, dict[str, Any]]:
        return json.loads(self.path.read_text()) if self.path.exists() else {}

    def _write(self, doc: dict[str, dict[str, Any]]) -> None:
        _replace(self.path, json.dumps(doc, indent=2))

    def _live(self) -> dict[str, dict[str, Any]]:
        """Entries of the clusters that are up and not released."""
        with self._global():
            return {k: e for k, e in self._read().items() if "name" in e and not e.get("released")}

    def _global(self) -> FileLock:
        """Guards the registry file (held briefly)."""
        return FileLock(str(self.root / LOCK), timeout=3600)

    def _key_lock(self, key: str) -> FileLock:
        """Held while one cluster is created: workers wanting other clusters are not held up."""
        return FileLock(str(self.root / f"kube-harness-cluster-{key}.lock"), timeout=3600)

    def acquire(self, key: str, worker: str, create: Callable[[], Cluster]) -> Cluster:
        """The cluster registered under ``key``, created by ``create`` if nobody did yet."""
        self.root.mkdir(parents=True, exist_ok=True)
        with self._key_lock(key):
            with self._global():
                entry = self._read().get(key)
            if entry is None or entry.get("released"):
                try:
                    cluster = create()
                except BaseException as exc:
                    self._update(key, {"error": f"{type(exc).__name__}: {exc}", "users": [worker]})
                    raise
                self._update(key, {"name": cluster.name, "users": [worker]})
                return cluster
            if "error" in entry:
                raise SharedCreateFailed(f"the shared cluster failed to come up in another worker: {entry['error']}",
                                         fix="see that worker's output and the run record under reports/")  # fmt: skip
            self._update(key, {**entry, "users": sorted({*entry["users"], worker})})
            return Cluster.load(entry["name"])

    def _update(self, key: str, entry: dict[str, Any]) -> None:
        with self._global():
            doc = self._read()
            doc[key] = entry
            self._write(doc)

    def pin(self, key: str) -> None:
        """A session or module fixture holds cluster ``key``: it is not released after its last
        test (the fixture's teardown may still need it); the session's end deletes it."""
        with self._key_lock(key), self._global():
            doc = self._read()
            if key in doc:
                doc[key]["pinned"] = True
                self._write(doc)

    def wanted_now(self, key: str) -> None:
        """A test is waiting for cluster ``key``: a background creation of it stops yielding the CPU."""
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / f"kube-harness-wanted-{key}").touch()

    def is_wanted_now(self, key: str) -> bool:
        return (self.root / f"kube-harness-wanted-{key}").exists()

    def finished(self, key: str, nodeid: str, total: int) -> str | None:
        """Enter the end of test ``nodeid`` on cluster ``key``, one of ``total`` tests wanting it;
        the cluster's name when that was the last one (it is then marked released), else None."""
        with self._key_lock(key), self._global():
            doc = self._read()
            entry = doc.get(key)
            if not entry or "name" not in entry or entry.get("released"):
                return None
            entry["done"] = sorted({*entry.get("done", []), nodeid})
            entry["released"] = len(entry["done"]) >= total and not entry.get("pinned")
            self._write(doc)
            return str(entry["name"]) if entry["released"] else None

    def set_plan(self, plan: dict[str, str]) -> None:
        """Record which test (node id) wants which shared cluster (key), for the xdist scheduler."""
        self.root.mkdir(parents=True, exist_ok=True)
        _replace(self.root / PLAN, json.dumps(plan))

    def plan(self) -> dict[str, str]:
        path = self.root / PLAN
        return dict(json.loads(path.read_text())) if path.exists() else {}

    def ready(self) -> set[str]:
        """Keys of the clusters that are up and not released."""
        return set(self._live())

    def names(self) -> list[str]:
        """The registered clusters not released yet (the session's end deletes them)."""
        return [e["name"] for e in self._live().values()]

    def clear(self) -> None:
        with self._global():
            self.path.unlink(missing_ok=True)


def _replace(path: Path, text: str) -> None:
    """Write ``path`` atomically (readers in other processes never see half a file)."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    tmp.replace(path)
