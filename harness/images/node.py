"""Assemble the kind-compatible node image from a cached rootfs and the built pieces.

The rootfs (systemd, containerd 2.x, runc, CNI plugins) gets kubeadm/kubelet/kubectl, our
entrypoint and units, containerd's config, kind's contract files (``/kind/version``,
``/kind/manifests/default-cni.yaml``) and, in containerd's ``k8s.io`` namespace, every image
kubeadm and the CNI need. ``docker import`` then tags it; a failed build never leaves a tag.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from harness.errors import BuildError
from harness.exec import Cmd

FILES = resources.files("harness.images") / "files" / "node"
FILES_DIR = Path(str(FILES))
MASKED_UNITS = [
    "systemd-modules-load.service", "systemd-binfmt.service", "getty.target", "console-getty.service",
    "systemd-udevd.service", "systemd-udev-trigger.service", "systemd-firstboot.service",
    "systemd-networkd.service", "systemd-resolved.service", "systemd-timesyncd.service",
    "apt-daily.timer", "apt-daily-upgrade.timer", "e2scrub_all.timer", "fstrim.timer",
]  # fmt: skip
ENTRYPOINT = '["/usr/local/bin/entrypoint", "/sbin/init"]'


@dataclass(frozen=True)
class NodeContent:
    version: str
    kube_bin: Path
    flannel_cni: Path
    pause_image: str
    cni_manifest: str
    metadata: str


def _put(root: Path, path: str, data: str | bytes, mode: int = 0o644) -> None:
    dest = root / path.lstrip("/")
    dest.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    dest.write_bytes(data)
    dest.chmod(mode)


def _file(name: str) -> str:
    return (FILES / name).read_text()


def install_overlay(root: Path, c: NodeContent) -> None:
    """Everything the node needs on top of the Debian rootfs."""
    for binary in ("kubeadm", "kubelet", "kubectl"):
        _put(root, f"/usr/bin/{binary}", (c.kube_bin / binary).read_bytes(), 0o755)
    _put(root, "/opt/cni/bin/flannel", c.flannel_cni.read_bytes(), 0o755)
    _put(root, "/usr/local/bin/entrypoint", _file("entrypoint"), 0o755)
    _put(root, "/usr/local/bin/kube-harness-kubelet-cgroups", _file("kubelet-cgroups"), 0o755)
    _put(root, "/etc/systemd/system/kubelet.service", _file("systemd/kubelet.service"))
    _put(root, "/etc/systemd/system/kubelet.slice", _file("systemd/kubelet.slice"))
    _put(root, "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf", _file("systemd/10-kubeadm.conf"))
    _put(root, "/etc/systemd/system/kubelet.service.d/11-kube-harness.conf", _file("systemd/11-kube-harness.conf"))
    _put(root, "/etc/systemd/system/containerd.service.d/10-kube-harness.conf", _file("systemd/containerd-node.conf"))
    _put(root, "/etc/default/kubelet", "KUBELET_EXTRA_ARGS=--runtime-cgroups=/system.slice/containerd.service\n")
    _put(root, "/etc/containerd/config.toml", _file("containerd-config.toml").replace("@PAUSE_IMAGE@", c.pause_image))
    _put(root, "/etc/crictl.yaml", "runtime-endpoint: unix:///run/containerd/containerd.sock\n")
    _put(root, "/etc/sysctl.d/10-kube-harness.conf", "net.ipv4.conf.all.route_localnet=1\nnet.ipv4.ip_forward=1\n")
    _put(root, "/etc/systemd/journald.conf.d/10-kube-harness.conf", "[Journal]\nReadKMsg=no\n")
    _put(root, "/etc/machine-id", "")
    (root / "etc/kubernetes/manifests").mkdir(parents=True, exist_ok=True)
    _put(root, "/kind/version", c.version + "\n")
    _put(root, "/kind/manifests/default-cni.yaml", c.cni_manifest)
    _put(root, "/kube-harness/image.json", c.metadata)
    init = root / "sbin/init"
    if not init.exists() and not init.is_symlink():
        init.symlink_to("/lib/systemd/systemd")


def configure_units(root: Path, log: Path) -> None:
    Cmd(["chroot", str(root), "systemctl", "enable", "kubelet.service", "containerd.service"]).run(log=log)
    Cmd(["chroot", str(root), "systemctl", "mask", *MASKED_UNITS]).run(log=log)


def import_images(root: Path, archive: Path, log: Path) -> None:
    """Load ``archive`` into the rootfs's containerd (k8s.io namespace), pinned and unpacked into
    snapshots (the layer blobs are then dropped): containers start without unpacking on any node."""
    script = Path(str(FILES / "import-images.sh"))
    Cmd(["unshare", "--mount", "--fork", "sh", str(script), str(root), str(archive)], timeout=900).run(log=log)


def docker_import(root: Path, tag: str, labels: dict[str, str], log: Path) -> None:
    """Tar the rootfs into Docker and give it kind's runtime settings; tags ``tag`` only on success.

    ``docker import`` takes the filesystem (untagged); a one-step ``docker build`` from its id adds
    entrypoint, environment, stop signal and labels (``docker import --change`` cannot set
    STOPSIGNAL on every Docker version).
    """
    tar_argv = ["tar", "-C", str(root), "--numeric-owner", "--xattrs", "--xattrs-include=*", "-cf", "-", "."]
    with log.open("a") as fh:
        fh.write(f"$ {' '.join(tar_argv)} | docker import - \n")
        fh.flush()
        tar = subprocess.Popen(tar_argv, stdout=subprocess.PIPE, stderr=fh)
        try:
            imp = subprocess.run(["docker", "import", "-"], stdin=tar.stdout, capture_output=True, text=True)
        finally:
            if tar.stdout:
                tar.stdout.close()
            tar_rc = tar.wait()
        fh.write(imp.stdout + imp.stderr)
    if tar_rc != 0 or imp.returncode != 0:
        raise BuildError(
            f"docker import of the node rootfs failed (tar {tar_rc}, import {imp.returncode})", fix=f"see {log}"
        )
    image_id = imp.stdout.strip()  # stays as the (untagged) parent of the tagged image
    dockerfile = "\n".join([f"FROM {image_id}", f"ENTRYPOINT {ENTRYPOINT}", "ENV container=docker",
                            "STOPSIGNAL SIGRTMIN+3", *(f'LABEL "{k}"="{v}"' for k, v in labels.items())])  # fmt: skip
    Cmd(["docker", "build", "--quiet", "-t", tag, "-"], input=dockerfile + "\n", env={"DOCKER_BUILDKIT": "0"}).run(
        log=log
    )


def copy_rootfs(src: Path, dest: Path, log: Path) -> None:
    if dest.exists():
        shutil.rmtree(dest)
    Cmd(["cp", "-a", "--reflink=auto", str(src), str(dest)]).run(log=log)
