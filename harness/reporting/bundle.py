"""The failure bundle: evidence from a test's cluster, written when the test fails.

Per node: journals (kubelet, containerd, all), console, iptables-save, nft ruleset, resolv.conf,
kubelet config (see ``nodelogs``); cluster-wide: the create run's phase logs (kubeadm output),
nodes and events; for the test's namespace and kube-system: resource YAML, events and pod logs.
Every file is written through the redactor; the bundle's folder is 0700.
"""

from __future__ import annotations

from pathlib import Path

from harness.cluster import Cluster
from harness.paths import private_dir
from harness.redact import redact
from harness.reporting import nodelogs


def write(path: Path, text: str) -> Path:
    """Write a bundle (or report) file with its secrets redacted."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(redact(text))
    return path


def copy_tree(src: Path, dest: Path) -> None:
    """Copy the text files under ``src`` (phase logs) through the redactor."""
    for file in sorted(p for p in src.rglob("*") if p.is_file()):
        write(dest / file.relative_to(src), file.read_text(errors="replace"))


def _kubectl_to(cluster: Cluster, path: Path, *args: str) -> None:
    try:
        write(path, cluster.kubectl(*args, check=False))
    except Exception as exc:
        write(path, f"could not run kubectl {' '.join(args)}: {exc}\n")


def _namespace(cluster: Cluster, ns: str, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    _kubectl_to(cluster, folder / "resources.yaml", "get", "all,configmaps,endpointslices", "-n", ns, "-o", "yaml")
    _kubectl_to(cluster, folder / "events.txt", "get", "events", "-n", ns, "--sort-by=.lastTimestamp")
    try:
        pods = cluster.get("pods", namespace=ns)["items"]
    except Exception:  # a bundle never fails for a missing piece
        pods = []
    for pod in pods:
        name = pod["metadata"]["name"]
        _kubectl_to(cluster, folder / f"pod-{name}.log", "logs", "-n", ns, name, "--all-containers", "--tail=2000")


def collect(cluster: Cluster, folder: Path, namespaces: list[str]) -> Path:
    """Write the bundle into ``folder``; returns it. Never raises for a missing piece."""
    private_dir(folder.parent)
    private_dir(folder)
    run_dir = Path(cluster.kubeconfig).parent
    if (run_dir / "phases").is_dir():
        copy_tree(run_dir / "phases", folder / "create-phases")
    _kubectl_to(cluster, folder / "nodes.yaml", "get", "nodes", "-o", "yaml")
    _kubectl_to(cluster, folder / "events-all.txt", "get", "events", "-A", "--sort-by=.lastTimestamp")
    for ns in [*namespaces, "kube-system"]:
        _namespace(cluster, ns, folder / "namespaces" / ns)
    if cluster.node_access:
        try:
            nodelogs.export(cluster, folder / "nodes")
        except Exception as exc:
            write(folder / "nodes-error.txt", str(exc))
    return folder
