"""Loading images into nodes: archive contents, names as containerd spells them, idempotence by digest."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from harness.errors import UsageError
from harness.exec import Cmd, Result
from harness.images import load

pytestmark = pytest.mark.unit
LS_HEADER = "REF TYPE DIGEST SIZE PLATFORMS LABELS"


def tar_with(path: Path, files: dict[str, object]) -> Path:
    with tarfile.open(path, "w") as tar:
        for name, doc in files.items():
            data = json.dumps(doc).encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.mark.parametrize(("given", "spelled"), [
    ("app", "docker.io/library/app:latest"), ("app:1", "docker.io/library/app:1"),
    ("me/app:dev", "docker.io/me/app:dev"), ("registry.k8s.io/pause:3.10", "registry.k8s.io/pause:3.10"),
    ("localhost/app", "localhost/app:latest"), ("host:5000/app", "host:5000/app:latest"),
])  # fmt: skip
def test_names_as_containerd_spells_them(given: str, spelled: str) -> None:
    assert load.normalize(given) == spelled


def test_oci_archive_names_and_digests(tmp_path: Path) -> None:
    index = {"manifests": [
        {"digest": "sha256:aa", "annotations": {"io.containerd.image.name": "docker.io/me/app:dev",
                                                "org.opencontainers.image.ref.name": "dev"}},
        {"digest": "sha256:bb", "annotations": {"org.opencontainers.image.ref.name": "other:1"}},
        {"digest": "sha256:cc"},  # untagged: nothing to name
    ]}  # fmt: skip
    archive = load.read_archive(tar_with(tmp_path / "a.tar", {"index.json": index, "oci-layout": {}}))
    assert archive.images == {"docker.io/me/app:dev": "manifest:sha256:aa",
                              "docker.io/library/other:1": "manifest:sha256:bb"}  # fmt: skip


def test_docker_archive_names_with_their_image_ids(tmp_path: Path) -> None:
    config = "ab" * 32
    manifest = [{"RepoTags": ["app:1"], "Config": f"{config}.json"}, {"RepoTags": ["old:1"], "Config": "x.json"}]
    archive = load.read_archive(tar_with(tmp_path / "d.tar", {"manifest.json": manifest}))
    assert archive.images == {"docker.io/library/app:1": f"config:sha256:{config}", "docker.io/library/old:1": ""}


def test_not_an_archive_is_named_with_the_fix(tmp_path: Path) -> None:
    (tmp_path / "x.tar").write_text("no tar")
    with pytest.raises(UsageError, match="not an image archive") as err:
        load.read_archive(tmp_path / "x.tar")
    assert "docker save" in (err.value.fix or "")
    with pytest.raises(UsageError, match="no image archive at"):
        load.read_archive(tmp_path / "missing.tar")


class FakeNode:
    """A node whose containerd holds ``have`` (name -> manifest digest) and gains the archive on
    import; ``configs``: manifest digest -> config digest (what ``ctr content get`` shows)."""

    def __init__(self, have: dict[str, str], gains: dict[str, str], configs: dict[str, str] | None = None) -> None:
        self.name, self.have, self.gains, self.argvs = "n1", dict(have), gains, list[tuple[str, ...]]()
        self.copied: list[str] = []
        self.configs = configs or {}

    def command(self, *argv: str, input: str | None = None, timeout: float | None = None) -> Cmd:
        self.argvs.append(argv)
        if argv[3:5] == ("images", "import"):
            self.have.update(self.gains)
        out = "\n".join([LS_HEADER, *(f"{n} application/x {d} 1MiB linux/amd64 -" for n, d in self.have.items())])
        if argv[3:5] == ("content", "get"):
            out = json.dumps({"config": {"digest": self.configs.get(argv[5], "")}})
        cmd = Cmd(list(argv))
        cmd.run = lambda check=True, **_: Result(list(argv), 0, out, "", 0.0)  # type: ignore[method-assign]
        return cmd

    def copy_to(self, src: Path, dest: str) -> None:
        self.copied.append(dest)


def test_a_node_with_every_image_at_its_digest_is_left_alone(tmp_path: Path) -> None:
    archive = load.Archive(tmp_path / "a.tar", {"docker.io/me/app:dev": "manifest:sha256:aa",
                                                "docker.io/me/db:1": "config:sha256:cc"})  # fmt: skip
    node = FakeNode({"docker.io/me/app:dev": "sha256:aa", "docker.io/me/db:1": "sha256:m1"}, {},
                    configs={"sha256:m1": "sha256:cc"})  # fmt: skip
    assert load.load_node(node, archive) == 0 and node.copied == []  # type: ignore[arg-type]


def test_a_rebuilt_docker_image_under_a_known_name_is_imported(tmp_path: Path) -> None:
    archive = load.Archive(tmp_path / "a.tar", {"docker.io/me/db:1": "config:sha256:new"})
    node = FakeNode({"docker.io/me/db:1": "sha256:m1"}, {"docker.io/me/db:1": "sha256:m2"},
                    configs={"sha256:m1": "sha256:old", "sha256:m2": "sha256:new"})  # fmt: skip
    assert load.load_node(node, archive) == 1  # type: ignore[arg-type]


def test_a_new_digest_under_a_known_name_is_imported(tmp_path: Path) -> None:
    archive = load.Archive(tmp_path / "a.tar", {"docker.io/me/app:dev": "manifest:sha256:new"})
    node = FakeNode({"docker.io/me/app:dev": "sha256:old"}, {"docker.io/me/app:dev": "sha256:new"})
    assert load.load_node(node, archive, pin=True) == 1  # type: ignore[arg-type]
    (remote,) = node.copied
    imported = next(a for a in node.argvs if a[3:5] == ("images", "import"))
    assert imported[:3] == ("ctr", "-n", "k8s.io") and imported[-1] == remote
    assert "--label=io.cri-containerd.pinned=pinned" in imported
    assert ("rm", "-f", remote) in node.argvs


def test_an_import_that_leaves_the_image_missing_says_so(tmp_path: Path) -> None:
    archive = load.Archive(tmp_path / "a.tar", {"docker.io/me/app:dev": ""})
    with pytest.raises(UsageError, match=r"lacks docker\.io/me/app:dev after importing"):
        load.load_node(FakeNode({}, {}), archive)  # type: ignore[arg-type]
