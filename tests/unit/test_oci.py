"""harness.images.oci: reproducible OCI archives with shared layers stored once."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.images.oci import FileEntry, Image, Layer, write_archive

pytestmark = pytest.mark.unit

PAUSE = "registry.k8s.io/pause:3.10.2"
TOOL = "example.invalid/tools/tool:v1"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Archive:
    """An OCI archive read back into memory: members by name, blobs by digest."""

    def __init__(self, path: Path) -> None:
        with tarfile.open(path) as tar:
            self.files = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]
        self.index = json.loads(self.files["index.json"])

    def blob(self, digest: str) -> bytes:
        return self.files["blobs/sha256/" + digest.removeprefix("sha256:")]

    def blob_json(self, digest: str) -> dict:
        return json.loads(self.blob(digest))

    def manifest(self, name: str) -> dict:
        (desc,) = [m for m in self.index["manifests"] if m["annotations"]["io.containerd.image.name"] == name]
        return self.blob_json(desc["digest"])

    def layer_tar(self, digest: str) -> tarfile.TarFile:
        data = self.blob(digest)
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        return tarfile.open(fileobj=io.BytesIO(data))


@pytest.fixture
def layers(tmp_path: Path, write_file: Callable[..., Path]) -> tuple[Layer, Layer]:
    """A layer shared by both images (files, nested dirs, a symlink) and one of the tool's own."""
    shared = Layer(
        files=[
            FileEntry("/usr/local/bin/hello", write_file(tmp_path / "in" / "hello", "#!/bin/sh\necho hi\n")),
            FileEntry("/etc/harness/conf.yaml", write_file(tmp_path / "in" / "conf", "a: 1\n"), mode=0o644),
        ],
        symlinks={"/usr/bin/hi": "/usr/local/bin/hello"},
    )
    own = Layer(files=[FileEntry("/tool", write_file(tmp_path / "in" / "tool", "tool\n"))])
    return shared, own


@pytest.fixture
def images(layers: tuple[Layer, Layer]) -> list[Image]:
    shared, own = layers
    return [
        Image(PAUSE, [shared], entrypoint=["/pause"]),
        Image(TOOL, [shared, own], cmd=["/tool", "--serve"], user="65532", workdir="/"),
    ]


def test_index_names_both_images(images: list[Image], tmp_path: Path) -> None:
    digests = write_archive(images, tmp_path / "out" / "images.tar")
    archive = Archive(tmp_path / "out" / "images.tar")
    assert json.loads(archive.files["oci-layout"]) == {"imageLayoutVersion": "1.0.0"}
    manifests = archive.index["manifests"]
    assert len(manifests) == 2
    assert [m["annotations"]["io.containerd.image.name"] for m in manifests] == [PAUSE, TOOL]
    assert [m["annotations"]["org.opencontainers.image.ref.name"] for m in manifests] == ["3.10.2", "v1"]
    assert digests == {m["annotations"]["io.containerd.image.name"]: m["digest"] for m in manifests}


def test_every_blob_matches_its_digest_and_size(images: list[Image], tmp_path: Path) -> None:
    write_archive(images, tmp_path / "images.tar")
    archive = Archive(tmp_path / "images.tar")
    for name in (PAUSE, TOOL):
        manifest = archive.manifest(name)
        for desc in [manifest["config"], *manifest["layers"]]:
            data = archive.blob(desc["digest"])
            assert sha256(data) == desc["digest"]
            assert len(data) == desc["size"]


def test_shared_layer_is_stored_once(images: list[Image], tmp_path: Path) -> None:
    write_archive(images, tmp_path / "images.tar")
    archive = Archive(tmp_path / "images.tar")
    pause_layers = [d["digest"] for d in archive.manifest(PAUSE)["layers"]]
    tool_layers = [d["digest"] for d in archive.manifest(TOOL)["layers"]]
    assert len(pause_layers) == 1 and len(tool_layers) == 2
    assert tool_layers[0] == pause_layers[0]
    blobs = [n for n in archive.files if n.startswith("blobs/sha256/")]
    # 2 manifests + 2 configs + 2 distinct layers; nothing else (no temporary files).
    assert len(blobs) == 6
    assert blobs.count("blobs/sha256/" + pause_layers[0].removeprefix("sha256:")) == 1


@pytest.mark.parametrize("compress", [True, False])
def test_diff_ids_are_digests_of_the_plain_layer_tar(images: list[Image], tmp_path: Path, compress: bool) -> None:
    write_archive(images, tmp_path / "images.tar", compress=compress)
    archive = Archive(tmp_path / "images.tar")
    manifest = archive.manifest(TOOL)
    config = archive.blob_json(manifest["config"]["digest"])
    blobs = [archive.blob(d["digest"]) for d in manifest["layers"]]
    plain = [gzip.decompress(b) for b in blobs] if compress else blobs
    assert config["rootfs"] == {"type": "layers", "diff_ids": [sha256(p) for p in plain]}
    suffix = "+gzip" if compress else ""
    assert {d["mediaType"] for d in manifest["layers"]} == {"application/vnd.oci.image.layer.v1.tar" + suffix}


def test_config_carries_the_image_settings(images: list[Image], tmp_path: Path) -> None:
    write_archive(images, tmp_path / "images.tar")
    archive = Archive(tmp_path / "images.tar")
    config = archive.blob_json(archive.manifest(TOOL)["config"]["digest"])
    assert (config["architecture"], config["os"]) == ("amd64", "linux")
    assert config["config"]["Cmd"] == ["/tool", "--serve"]
    assert config["config"]["User"] == "65532"
    assert config["config"]["Env"][0].startswith("PATH=")
    assert "Entrypoint" not in config["config"]
    assert len(config["history"]) == 2
    pause = archive.blob_json(archive.manifest(PAUSE)["config"]["digest"])
    assert pause["config"]["Entrypoint"] == ["/pause"]


def test_archive_is_reproducible(images: list[Image], tmp_path: Path) -> None:
    first = write_archive(images, tmp_path / "a" / "images.tar")
    second = write_archive(images, tmp_path / "b" / "images.tar")
    assert first == second
    assert (tmp_path / "a" / "images.tar").read_bytes() == (tmp_path / "b" / "images.tar").read_bytes()
    assert not (tmp_path / "a" / "images.d").exists()


def test_layer_has_parents_symlinks_and_fixed_metadata(images: list[Image], tmp_path: Path) -> None:
    write_archive(images, tmp_path / "images.tar")
    archive = Archive(tmp_path / "images.tar")
    layer = archive.layer_tar(archive.manifest(PAUSE)["layers"][0]["digest"])
    members = layer.getmembers()
    names = [m.name for m in members]
    assert set(names) == {
        "etc", "etc/harness", "etc/harness/conf.yaml",
        "usr", "usr/bin", "usr/bin/hi", "usr/local", "usr/local/bin", "usr/local/bin/hello",
    }  # fmt: skip
    for i, name in enumerate(names):  # every parent directory comes before what it holds
        parent = name.rpartition("/")[0]
        assert not parent or parent in names[:i]
    by_name = {m.name: m for m in members}
    assert all(by_name[d].isdir() and by_name[d].mode == 0o755 for d in ("etc", "usr/local/bin"))
    assert by_name["usr/bin/hi"].issym() and by_name["usr/bin/hi"].linkname == "/usr/local/bin/hello"
    assert by_name["etc/harness/conf.yaml"].mode == 0o644
    assert by_name["usr/local/bin/hello"].mode == 0o755
    assert layer.extractfile("usr/local/bin/hello").read() == b"#!/bin/sh\necho hi\n"  # type: ignore[union-attr]
    assert {(m.mtime, m.uid, m.gid) for m in members} == {(0, 0, 0)}


def test_layer_from_existing_tar_is_copied_verbatim(tmp_path: Path, write_file: Callable[..., Path]) -> None:
    rootfs = tmp_path / "rootfs.tar"
    with tarfile.open(rootfs, "w") as tar:
        tar.add(write_file(tmp_path / "f", "x"), arcname="f")
    write_archive([Image("example.invalid/rootfs", [Layer(tar=rootfs)])], tmp_path / "images.tar", compress=False)
    archive = Archive(tmp_path / "images.tar")
    (desc,) = archive.index["manifests"]
    assert desc["annotations"]["org.opencontainers.image.ref.name"] == "latest"
    (layer,) = archive.manifest("example.invalid/rootfs")["layers"]
    assert archive.blob(layer["digest"]) == rootfs.read_bytes()
