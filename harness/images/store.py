"""Node images in Docker that the harness built (found by label), and removing them."""

from __future__ import annotations

import shutil
from dataclasses import dataclass

from harness.errors import UsageError
from harness.exec import Cmd
from harness.images.build import LABEL_KEY, LABEL_KIND
from harness.paths import cache_root


@dataclass
class NodeImage:
    tag: str
    kubernetes: str
    size_mb: int
    build_key: str


def list_images() -> list[NodeImage]:
    fmt = "{{.Repository}}:{{.Tag}}\t{{.ID}}"
    res = Cmd(["docker", "images", "--filter", f"label={LABEL_KIND}=node", "--format", fmt]).run()
    out = []
    for line in res.stdout.splitlines():
        tag, _ = line.split("\t")
        inspect = Cmd(["docker", "image", "inspect", "--format",
                       f'{{{{.Size}}}}\t{{{{index .Config.Labels "kube-harness.io/kubernetes"}}}}\t'
                       f'{{{{index .Config.Labels "{LABEL_KEY}"}}}}', tag]).run()  # fmt: skip
        size, kube, key = inspect.stdout.strip().split("\t")
        out.append(NodeImage(tag, kube, int(size) // 1_000_000, key))
    return out


def remove(tags: list[str], all_: bool, cache: bool) -> list[str]:
    known = {img.tag for img in list_images()}
    if all_:
        tags = sorted(known)
    unknown = [t for t in tags if t not in known]
    if unknown:
        raise UsageError(
            f"not a node image built by kube-harness: {', '.join(unknown)}", fix="see `kube-harness image ls`"
        )
    if not tags and not cache:
        raise UsageError("nothing to remove", fix="name images, or pass --all and/or --cache")
    lines = []
    for tag in tags:
        Cmd(["docker", "rmi", tag]).run()
        lines.append(f"removed {tag}")
    if cache and cache_root().exists():
        shutil.rmtree(cache_root() / "artifacts", ignore_errors=True)
        shutil.rmtree(cache_root() / "work", ignore_errors=True)
        lines.append(f"removed build cache {cache_root() / 'artifacts'}")
    return lines
