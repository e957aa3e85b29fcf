"""Docker resources of a cluster through the Docker SDK: networks, volumes, node containers.

Everything created here carries the harness labels (cluster, run, xdist worker, pid), so a
cluster can always be found and removed by label, and ``gc`` can find leftovers of dead runs.
"""

from __future__ import annotations

import contextlib
import functools
from dataclasses import dataclass
from pathlib import Path

import docker
from docker.errors import APIError, NotFound
from docker.models.containers import Container

from harness.errors import HostError
from harness.providers.base import LABEL_CLUSTER, LABEL_ROLE


@functools.cache
def client() -> docker.DockerClient:
    try:
        c = docker.from_env(timeout=300)
        c.ping()
    except Exception as exc:
        raise HostError(f"no Docker engine answers ({exc})", fix="run `kube-harness host prepare`") from exc
    return c


@dataclass
class NodeRequest:
    name: str
    image: str
    role: str
    network: str
    labels: dict[str, str]


def create_network(name: str, labels: dict[str, str]) -> None:
    """A bridge network whose subnet (Docker's free pick) is then fixed in its IPAM config, so a
    stopped node can be given its old address back (``docker network connect --ip``): node IPs are
    baked into certificates and kubelet flags, and Docker otherwise reassigns them on restart."""
    options = {"com.docker.network.bridge.enable_ip_masquerade": "true"}
    probe = client().networks.create(name, driver="bridge", labels=labels, options=options)
    pools = [docker.types.IPAMPool(subnet=c["Subnet"], gateway=c.get("Gateway"))
             for c in probe.attrs["IPAM"]["Config"] if "Subnet" in c]  # fmt: skip
    probe.remove()
    client().networks.create(name, driver="bridge", labels=labels, options=options,
                             ipam=docker.types.IPAMConfig(pool_configs=pools))  # fmt: skip


def run_node(req: NodeRequest) -> Container:
    """Start a privileged node container the way kind does (systemd as PID 1, /var on a volume)."""
    volume = client().volumes.create(f"{req.name}-var", labels=req.labels)
    return client().containers.run(
        req.image, name=req.name, hostname=req.name, detach=True, tty=True, privileged=True,
        security_opt=["seccomp=unconfined", "apparmor=unconfined"], tmpfs={"/tmp": "", "/run": ""},
        volumes={volume.name: {"bind": "/var", "mode": "rw"}, "/lib/modules": {"bind": "/lib/modules", "mode": "ro"}},
        network=req.network, labels={**req.labels, LABEL_ROLE: req.role}, cgroupns="private", init=False,
    )  # fmt: skip


def containers(cluster: str | None = None) -> list[Container]:
    label = f"{LABEL_CLUSTER}={cluster}" if cluster else LABEL_CLUSTER
    return client().containers.list(all=True, filters={"label": label})


def remove_cluster(cluster: str) -> list[str]:
    """Remove containers, then networks and volumes labelled with ``cluster``; returns what went."""
    label = {"label": f"{LABEL_CLUSTER}={cluster}"}
    gone = []
    for c in client().containers.list(all=True, filters=label):
        remove_container(c)
        gone.append(f"container {c.name}")
    for n in client().networks.list(filters=label):
        _quietly(n.remove)
        gone.append(f"network {n.name}")
    for v in client().volumes.list(filters=label):
        _quietly(lambda v=v: v.remove(force=True))
        gone.append(f"volume {v.name}")
    return gone


def remove_container(c: Container) -> None:
    """``docker rm -f -v``, thawing the node's cgroups first if Docker cannot kill it.

    On cgroup v1, a node killed while its own runc had a pod's cgroup frozen (runc freezes it to
    apply settings) keeps that cgroup FROZEN: its processes can never exit and Docker reports
    "did not receive an exit event". Seen once in 14 Ctrl-C tests of a CI run."""
    try:
        _quietly(lambda: c.remove(force=True, v=True))
    except APIError:
        for state in (Path("/sys/fs/cgroup/freezer/docker") / str(c.id)).rglob("freezer.state"):
            with contextlib.suppress(OSError):
                if state.read_text().strip() != "THAWED":
                    state.write_text("THAWED")
        _quietly(lambda: c.remove(force=True, v=True))


def labelled_clusters() -> dict[str, dict[str, str]]:
    """Cluster name -> labels of one of its resources, for every labelled container/network/volume."""
    out: dict[str, dict[str, str]] = {}
    filters = {"label": LABEL_CLUSTER}
    for obj in [*client().containers.list(all=True, filters=filters), *client().networks.list(filters=filters),
                *client().volumes.list(filters=filters)]:  # fmt: skip
        labels = obj.attrs.get("Labels") or obj.attrs.get("Config", {}).get("Labels") or {}
        if LABEL_CLUSTER in labels:
            out.setdefault(labels[LABEL_CLUSTER], labels)
    return out


def _quietly(action: object) -> None:
    try:
        action()  # type: ignore[operator]
    except NotFound:
        pass
    except APIError as exc:
        if exc.status_code != 404:
            raise
