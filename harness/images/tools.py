"""kind and kubectl: taken from PATH when their versions fit, else built from the Go proxy; kubectl
comes out of the node image's Kubernetes build (one compile serves the tool and the image)."""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
from pathlib import Path

from harness.exec import Cmd
from harness.images import gobuild
from harness.images.versions import parse_version
from harness.paths import cache_root
from harness.progress import Progress

KIND_MODULE = "sigs.k8s.io/kind"
KIND_VERSION = "v0.33.0"
KUBECTL_VERSION = "v1.37.2"


def tool_dir(name: str, version: str) -> Path:
    return cache_root() / "tools" / f"{name}-{version}"


@functools.cache  # asked on every kubectl run by callers that resolve the tool each time
def _path_version(name: str, path: str) -> str | None:
    if name == "kind":
        out = Cmd([path, "version"], timeout=20).run(check=False).stdout
        m = re.search(r"kind (v[\d.]+)", out)
        return m.group(1) if m else None
    res = Cmd([path, "version", "--client", "-o", "json"], timeout=20).run(check=False)
    try:
        return str(json.loads(res.stdout)["clientVersion"]["gitVersion"])
    except (ValueError, KeyError):
        return None


def fits(name: str, have: str, want: str) -> bool:
    """kind must match exactly; kubectl within one minor version (kubectl's skew policy)."""
    if name == "kind":
        return have == want
    m_have, m_want = re.match(r"v1\.(\d+)\.\d+$", have), re.match(r"v1\.(\d+)\.", want)
    return bool(m_have and m_want and abs(int(m_have.group(1)) - int(m_want.group(1))) <= 1)


def find(name: str, want: str) -> Path | None:
    cached = tool_dir(name, want) / name
    if cached.exists():
        return cached
    on_path = shutil.which(name)
    if on_path and (have := _path_version(name, on_path)) and fits(name, have, want):
        return Path(on_path)
    return None


def ensure_kind(progress: Progress, version: str = KIND_VERSION) -> Path:
    if path := find("kind", version):
        return path
    out = tool_dir("kind", version)
    with progress.step(f"build kind {version} from the Go module proxy", "tool-kind") as log:
        gobuild.go_install(KIND_MODULE, version, out / "tmp", log)
        (out / "tmp" / "kind").rename(out / "kind")
        shutil.rmtree(out / "tmp")
    return out / "kind"


def ensure_kubectl(progress: Progress, version: str = KUBECTL_VERSION) -> Path:
    """kubectl of ``version``: from PATH if it fits, else the one of the Kubernetes build the node
    image uses (``harness.images.pieces.kubernetes``, cached by its inputs: built here at most once
    for both, whichever asks first)."""
    if path := find("kubectl", version):
        return path
    from harness.images import pieces

    built = pieces.kubernetes(parse_version(version), progress) / "kubectl"
    out = tool_dir("kubectl", version)
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / f"kubectl.{os.getpid()}.tmp"
    shutil.copy2(built, tmp)
    tmp.replace(out / "kubectl")  # whole or absent: another process may look at the same moment
    return out / "kubectl"
