"""Write OCI image archives (``index.json`` + blobs) in pure Python, byte-for-byte reproducible.

Used for every image that goes into the node's containerd: each is one or more layers (plain tar,
fixed mtimes and owners) and a config. ``ctr images import`` reads the archive and names the image
from the ``io.containerd.image.name`` annotation.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from harness.images.cache import hash_file

MEDIA_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_LAYER = "application/vnd.oci.image.layer.v1.tar"
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class FileEntry:
    """A file to place in a layer: content from ``source`` on disk, at ``path`` inside the image."""

    path: str
    source: Path
    mode: int = 0o755


@dataclass
class Layer:
    """A layer made from files (built here) or an existing tar (e.g. a rootfs)."""

    files: list[FileEntry] = field(default_factory=list)
    tar: Path | None = None
    symlinks: dict[str, str] = field(default_factory=dict)
    dirs: dict[str, int] = field(default_factory=dict)  # directory -> mode, besides the files' parents (0755)

    def write(self, out: Path) -> None:
        if self.tar is not None:
            shutil.copyfile(self.tar, out)
            return
        with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
            modes = {d.strip("/"): mode for d, mode in self.dirs.items()}
            for d in sorted(_parents([f.path for f in self.files] + list(self.symlinks)) | set(modes)):
                tar.addfile(_info(d, tarfile.DIRTYPE, modes.get(d, 0o755)))
            for f in sorted(self.files, key=lambda f: f.path):
                info = _info(f.path, tarfile.REGTYPE, f.mode)
                info.size = f.source.stat().st_size
                with f.source.open("rb") as fh:
                    tar.addfile(info, fh)
            for link, target in sorted(self.symlinks.items()):
                info = _info(link, tarfile.SYMTYPE, 0o777)
                info.linkname = target
                tar.addfile(info)


def _info(path: str, kind: bytes, mode: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(path.lstrip("/"))
    info.type, info.mode, info.mtime, info.uid, info.gid = kind, mode, 0, 0, 0
    return info


def _parents(paths: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for p in paths:
        parts = p.strip("/").split("/")[:-1]
        for i in range(1, len(parts) + 1):
            out.add("/".join(parts[:i]))
    return out


@dataclass
class Image:
    name: str
    layers: list[Layer]
    entrypoint: list[str] | None = None
    cmd: list[str] | None = None
    env: dict[str, str] = field(default_factory=lambda: {"PATH": DEFAULT_PATH})
    user: str | None = None
    workdir: str | None = None


class _Blobs:
    """The blob store of one archive; a layer used by several images is written once."""

    def __init__(self, root: Path, compress: bool) -> None:
        self.dir = root / "blobs" / "sha256"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.compress = compress
        self.layers: dict[int, tuple[dict[str, object], str]] = {}

    def put_bytes(self, data: bytes, media: str) -> dict[str, object]:
        digest = hashlib.sha256(data).hexdigest()
        (self.dir / digest).write_bytes(data)
        return {"mediaType": media, "digest": f"sha256:{digest}", "size": len(data)}

    def put_layer(self, layer: Layer) -> tuple[dict[str, object], str]:
        """Write a layer blob; returns its descriptor and diff id (digest of the plain tar)."""
        if id(layer) in self.layers:
            return self.layers[id(layer)]
        tmp = self.dir.parent / f"tmp-{id(layer)}.tar"
        layer.write(tmp)
        diff_id = "sha256:" + hash_file(tmp)
        if self.compress:
            gz = tmp.with_suffix(".tar.gz")
            with tmp.open("rb") as src, gzip.GzipFile(gz, "wb", compresslevel=6, mtime=0) as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            tmp.unlink()
            tmp = gz
        digest = hash_file(tmp)
        size = tmp.stat().st_size
        tmp.rename(self.dir / digest)
        media = MEDIA_LAYER + ("+gzip" if self.compress else "")
        self.layers[id(layer)] = ({"mediaType": media, "digest": f"sha256:{digest}", "size": size}, diff_id)
        return self.layers[id(layer)]


def config_json(image: Image, diff_ids: list[str]) -> bytes:
    cfg: dict[str, object] = {"Env": [f"{k}={v}" for k, v in image.env.items()]}
    for key, value in (("Entrypoint", image.entrypoint), ("Cmd", image.cmd), ("User", image.user),
                       ("WorkingDir", image.workdir)):  # fmt: skip
        if value:
            cfg[key] = value
    doc = {
        "architecture": "amd64", "os": "linux", "config": cfg,
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created_by": "kube-harness"} for _ in diff_ids],
    }  # fmt: skip
    return json.dumps(doc, sort_keys=True).encode()


def _tag(name: str) -> str:
    last = name.rsplit("/", 1)[-1]
    return last.rsplit(":", 1)[1] if ":" in last else "latest"


def write_archive(images: list[Image], out: Path, compress: bool = True) -> dict[str, str]:
    """Write ``images`` into one OCI archive (tar) at ``out``; returns name -> manifest digest.

    Layers shared by several images (the same ``Layer`` object) are stored once.
    """
    stage = out.with_suffix(".d")
    shutil.rmtree(stage, ignore_errors=True)
    blobs = _Blobs(stage, compress)
    manifests, digests = [], {}
    for image in images:
        descs = [blobs.put_layer(layer) for layer in image.layers]
        config = blobs.put_bytes(config_json(image, [d[1] for d in descs]), MEDIA_CONFIG)
        manifest = {"schemaVersion": 2, "mediaType": MEDIA_MANIFEST, "config": config, "layers": [d[0] for d in descs]}
        mdesc = blobs.put_bytes(json.dumps(manifest, sort_keys=True).encode(), MEDIA_MANIFEST)
        mdesc["annotations"] = {
            "io.containerd.image.name": image.name,
            "org.opencontainers.image.ref.name": _tag(image.name),
        }
        manifests.append(mdesc)
        digests[image.name] = str(mdesc["digest"])
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests}
    (stage / "index.json").write_text(json.dumps(index, sort_keys=True))
    (stage / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    with tarfile.open(out, "w") as tar:
        for name in ("oci-layout", "index.json", "blobs"):
            tar.add(stage / name, arcname=name, filter=_reset)
    shutil.rmtree(stage, ignore_errors=True)
    return digests


def _reset(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
    return info
