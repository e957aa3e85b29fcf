"""A content-keyed artifact cache: every built piece lives under a key made of its inputs.

``key(kind, **inputs)`` hashes the inputs (versions, source hashes, build flags) into a short id.
``Artifact`` is a directory ``<cache>/artifacts/<kind>/<id>/`` that counts as built only once its
``inputs.json`` exists; it is written last, so an interrupted build is never taken for a finished
one and is simply built again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.paths import cache_root


def key(kind: str, **inputs: Any) -> str:
    """A stable 16-hex id of ``kind`` and its inputs (order of keyword arguments does not matter)."""
    blob = json.dumps({"kind": kind, **inputs}, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def hash_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def hash_tree(root: Path, exclude: tuple[str, ...] = (".git",), file_hash: Callable[[Path], str] = hash_file) -> str:
    """Hash of every file's relative path and content below ``root`` (for ``--from-source``)."""
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not set(p.relative_to(root).parts) & set(exclude)):
        h.update(str(path.relative_to(root)).encode() + b"\0")
        h.update(file_hash(path).encode())
    return h.hexdigest()


class DigestMemo:
    """File digests remembered by path, size, mtime and inode in ``<cache>/digests.json``.

    The node image's build key hashes ~900 MB of cached pieces; they rarely change, so every
    ``create`` re-hashing them cost a second. A file whose stat changed is hashed again.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or cache_root() / "digests.json"
        try:
            self.entries: dict[str, list[Any]] = json.loads(self.path.read_text())
        except (OSError, ValueError):
            self.entries = {}
        self.changed = False

    def file(self, path: Path) -> str:
        st = path.stat()
        stamp = [st.st_size, st.st_mtime_ns, st.st_ino]
        entry = self.entries.get(str(path.resolve()))
        if entry and entry[:3] == stamp:
            return str(entry[3])
        digest = hash_file(path)
        self.entries[str(path.resolve())] = [*stamp, digest]
        self.changed = True
        return digest

    def digest(self, path: Path) -> str:
        """A file's digest, or a directory's (as hash_tree)."""
        return hash_tree(path, file_hash=self.file) if path.is_dir() else self.file(path)

    def save(self) -> None:
        if not self.changed:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".digests-")
        with os.fdopen(fd, "w") as fh:
            json.dump(self.entries, fh)
        os.replace(tmp, self.path)
        self.changed = False


@dataclass
class Artifact:
    kind: str
    inputs: dict[str, Any]
    root: Path | None = None

    @property
    def id(self) -> str:
        return key(self.kind, **self.inputs)

    @property
    def path(self) -> Path:
        return (self.root or cache_root() / "artifacts") / self.kind / self.id

    @property
    def done(self) -> bool:
        return (self.path / "inputs.json").exists()

    def begin(self) -> Path:
        """Start (or restart) building: an empty directory to fill."""
        if self.path.exists():
            shutil.rmtree(self.path)
        self.path.mkdir(parents=True)
        return self.path

    def finish(self) -> Path:
        (self.path / "inputs.json").write_text(json.dumps({"kind": self.kind, **self.inputs}, indent=2, default=str))
        return self.path
