"""Probe pods made once per cluster and pytest session, shared by every xdist worker.

Probe pods are read-only echo servers; the tests only add objects of their own (Services, pods
with names no other test uses) next to them. So the workers of one session share one set per
cluster: the first to ask deploys it under a file lock in the session's shared directory, the
others find it there (re-applying the same manifests changes nothing). Each worker counts itself
in as a user; the last one out deletes the namespace, unless the cluster went first (a shared
cluster is removed after its last test). Namespaces are named after the session, so two sessions
on one kept cluster never share or delete each other's probes.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from filelock import FileLock

from harness.cluster import Cluster
from harness.scenarios.probes import Probes


@dataclass
class ProbeSets:
    root: Path  # the directory all processes of the session share
    session: str  # part of the namespace names
    pid: int = field(default_factory=os.getpid)  # who counts in and out
    made: dict[tuple[str, str], Probes] = field(default_factory=dict)
    used: list[tuple[Cluster, str]] = field(default_factory=list)

    def get(self, cluster: Cluster, role: str, nodes: list[str], extra: int) -> Probes:
        """The ``role`` probe set of ``cluster`` (``kh-<role>-<session>``), deployed if need be."""
        key = (cluster.name, role)
        if key not in self.made:
            namespace = f"kh-{role}-{self.session}"
            with self._lock(cluster):
                cluster.kubectl("create", "namespace", namespace, check=False)  # exists if another worker made it
                self.made[key] = Probes.deploy(cluster, namespace, nodes, extra=extra)
                self._count(cluster, namespace, +1)
            self.used.append((cluster, namespace))
        return self.made[key]

    def release(self) -> None:
        """Count this process out; the last user deletes the namespace if its cluster is still there."""
        for cluster, namespace in self.used:
            with self._lock(cluster):
                if self._count(cluster, namespace, -1) == 0 and cluster.state_path.exists():
                    cluster.kubectl("delete", "namespace", namespace, "--wait=false", "--ignore-not-found",
                                    check=False)  # fmt: skip
        self.used.clear()

    def _lock(self, cluster: Cluster) -> FileLock:
        self.root.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.root / f"kh-probes-{cluster.name}.lock"), timeout=600)

    def _count(self, cluster: Cluster, namespace: str, delta: int) -> int:
        """Add or remove this process among the namespace's users (lock held); how many are left."""
        path = self.root / f"kh-probes-{cluster.name}.json"
        users: dict[str, list[int]] = json.loads(path.read_text()) if path.exists() else {}
        pids = set(users.get(namespace, []))
        pids = pids | {self.pid} if delta > 0 else pids - {self.pid}
        users[namespace] = sorted(pids)
        path.write_text(json.dumps(users))
        return len(pids)
