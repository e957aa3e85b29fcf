"""Put the e2e test images into every node's containerd, with no registry: through the ``Node``
seam, so kind, kubeadm and vagrant nodes alike (kind's own ``load`` knows only kind nodes).

A node that already has every name (a conformance node image, an earlier load) is left alone.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from harness.cluster import Cluster
from harness.conformance.images import ImageArchive
from harness.errors import UsageError
from harness.progress import Progress
from harness.providers.base import Node

CTR = ("ctr", "-n", "k8s.io")
REMOTE = "/var/tmp/kube-harness-e2e-images.tar"


def missing(node: Node, names: list[str]) -> list[str]:
    """Which of ``names`` the node's containerd does not have."""
    have = set(node.command(*CTR, "images", "ls", "-q", timeout=120).run().stdout.split())
    return [n for n in names if n not in have]


def load_node(node: Node, archive: ImageArchive) -> int:
    """Import the archive into one node unless it has every image already; returns how many were missing."""
    lacking = missing(node, archive.built)
    if not lacking:
        return 0
    node.copy_to(archive.path, REMOTE)
    try:
        node.command(
            *CTR, "images", "import", "--all-platforms", "--label=io.cri-containerd.pinned=pinned", REMOTE, timeout=900
        ).run()  # pinned: the kubelet's image GC never removes them mid-suite
    finally:
        node.command("rm", "-f", REMOTE).run(check=False)
    still = missing(node, archive.built)
    if still:
        raise UsageError(f"{node.name}: containerd lacks {still[0]} after importing {archive.path}",
                         fix="see `kube-harness exec CLUSTER NODE -- ctr -n k8s.io images ls`")  # fmt: skip
    return len(lacking)


def load_cluster(cluster: Cluster, archive: ImageArchive, progress: Progress) -> None:
    """Every node of ``cluster`` gets the archive's images (nodes side by side)."""
    if not cluster.node_access:
        raise UsageError(
            f"cluster {cluster.name} ({cluster.provider}) takes no commands on its nodes: images cannot be loaded",
            fix="preload them into its nodes' image (`kube-harness image build --preload ARCHIVE`)",
        )
    nodes = cluster.all_nodes
    what = f"load {len(archive.built)} e2e test images into {len(nodes)} nodes"
    with progress.step(what, "e2e-load"), ThreadPoolExecutor(max_workers=len(nodes) or 1) as pool:
        counts = list(pool.map(lambda n: load_node(n, archive), nodes))
    for node, count in zip(nodes, counts, strict=True):
        progress.say(f"    {node.name}: {'imported ' + str(count) + ' missing' if count else 'had them all'}")
