"""A cluster's credentials merged into the user's kubeconfig, as kind does: a cluster, a user and a
context named ``kh-NAME`` (current afterwards), in ``$KUBECONFIG``'s first file or
``~/.kube/config``; removed again when the cluster is deleted. The file stays 0600 and is written
whole under a lock, so two merges at once lose nothing."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from filelock import FileLock

from harness import yamlio
from harness.errors import UsageError
from harness.paths import write_private

SECTIONS = ("clusters", "users", "contexts")


def user_kubeconfig() -> Path:
    first = next((p for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p), "")
    return Path(first) if first else Path.home() / ".kube" / "config"


def context_name(cluster: str) -> str:
    return f"kh-{cluster}"


def _load(path: Path) -> dict[str, Any]:
    doc = yaml.safe_load(path.read_text()) if path.exists() else None
    doc = doc or {"apiVersion": "v1", "kind": "Config", "preferences": {}}
    for section in SECTIONS:
        doc[section] = list(doc.get(section) or [])
    return dict(doc)


def _entry(doc: dict[str, Any], section: str, source: str) -> dict[str, Any]:
    found = doc.get(section) or []
    if len(found) != 1:
        raise UsageError(f"the cluster's kubeconfig {source} has {len(found)} {section}, expected 1",
                         fix="merge it by hand (kubectl config view --flatten)")  # fmt: skip
    return dict(found[0])


def merge(cluster: str, source: Path, target: Path | None = None) -> str:
    """Merge ``source`` (the cluster's own kubeconfig) into ``target``; returns the context name."""
    target = target or user_kubeconfig()
    name, src = context_name(cluster), _load(source)
    entries = {s: _entry(src, s, str(source)) for s in SECTIONS}
    context = {"cluster": name, "user": name, **{k: v for k, v in entries["contexts"].get("context", {}).items()
                                                 if k not in ("cluster", "user")}}  # fmt: skip
    new = {"clusters": {"name": name, "cluster": entries["clusters"]["cluster"]},
           "users": {"name": name, "user": entries["users"]["user"]},
           "contexts": {"name": name, "context": context}}  # fmt: skip
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".kube-harness.lock"):
        doc = _load(target)
        for section in SECTIONS:
            doc[section] = [e for e in doc[section] if e.get("name") != name] + [new[section]]
        doc["current-context"] = name
        write_private(target, yamlio.dump(doc))
    return name


def unmerge(cluster: str, target: Path | None = None) -> bool:
    """Take ``kh-NAME`` out of ``target`` again (current-context too); False when it was not there."""
    target = target or user_kubeconfig()
    name = context_name(cluster)
    if not target.exists():
        return False
    with FileLock(str(target) + ".kube-harness.lock"):
        doc = _load(target)
        before = sum(len(doc[s]) for s in SECTIONS)
        for section in SECTIONS:
            doc[section] = [e for e in doc[section] if e.get("name") != name]
        if before == sum(len(doc[s]) for s in SECTIONS):
            return False
        if doc.get("current-context") == name:
            doc["current-context"] = ""
        write_private(target, yamlio.dump(doc))
    return True
