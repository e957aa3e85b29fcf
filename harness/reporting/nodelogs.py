"""Collect node logs into a directory: journals, console output, kubeadm and kubelet files (redacted)."""

from __future__ import annotations

from pathlib import Path

from harness.cluster import Cluster
from harness.redact import redact

COMMANDS = {
    "journal-kubelet.log": ["journalctl", "--no-pager", "-u", "kubelet"],
    "journal-containerd.log": ["journalctl", "--no-pager", "-u", "containerd"],
    "journal.log": ["journalctl", "--no-pager"],
    "kubeadm-flags.env": ["cat", "/var/lib/kubelet/kubeadm-flags.env"],
    "kubelet-config.yaml": ["cat", "/var/lib/kubelet/config.yaml"],
    "iptables-save.txt": ["iptables-save"],
    "nft-ruleset.txt": ["nft", "list", "ruleset"],
    "resolv.conf": ["cat", "/etc/resolv.conf"],
    "containers.txt": ["ctr", "-n", "k8s.io", "containers", "ls"],
    "images.txt": ["ctr", "-n", "k8s.io", "images", "ls", "-q"],
}


def export(cluster: Cluster, directory: Path) -> list[Path]:
    out = []
    for node in cluster.all_nodes:
        folder = directory / node.name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "console.log").write_text(redact(node.logs()))
        out.append(folder / "console.log")
        for filename, argv in COMMANDS.items():
            res = node.command(*argv, timeout=60).run(check=False)
            (folder / filename).write_text(redact(res.stdout + (f"\n(exit {res.rc}) {res.stderr}" if res.rc else "")))
            out.append(folder / filename)
    return out
