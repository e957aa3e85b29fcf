"""Build the e2e test images a suite names into one OCI archive, cached by its inputs.

The archive goes to the nodes without a registry (``load.py``) or into a node image variant
(``kube-harness image build --preload``). Most images share one Debian layer, stored once.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from harness.conformance import recipes
from harness.conformance.busybox import build_busybox
from harness.conformance.suite import Suite
from harness.exec import Cmd
from harness.images import build, oci, pieces, rootfs
from harness.images.cache import Artifact, DigestMemo
from harness.images.rootfs import debian_mirror
from harness.progress import Progress

E2E_PACKAGES = (*rootfs.POD_PACKAGES, "bash", "socat", "iperf", "stress", "util-linux", "nginx", "perl")
E2E_ROOTFS = rootfs.RootfsSpec(rootfs.NODE_SUITE, tuple(E2E_PACKAGES), "minbase")
RECIPE_VERSION = 2  # bump when a recipe changes what it puts into an image
NGINX_SITE = """server {
    listen       80;
    listen  [::]:80;
    server_name  localhost;
    location / {
        root   /usr/share/nginx/html;
        index  index.html index.htm;
    }
    error_page   500 502 503 504  /50x.html;
    location = /50x.html {
        root   /usr/share/nginx/html;
    }
}
"""
BUSYBOX_PASSWD = """root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
"""
BUSYBOX_GROUP = """root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
wheel:x:10:root
mail:x:8:
www-data:x:33:
operator:x:37:
users:x:100:
nogroup:x:65534:
"""


@dataclass(frozen=True)
class ImageArchive:
    """The built archive and what it holds: names built, and names left out with the reason."""

    path: Path
    built: list[str]
    skipped: dict[str, str]


def build_images(suite: Suite, progress: Progress, mirror: str | None = None,
                 source: Path | None = None) -> ImageArchive:  # fmt: skip
    """Every image of ``suite.list_images()`` that has a recipe, in one archive (cached)."""
    names = suite.list_images()
    built, skipped = recipes.plan(names)
    mirror = mirror or debian_mirror()
    node = build.build_parts(suite.version, build.BuildOptions(suite.version.text, from_source=source), progress)
    coredns, pause = node.inputs.coredns, node.inputs.pause
    userland = pieces.rootfs_tar("rootfs-e2e", E2E_ROOTFS, mirror, progress,
                                 "e2e image userland (trixie: dig, curl, nc, socat, iperf, nginx, perl)")  # fmt: skip
    busybox = build_busybox(mirror, progress)
    memo = DigestMemo()
    inputs = {"suite": suite.root.name, "names": built, "recipes": RECIPE_VERSION,
              "userland": memo.digest(userland), "busybox": memo.digest(busybox),
              "coredns": memo.digest(coredns), "pause": memo.digest(pause)}  # fmt: skip
    memo.save()
    art = Artifact("e2e-images", inputs)
    out = art.path / "e2e-images.tar"
    if art.done:
        progress.say(f"ok  {len(built)} e2e test images (cached {art.id})")
        return ImageArchive(out, built, skipped)
    work = art.begin()
    with progress.step(f"assemble {len(built)} e2e test images", "e2e-images"):
        p = recipes.Pieces(suite.bin, suite.files, coredns, pause, oci.Layer(tar=userland),
                           busybox_layer(busybox, work / "busybox"),
                           recipes.with_users(userland, work / "users"))  # fmt: skip
        images = recipes.images(built, p)
        images = [_with_nginx_site(img, work) if recipes.repository(img.name) == "nginx" else img for img in images]
        oci.write_archive(images, out)
        (work / "images.json").write_text(json.dumps({"built": built, "skipped": skipped}, indent=2) + "\n")
        for tmp in ("busybox", "users", "nginx"):
            shutil.rmtree(work / tmp, ignore_errors=True)
    art.finish()
    return ImageArchive(out, built, skipped)


def busybox_layer(binary: Path, work: Path) -> oci.Layer:
    """/bin/busybox with a /bin link per applet (as the official image), passwd and group."""
    work.mkdir(parents=True, exist_ok=True)
    applets = Cmd([str(binary), "--list"]).run().stdout.split()
    (work / "passwd").write_text(BUSYBOX_PASSWD)
    (work / "group").write_text(BUSYBOX_GROUP)
    layer = oci.Layer(files=[oci.FileEntry("/bin/busybox", binary),
                             oci.FileEntry("/etc/passwd", work / "passwd", 0o644),
                             oci.FileEntry("/etc/group", work / "group", 0o644)])  # fmt: skip
    layer.symlinks = {f"/bin/{a}": "busybox" for a in applets if a != "busybox"}
    layer.dirs = {"/tmp": 0o1777, "/root": 0o700, "/home": 0o755, "/var": 0o755, "/etc": 0o755}
    return layer


def _with_nginx_site(image: oci.Image, work: Path) -> oci.Image:
    """nginx as the official image configures it: the default site serves /usr/share/nginx/html on
    port 80, logs go to the container's stdout and stderr."""
    (work / "nginx").mkdir(exist_ok=True)
    (work / "nginx" / "default").write_text(NGINX_SITE)
    site = oci.Layer(files=[oci.FileEntry("/etc/nginx/sites-enabled/default", work / "nginx" / "default", 0o644)])
    site.symlinks = {"/var/log/nginx/access.log": "/dev/stdout", "/var/log/nginx/error.log": "/dev/stderr"}
    image.layers = [*image.layers, site]
    return image
