"""The failure bundle: evidence from a test's cluster, written when the test fails.

Per node: journals (kubelet, containerd, all), console, iptables-save, nft ruleset, resolv.conf,
kubelet config (see ``nodelogs``); cluster-wide: the create run's phase logs (kubeadm output),
nodes and events; for the test's namespace and kube-system: resource YAML, events and pod logs.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from harness.cluster import Cluster
from harness.reporting import nodelogs


def _kubectl_to(cluster: Cluster, path: Path, *args: str) -> None:
    try:
        path.write_text(cluster.kubectl(*args, check=False))
    except Exception as exc:
        path.write_text(f"could not run kubectl {' '.join(args)}: {exc}\n")


def _namespace(cluster: Cluster, ns: str, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    _kubectl_to(cluster, folder / "resources.yaml", "get", "all,configmaps,endpointslices", "-n", ns, "-o", "yaml")
    _kubectl_to(cluster, folder / "events.txt", "get", "events", "-n", ns, "--sort-by=.lastTimestamp")
    try:
        pods = json.loads(cluster.kubectl("get", "pods", "-n", ns, "-o", "json", check=False) or "{}").get("items", [])
    except ValueError:
        pods = []
    for pod in pods:
        name = pod["metadata"]["name"]
        _kubectl_to(cluster, folder / f"pod-{name}.log", "logs", "-n", ns, name, "--all-containers", "--tail=2000")


def collect(cluster: Cluster, folder: Path, namespaces: list[str]) -> Path:
    """Write the bundle into ``folder``; returns it. Never raises for a missing piece."""
    folder.mkdir(parents=True, exist_ok=True)
    run_dir = Path(cluster.kubeconfig).parent
    if (run_dir / "phases").is_dir():
        shutil.copytree(run_dir / "phases", folder / "create-phases", dirs_exist_ok=True)
    _kubectl_to(cluster, folder / "nodes.yaml", "get", "nodes", "-o", "yaml")
    _kubectl_to(cluster, folder / "events-all.txt", "get", "events", "-A", "--sort-by=.lastTimestamp")
    for ns in [*namespaces, "kube-system"]:
        _namespace(cluster, ns, folder / "namespaces" / ns)
    if cluster.node_access:
        try:
            nodelogs.export(cluster, folder / "nodes")
        except Exception as exc:
            (folder / "nodes-error.txt").write_text(str(exc))
    return folder
