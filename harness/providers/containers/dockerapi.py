"""Docker resources of a cluster through the Docker SDK: networks, volumes, node containers.

Everything created here carries the harness labels (cluster, run, xdist worker, pid), so a
cluster can always be found and removed by label, and ``gc`` can find leftovers of dead runs.
"""

from __future__ import annotations

import contextlib
import functools
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
from docker.errors import APIError, DockerException, NotFound
from docker.models.containers import Container

from harness.errors import CleanupError, HostError, name_taken
from harness.locks import host_lock
from harness.providers.base import LABEL_CLUSTER, LABEL_KEEP, LABEL_ROLE, LABEL_RUN, NodeNetwork


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
    baked into certificates and kubelet flags, and Docker otherwise reassigns them on restart.

    This is the cluster's claim on its name: under the host lock, a network of that name or any
    resource of that cluster made by another run refuses it (the loser of a race deletes nothing),
    and the subnet is picked and fixed before another create can pick it too."""
    with host_lock():
        _refuse_taken(name, labels)
        options = {"com.docker.network.bridge.enable_ip_masquerade": "true"}
        probe = client().networks.create(name, driver="bridge", labels=labels, options=options)
        pools = [docker.types.IPAMPool(subnet=c["Subnet"], gateway=c.get("Gateway"))
                 for c in probe.attrs["IPAM"]["Config"] if "Subnet" in c]  # fmt: skip
        probe.remove()
        client().networks.create(name, driver="bridge", labels=labels, options=options,
                                 ipam=docker.types.IPAMConfig(pool_configs=pools))  # fmt: skip


def bridge(network: str) -> NodeNetwork:
    """The host bridge, subnet and gateway of a network (another backend's machines join it)."""
    attrs = client().networks.get(network).attrs
    config = next(c for c in attrs["IPAM"]["Config"] if "Subnet" in c)
    name = (attrs.get("Options") or {}).get("com.docker.network.bridge.name") or f"br-{attrs['Id'][:12]}"
    return NodeNetwork(name, config["Subnet"], config.get("Gateway", ""))


def _refuse_taken(network: str, labels: dict[str, str]) -> None:
    cluster, run = labels[LABEL_CLUSTER], labels[LABEL_RUN]
    others = [r for r in resources({LABEL_CLUSTER: cluster}) if r.run != run]
    if others or any(n["Name"] == network for n in client().api.networks(names=[network])):
        raise name_taken(cluster, ", ".join(str(r) for r in others) or f"network {network}")


def run_node(req: NodeRequest) -> Container:
    """Start a privileged node container the way kind does (systemd as PID 1, /var on a volume).
    Created, then started: unlike ``containers.run`` nothing is ever pulled."""
    volume = client().volumes.create(f"{req.name}-var", labels=req.labels)
    container = client().containers.create(
        req.image, name=req.name, hostname=req.name, detach=True, tty=True, privileged=True,
        security_opt=["seccomp=unconfined", "apparmor=unconfined"], tmpfs={"/tmp": "", "/run": ""},
        volumes={volume.name: {"bind": "/var", "mode": "rw"}, "/lib/modules": {"bind": "/lib/modules", "mode": "ro"}},
        network=req.network, labels={**req.labels, LABEL_ROLE: req.role}, cgroupns="private", init=False,
    )  # fmt: skip
    container.start()
    return container


def containers(cluster: str | None = None) -> list[Container]:
    label = f"{LABEL_CLUSTER}={cluster}" if cluster else LABEL_CLUSTER
    return [c for c in (_get_container(i["Id"]) for i in client().api.containers(all=True, filters={"label": label}))
            if c is not None]  # fmt: skip


def _get_container(cid: str) -> Container | None:
    try:
        return client().containers.get(cid)
    except NotFound:  # listed, then gone before inspect
        return None


@dataclass(frozen=True)
class Resource:
    kind: str  # container | network | volume
    id: str
    name: str
    run: str = ""  # the run that made it (its label)

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


def resources(selector: dict[str, str]) -> list[Resource]:
    """Containers, then networks, then volumes carrying every label of ``selector`` (removal order).
    Listing only, no inspect: a resource that vanishes meanwhile is simply not there next time."""
    filters = {"label": [f"{k}={v}" if v else k for k, v in selector.items()]}
    api = client().api
    out = [Resource("container", c["Id"], c["Names"][0].lstrip("/"), _run(c))
           for c in api.containers(all=True, filters=filters)]  # fmt: skip
    out += [Resource("network", n["Id"], n["Name"], _run(n)) for n in api.networks(filters=filters)]
    out += [
        Resource("volume", v["Name"], v["Name"], _run(v)) for v in api.volumes(filters=filters).get("Volumes") or []
    ]
    return out


def _run(listed: dict[str, Any]) -> str:
    return str((listed.get("Labels") or {}).get(LABEL_RUN, ""))


def remove(res: Resource) -> None:
    """Remove one resource; one that is already gone (or going) counts as removed."""
    api = client().api
    if res.kind == "container":
        remove_container(res.id)
    elif res.kind == "network":
        _quietly(lambda: api.remove_network(res.id))
    else:
        _quietly(lambda: api.remove_volume(res.id, force=True))


def remove_all(selector: dict[str, str], attempts: int = 3) -> list[str]:
    """Remove every resource matching ``selector``, going on after one fails; tries again what is
    left (a network still held by a container being removed). Raises CleanupError naming what is
    left after the last attempt; returns what went."""
    gone: list[str] = []
    errors: dict[str, str] = {}
    for attempt in range(attempts):
        try:
            left = resources(selector)
        except DockerException as exc:
            errors["listing"] = str(exc)
            continue
        errors.pop("listing", None)
        if not left:
            return gone
        for res in left:
            try:
                remove(res)
                gone.append(str(res))
                errors.pop(str(res), None)
            except (DockerException, OSError) as exc:
                errors[str(res)] = str(exc)
        if attempt + 1 < attempts:
            time.sleep(1.0 * (attempt + 1))
    leftovers = _left(selector, errors)
    if leftovers:
        raise CleanupError(leftovers, errors)
    return gone


def _left(selector: dict[str, str], errors: dict[str, str]) -> list[str]:
    try:
        return [str(r) for r in resources(selector)]
    except DockerException:
        return sorted(errors) or ["(could not list the resources)"]


def remove_cluster(cluster: str, run: str | None = None) -> list[str]:
    """Remove the containers, networks and volumes labelled with ``cluster`` (and, given ``run``,
    made by that run only: a failed create never touches another run's resources)."""
    selector = {LABEL_CLUSTER: cluster, **({LABEL_RUN: run} if run else {})}
    return remove_all(selector)


def remove_container(cid: str) -> None:
    """``docker rm -f -v``, thawing the node's cgroups first if Docker cannot kill it.

    On cgroup v1, a node killed while its own runc had a pod's cgroup frozen (runc freezes it to
    apply settings) keeps that cgroup FROZEN: its processes can never exit and Docker reports
    "did not receive an exit event". Seen once in 14 Ctrl-C tests of a CI run."""
    api = client().api
    try:
        _quietly(lambda: api.remove_container(cid, force=True, v=True))
    except APIError:
        for state in (Path("/sys/fs/cgroup/freezer/docker") / cid).rglob("freezer.state"):
            with contextlib.suppress(OSError):
                if state.read_text().strip() != "THAWED":
                    state.write_text("THAWED")
        _quietly(lambda: api.remove_container(cid, force=True, v=True))


def labelled_clusters() -> dict[str, dict[str, str]]:
    """Cluster name -> the labels of its resources, merged (``keep`` is true when any says so),
    for every labelled container, network and volume."""
    out: dict[str, dict[str, str]] = {}
    for res_labels in _all_labels():
        name = res_labels.get(LABEL_CLUSTER)
        if name is None:
            continue
        merged = out.setdefault(name, {})
        kept = merged.get(LABEL_KEEP) == "true" or res_labels.get(LABEL_KEEP) == "true"
        merged.update({k: v for k, v in res_labels.items() if k not in merged})
        if kept:
            merged[LABEL_KEEP] = "true"
    return out


def _all_labels() -> list[dict[str, str]]:
    api, filters = client().api, {"label": LABEL_CLUSTER}
    found = [c.get("Labels") or {} for c in api.containers(all=True, filters=filters)]
    found += [n.get("Labels") or {} for n in api.networks(filters=filters)]
    found += [v.get("Labels") or {} for v in api.volumes(filters=filters).get("Volumes") or []]
    return found


def _quietly(action: object) -> None:
    """Run a removal; gone already (404) or being removed by someone else (409) is fine."""
    try:
        action()  # type: ignore[operator]
    except NotFound:
        pass
    except APIError as exc:
        if exc.status_code == 409 and "in progress" in str(exc):
            return
        if exc.status_code != 404:
            raise
