"""harness.images.cache: content keys, artifacts that count only when finished, tree hashes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.images.cache import Artifact, DigestMemo, hash_file, hash_tree, key
from harness.paths import cache_root

pytestmark = pytest.mark.unit


def test_key_is_stable_short_hex() -> None:
    k = key("kubernetes", version="v1.37.2", flags=["-s", "-w"])
    assert k == key("kubernetes", version="v1.37.2", flags=["-s", "-w"])
    assert len(k) == 16
    int(k, 16)


def test_key_ignores_argument_order() -> None:
    assert key("rootfs", suite="trixie", variant="minbase") == key("rootfs", variant="minbase", suite="trixie")


@pytest.mark.parametrize(
    "other",
    [
        ("kubernetes", {"version": "v1.37.3"}),
        ("etcd", {"version": "v1.37.2"}),
        ("kubernetes", {"version": "v1.37.2", "source": "abc"}),
        ("kubernetes", {}),
    ],
)
def test_key_differs_for_different_inputs(other: tuple[str, dict[str, str]]) -> None:
    kind, inputs = other
    assert key(kind, **inputs) != key("kubernetes", version="v1.37.2")


def test_artifact_done_only_after_finish(tmp_path: Path) -> None:
    art = Artifact("coredns", {"version": "v1.14.6"}, root=tmp_path)
    assert art.path == tmp_path / "coredns" / art.id
    assert art.id == key("coredns", version="v1.14.6")
    assert not art.done
    out = art.begin()
    assert out == art.path and out.is_dir() and not list(out.iterdir())
    (out / "coredns").write_text("binary")
    assert not art.done
    assert art.finish() == art.path
    assert art.done
    assert json.loads((art.path / "inputs.json").read_text()) == {"kind": "coredns", "version": "v1.14.6"}


def test_artifact_begin_wipes_half_built_dir(tmp_path: Path) -> None:
    art = Artifact("rootfs", {"suite": "trixie"}, root=tmp_path)
    (art.path / "sub").mkdir(parents=True)
    (art.path / "sub" / "partial").write_text("interrupted")
    assert not art.done
    art.begin()
    assert list(art.path.iterdir()) == []


def test_artifact_rebuild_after_finish_is_not_done_until_finished_again(tmp_path: Path) -> None:
    art = Artifact("pause", {"v": 1}, root=tmp_path)
    art.begin()
    art.finish()
    art.begin()
    assert not art.done


def test_artifact_default_root_is_the_cache() -> None:
    art = Artifact("pause", {"v": 1})
    assert art.path == cache_root() / "artifacts" / "pause" / art.id


@pytest.fixture
def tree(tmp_path: Path, write_file: Callable[..., Path]) -> Path:
    root = tmp_path / "src"
    write_file(root / "go.mod", "module k8s.io/kubernetes\n")
    write_file(root / "cmd" / "kubeadm" / "main.go", "package main\n")
    return root


def test_hash_tree_changes_with_content(tree: Path) -> None:
    before = hash_tree(tree)
    assert hash_tree(tree) == before
    (tree / "cmd" / "kubeadm" / "main.go").write_text("package main // changed\n")
    assert hash_tree(tree) != before


def test_hash_tree_changes_with_path(tree: Path) -> None:
    before = hash_tree(tree)
    (tree / "cmd" / "kubeadm" / "main.go").rename(tree / "cmd" / "kubeadm" / "other.go")
    assert hash_tree(tree) != before


def test_hash_tree_ignores_git(tree: Path, write_file: Callable[..., Path]) -> None:
    before = hash_tree(tree)
    write_file(tree / ".git" / "HEAD", "ref: refs/heads/main\n")
    write_file(tree / ".git" / "objects" / "ab" / "cdef", "blob")
    assert hash_tree(tree) == before


def test_hash_tree_excludes_only_below_root(tmp_path: Path, write_file: Callable[..., Path]) -> None:
    """A checkout that itself lives below a directory named .git is still hashed."""
    root = tmp_path / ".git" / "worktree"
    write_file(root / "go.mod", "module a\n")
    before = hash_tree(root)
    (root / "go.mod").write_text("module b\n")
    assert hash_tree(root) != before


def test_digest_memo_equals_plain_hashes_and_persists(tree: Path, tmp_path: Path) -> None:
    memo_file = tmp_path / "digests.json"
    memo = DigestMemo(memo_file)
    go_mod = tree / "go.mod"
    assert memo.digest(tree) == hash_tree(tree)
    assert memo.digest(go_mod) == hash_file(go_mod)
    memo.save()
    again = DigestMemo(memo_file)
    assert str(go_mod.resolve()) in again.entries
    assert again.digest(tree) == hash_tree(tree) and not again.changed  # answered from the memo


def test_digest_memo_rehashes_a_changed_file(tree: Path, tmp_path: Path) -> None:
    memo = DigestMemo(tmp_path / "digests.json")
    go_mod = tree / "go.mod"
    before = memo.file(go_mod)
    go_mod.write_text("module k8s.io/kubernetes // a different size\n")
    assert memo.file(go_mod) == hash_file(go_mod) != before


def test_digest_memo_ignores_a_broken_memo_file(tree: Path, tmp_path: Path) -> None:
    (tmp_path / "digests.json").write_text("{not json")
    assert DigestMemo(tmp_path / "digests.json").digest(tree) == hash_tree(tree)
