"""Put the e2e test images into every node's containerd, with no registry: the generic loader
(``harness.images.load``, through the ``Node`` seam: kind, kubeadm and vagrant nodes alike; kind's
own ``load`` knows only kind nodes), pinned so the kubelet's image GC never removes them mid-suite.

A node that already has every name (a conformance node image, an earlier load) is left alone.
"""

from __future__ import annotations

from harness.cluster import Cluster
from harness.conformance.images import ImageArchive
from harness.images.load import Archive, load_archive
from harness.progress import Progress


def load_cluster(cluster: Cluster, archive: ImageArchive, progress: Progress) -> None:
    """Every node of ``cluster`` gets the archive's images (nodes side by side)."""
    counts = load_archive(cluster, Archive(archive.path, dict.fromkeys(archive.built, "")), progress, pin=True)
    for node, count in counts.items():
        progress.say(f"    {node}: {'imported ' + str(count) + ' missing' if count else 'had them all'}")
