"""The load-balancer image for HA clusters: Debian's haproxy in a small rootfs (mmdebstrap)."""

from __future__ import annotations

import json
import shutil
import subprocess

from harness.errors import BuildError
from harness.exec import Cmd
from harness.images import rootfs
from harness.images.cache import Artifact, key
from harness.progress import Progress

HAPROXY_ROOTFS = rootfs.RootfsSpec(rootfs.NODE_SUITE, ("haproxy",), "minbase")
TAG = "kube-harness/haproxy:trixie"
LABEL_KEY = "kube-harness.io/build-key"
CONFIG_DIR = "/usr/local/etc/haproxy"
CMD = '["haproxy", "-W", "-db", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]'


def ensure(progress: Progress, mirror: str | None = None) -> str:
    """The haproxy image tag, built (and cached) when missing or stale."""
    mirror = mirror or rootfs.debian_mirror()
    inputs = {**HAPROXY_ROOTFS.inputs(), "mirror": mirror, "cmd": CMD}
    build_key = key("haproxy", **inputs)
    res = Cmd(["docker", "image", "inspect", "--format", "{{json .Config.Labels}}", TAG]).run(check=False)
    if res.rc == 0 and (json.loads(res.stdout) or {}).get(LABEL_KEY) == build_key:
        return TAG
    art = Artifact("rootfs-haproxy", inputs)
    with progress.step("build the haproxy load-balancer image", "haproxy-image") as log:
        path = art.begin()
        try:
            rootfs.build_rootfs(HAPROXY_ROOTFS, path / "root", log, mirror)
            (path / "root" / CONFIG_DIR.lstrip("/")).mkdir(parents=True, exist_ok=True)
            tar = subprocess.Popen(["tar", "-C", str(path / "root"), "--numeric-owner", "-cf", "-", "."],
                                   stdout=subprocess.PIPE)  # fmt: skip
            argv = ["docker", "import", "--change", f"CMD {CMD}", "--change", f"LABEL {LABEL_KEY}={build_key}",
                    "--change", "LABEL kube-harness.io/image=haproxy", "-", TAG]  # fmt: skip
            imp = subprocess.run(argv, stdin=tar.stdout, capture_output=True, text=True)
            if tar.stdout:
                tar.stdout.close()
            if tar.wait() != 0 or imp.returncode != 0:
                raise BuildError(f"docker import of the haproxy image failed: {imp.stderr.strip()}", fix=f"see {log}")
        finally:
            shutil.rmtree(path, ignore_errors=True)
    return TAG
