"""libvirt resources of VM clusters through ``virsh``: domains (labelled in their description),
their volumes, and the networks named after the cluster.

Domains carry the harness labels as JSON in their libvirt description (vagrant-libvirt's
``description``), so ``gc`` finds them from any cache; networks are ``kh-vm-<cluster>`` and
``kh-vm-<cluster>.mgmt`` (libvirt 9.0 networks have no metadata; cluster names have no dots);
volumes are ``<domain>.img``.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

from harness.errors import CleanupError, HarnessError, HostError
from harness.exec import Cmd, Result
from harness.providers.base import LABEL_CLUSTER, LABEL_KEEP, LABEL_RUN

URI = "qemu:///system"
POOL = "default"
LABELS_MARK = "kube-harness labels: "


def virsh(*argv: str, check: bool = True, timeout: float = 120) -> Result:
    return Cmd(["virsh", "-c", URI, *argv], timeout=timeout).run(check=check)


SOCKETS = (Path("/run/libvirt/libvirt-sock"), Path("/run/libvirt/virtqemud-sock"))


def available() -> bool:
    """libvirtd answers (checked cheaply first: without its socket, virsh retries for seconds)."""
    if shutil.which("virsh") is None or not any(s.exists() for s in SOCKETS):
        return False
    try:  # `uri` answers at once; `version` probes QEMU's capabilities (4 s here)
        return virsh("uri", check=False, timeout=20).ok
    except HarnessError:  # no virsh here (CommandError: command not found), or it hung
        return False


def require() -> None:
    if not available():
        raise HostError("libvirt does not answer (virsh -c qemu:///system uri)",
                        fix="run `kube-harness host prepare --with-vms`")  # fmt: skip


def description(labels: dict[str, str]) -> str:
    return LABELS_MARK + json.dumps(labels, sort_keys=True)


def parse_description(text: str) -> dict[str, str]:
    text = text.strip()
    if not text.startswith(LABELS_MARK):
        return {}
    try:
        found = json.loads(text[len(LABELS_MARK) :])
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}


def domains() -> dict[str, dict[str, str]]:
    """Domain name -> labels, for every domain the harness labelled."""
    out = {}
    for name in virsh("list", "--all", "--name").stdout.split():
        labels = parse_description(virsh("desc", name, check=False).stdout)
        if LABEL_CLUSTER in labels:
            out[name] = labels
    return out


def network_names(cluster: str) -> list[str]:
    return [private_network(cluster), management_network(cluster)]


def private_network(cluster: str) -> str:
    return f"kh-vm-{cluster}"


def management_network(cluster: str) -> str:
    return f"kh-vm-{cluster}.mgmt"


NETWORK_RE = re.compile(r"^kh-vm-(?P<cluster>[a-z0-9-]+)(\.mgmt)?$")


def networks() -> dict[str, str]:
    """Network name -> cluster, for the harness's VM networks."""
    found = virsh("net-list", "--all", "--name").stdout.split()
    return {n: m["cluster"] for n in found if (m := NETWORK_RE.match(n))}


def clusters() -> dict[str, dict[str, str]]:
    """Cluster -> merged labels of its domains (kept if any says so); clusters with only a network left too."""
    out: dict[str, dict[str, str]] = {}
    for labels in domains().values():
        merged = out.setdefault(labels[LABEL_CLUSTER], {})
        kept = merged.get(LABEL_KEEP) == "true" or labels.get(LABEL_KEEP) == "true"
        merged.update({k: v for k, v in labels.items() if k not in merged})
        if kept:
            merged[LABEL_KEEP] = "true"
    for cluster in networks().values():
        out.setdefault(cluster, {LABEL_CLUSTER: cluster})
    return out


def state(domain: str) -> str:
    """running, paused, shut off, ... ('' when there is no such domain)."""
    return virsh("domstate", domain, check=False).stdout.strip()


def remove_domain(domain: str) -> None:
    if state(domain) in ("running", "paused", "in shutdown"):
        virsh("destroy", domain, check=False)
    virsh("undefine", domain, "--remove-all-storage", "--nvram", check=False)
    if state(domain):
        virsh("undefine", domain, "--remove-all-storage", check=True)


def remove_network(name: str) -> None:
    virsh("net-destroy", name, check=False)
    virsh("net-undefine", name, check=False)


def volumes(node_names: list[str]) -> list[str]:
    names = set(virsh("vol-list", POOL, check=False).stdout.split())
    return sorted(f"{n}.img" for n in node_names if f"{n}.img" in names)


def remove_cluster(cluster: str, run: str | None, node_names: list[str], attempts: int = 3) -> list[str]:
    """Domains labelled with ``cluster`` (and ``run``), their volumes, the volumes of ``node_names``
    left without a domain, and the cluster's networks. CleanupError names what stays."""
    gone: list[str] = []
    for _ in range(attempts):
        left = _left(cluster, run, node_names)
        if not left:
            return gone
        for kind, name in left:
            {"domain": remove_domain, "network": remove_network, "volume": _remove_volume}[kind](name)
            gone.append(f"{kind} {name}")
        time.sleep(1)
    leftovers = [f"{kind} {name}" for kind, name in _left(cluster, run, node_names)]
    if leftovers:
        raise CleanupError(leftovers, {})
    return sorted(set(gone))


def _remove_volume(name: str) -> None:
    virsh("vol-delete", name, "--pool", POOL, check=False)


def _left(cluster: str, run: str | None, node_names: list[str]) -> list[tuple[str, str]]:
    doms = [d for d, labels in domains().items()
            if labels.get(LABEL_CLUSTER) == cluster and (run is None or labels.get(LABEL_RUN) == run)]  # fmt: skip
    left = [("domain", d) for d in doms]
    left += [("volume", v) for v in volumes(node_names)]
    left += [("network", n) for n, c in networks().items() if c == cluster]
    return left
