"""Put images into a cluster's nodes with no registry (what ``kind load docker-image`` does, for every
provider): an image archive is copied to each node through the ``Node`` seam and imported into its
containerd's ``k8s.io`` namespace, where the kubelet finds it (``imagePullPolicy: Never`` or
``IfNotPresent``). Idempotent by digest: a node whose containerd already has every name at the
archive's digest is left alone, so loading twice costs one ``ctr images ls`` per node (plus, for a
Docker-format archive, one ``ctr content get`` of each image's manifest: such archives name the
image's config digest, the Docker image id, not a manifest).

    kube-harness load CLUSTER my/app:dev other:1.2      # from the local Docker image store
    kube-harness load CLUSTER --archive app.tar          # a `docker save` / OCI archive
    cluster.load_image("my/app:dev")                     # the same from Python
"""

from __future__ import annotations

import json
import tarfile
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import UsageError
from harness.exec import Cmd
from harness.progress import Progress

if TYPE_CHECKING:
    from harness.cluster import Cluster
    from harness.providers.base import Node

CTR = ("ctr", "-n", "k8s.io")
NAME_KEYS = ("io.containerd.image.name", "org.opencontainers.image.ref.name")


@dataclass(frozen=True)
class Archive:
    """An image archive and what it holds: name -> ``manifest:<digest>`` (OCI archives) or
    ``config:<digest>`` (Docker archives: the image id), or "" (a node with the name has it)."""

    path: Path
    images: dict[str, str] = field(default_factory=dict)


def read_archive(path: Path) -> Archive:
    """The names and digests of an OCI archive (``index.json``; what ``docker save`` writes since
    Docker 25) or, failing that, the names of a Docker archive (``manifest.json``'s RepoTags)."""
    if not path.is_file():
        raise UsageError(f"no image archive at {path}", fix="give the path of a `docker save -o FILE` archive")
    try:
        with tarfile.open(path) as tar:
            members = {m.name.removeprefix("./"): m for m in tar.getmembers()}
            if "index.json" in members:
                return Archive(path, _oci_names(_json(tar, members["index.json"])))
            if "manifest.json" in members:
                manifest = _json(tar, members["manifest.json"])
                return Archive(path, {normalize(t): _config_digest(m.get("Config", ""))
                                      for m in manifest for t in m.get("RepoTags") or []})  # fmt: skip
    except (tarfile.TarError, ValueError) as exc:
        raise UsageError(f"{path} is not an image archive ({exc})",
                         fix="make one with `docker save -o FILE IMAGE`") from exc  # fmt: skip
    raise UsageError(f"{path} holds no index.json or manifest.json: not an image archive",
                     fix="make one with `docker save -o FILE IMAGE`")  # fmt: skip


def _json(tar: tarfile.TarFile, member: tarfile.TarInfo) -> Any:
    fh = tar.extractfile(member)
    if fh is None:
        raise ValueError(f"{member.name} is not a file")
    return json.load(fh)


def _oci_names(index: dict[str, Any]) -> dict[str, str]:
    out = {}
    for desc in index.get("manifests") or []:
        notes = desc.get("annotations") or {}
        name = next((notes[k] for k in NAME_KEYS if ":" in notes.get(k, "") or "/" in notes.get(k, "")), "")
        if name:
            out[normalize(name)] = f"manifest:{desc['digest']}" if desc.get("digest") else ""
    return out


def _config_digest(config_path: str) -> str:
    """``blobs/sha256/<hex>`` or ``<hex>.json`` (Docker's layouts) -> ``config:sha256:<hex>``."""
    hexpart = config_path.rsplit("/", 1)[-1].removesuffix(".json")
    return f"config:sha256:{hexpart}" if len(hexpart) == 64 else ""


def normalize(name: str) -> str:
    """The name as containerd and the kubelet spell it: ``app:1`` -> ``docker.io/library/app:1``."""
    first, _, rest = name.partition("/")
    if not rest:
        name = f"docker.io/library/{name}"
    elif "." not in first and ":" not in first and first != "localhost":
        name = f"docker.io/{name}"
    return name if ":" in name.rsplit("/", 1)[-1] or "@" in name else f"{name}:latest"


def save(images: list[str], dest: Path) -> Archive:
    """``docker save`` of local images (nothing is pulled: a missing one is named with the fix)."""
    from harness.providers.containers.checks import local_image

    absent = [i for i in images if not local_image(i)]
    if absent:
        raise UsageError(f"not in the local Docker image store: {', '.join(absent)} (nothing is pulled)",
                         fix="build or `docker load` it first; `docker images` lists what is there")  # fmt: skip
    Cmd(["docker", "save", "-o", str(dest), *images], timeout=1800).run()
    archive = read_archive(dest)
    return Archive(dest, archive.images or {normalize(i): "" for i in images})


def on_node(node: Node) -> dict[str, str]:
    """What the node's containerd holds: name -> digest."""
    out = node.command(*CTR, "images", "ls", timeout=120).run().stdout.splitlines()
    rows = [line.split() for line in out[1:]]
    return {r[0]: r[2] for r in rows if len(r) >= 3}


def _config_of(node: Node, manifest: str) -> str:
    """The config digest of the image whose manifest (or index: its first manifest) is ``manifest``."""
    doc = json.loads(node.command(*CTR, "content", "get", manifest, timeout=60).run().stdout)
    if "manifests" in doc:
        return _config_of(node, doc["manifests"][0]["digest"]) if doc["manifests"] else ""
    return str(doc.get("config", {}).get("digest", ""))


def _has(node: Node, have: dict[str, str], name: str, want: str) -> bool:
    kind, _, digest = want.partition(":")
    if name not in have:
        return False
    if kind == "manifest":
        return have[name] == digest
    return kind != "config" or _config_of(node, have[name]) == digest


def missing(node: Node, images: dict[str, str]) -> list[str]:
    have = on_node(node)
    return [name for name, want in images.items() if not _has(node, have, name, want)]


def load_node(node: Node, archive: Archive, pin: bool = False) -> int:
    """Import the archive into one node unless it has every image; returns how many it lacked."""
    lacking = missing(node, archive.images)
    if not lacking:
        return 0
    remote = f"/var/tmp/kube-harness-load-{uuid.uuid4().hex[:8]}.tar"
    node.copy_to(archive.path, remote)
    pinned = ["--label=io.cri-containerd.pinned=pinned"] if pin else []  # the kubelet's image GC spares them
    try:
        node.command(*CTR, "images", "import", "--all-platforms", *pinned, remote, timeout=1800).run()
    finally:
        node.command("rm", "-f", remote).run(check=False)
    still = missing(node, archive.images)
    if still:
        raise UsageError(f"{node.name}: containerd lacks {still[0]} after importing {archive.path}",
                         fix=f"see `kube-harness exec CLUSTER {node.name} -- ctr -n k8s.io images ls`")  # fmt: skip
    return len(lacking)


def load_archive(cluster: Cluster, archive: Archive, progress: Progress | None = None,
                 pin: bool = False) -> dict[str, int]:  # fmt: skip
    """Every node gets the archive's images, side by side; node name -> images it lacked."""
    if not cluster.node_access:
        raise UsageError(f"cluster {cluster.name} ({cluster.provider}) takes no commands on its nodes: "
                         "images cannot be loaded", fix="preload them into its nodes' image")  # fmt: skip
    if not archive.images:
        raise UsageError(f"{archive.path} names no image", fix="save tagged images: `docker save -o FILE NAME:TAG`")
    progress = progress or Progress()
    nodes = cluster.all_nodes
    what = f"load {len(archive.images)} image(s) into {len(nodes)} nodes of {cluster.name}"
    with progress.step(what, "load"), ThreadPoolExecutor(max_workers=len(nodes) or 1) as pool:
        counts = list(pool.map(lambda n: load_node(n, archive, pin), nodes))
    return {n.name: c for n, c in zip(nodes, counts, strict=True)}


def load_images(cluster: Cluster, images: list[str], progress: Progress | None = None) -> dict[str, int]:
    """``docker save`` the local ``images`` and load them into every node."""
    with tempfile.TemporaryDirectory(prefix="kube-harness-load-") as tmp:
        start = time.monotonic()
        archive = save(images, Path(tmp) / "images.tar")
        (progress or Progress()).say(f"saved {len(images)} image(s) in {time.monotonic() - start:.1f}s")
        return load_archive(cluster, archive, progress)
