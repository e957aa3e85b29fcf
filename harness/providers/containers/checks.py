"""What every container provider shares: the image phase, checks that nothing would be pulled, and
forgetting a cluster only once its resources are gone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from docker.errors import ImageNotFound

from harness.errors import UsageError
from harness.exec import Cmd
from harness.images.build import BuildOptions, build_node_image
from harness.phases.engine import Context
from harness.progress import Progress
from harness.providers.bringup import bringup
from harness.providers.containers import dockerapi
from harness.providers.containers.hostnet import docker_address_pools
from harness.spec.hostnet import labelled_host_routes, subnet_conflicts

# kind's HA load balancer image (sigs.k8s.io/kind v0.33.0, pkg/cluster/internal/loadbalancer/const.go):
# kind pulls it from Docker Hub when it is missing, and no registry answers here.
KIND_LB_IMAGE = "docker.io/envoyproxy/envoy:v1.36.2"


def resolve_image(ctx: Context) -> None:
    """The spec's node image, or the default image for its Kubernetes version (built if needed)."""
    state = bringup(ctx)
    if state.spec.node_image:
        state.image = state.spec.node_image
    else:
        opts = BuildOptions(kubernetes_version=state.spec.kubernetes_version)
        state.image = build_node_image(opts, Progress(tick=60, quiet=True))
    ctx.record.node_image, ctx.record.node_image_id = state.image, image_id(state.image)
    ctx.say(f"node image: {state.image} ({ctx.record.node_image_id})")


def image_id(image: str) -> str:
    """The local image's id (its config digest), "" when Docker does not have it."""
    try:
        return str(dockerapi.client().images.get(image).id)
    except ImageNotFound:
        return ""


def local_image(image: str) -> bool:
    try:
        dockerapi.client().images.get(image)
    except ImageNotFound:
        return False
    return True


def require_node_image(spec: Any) -> None:
    """A spec's ``node_image`` must be in the local image store: Docker would otherwise try a
    registry (and, here, fail after a while with its own error)."""
    if spec.node_image and not local_image(spec.node_image):
        raise UsageError(f"node image {spec.node_image!r} is not in the local Docker image store (nothing is "
                         "pulled: no registry is used)",
                         fix="build it (`kube-harness image build --tag NAME`; `kube-harness image ls` lists "
                             "the built ones), load it (`docker load -i FILE`), or drop node_image to use the "
                             "default image")  # fmt: skip


DAEMON_JSON = Path("/etc/docker/daemon.json")


def host_taken() -> list[tuple[str, str]]:
    """What the host's addresses are taken by: Docker networks, Docker's address pools (the node
    network is cut from them), and the host's routes (``ip -j route``), each range once."""
    taken = [(f"Docker network {n['Name']}", c["Subnet"]) for n in dockerapi.client().api.networks()
             for c in (n.get("IPAM") or {}).get("Config") or [] if c.get("Subnet")]  # fmt: skip
    try:
        daemon = json.loads(DAEMON_JSON.read_text()) if DAEMON_JSON.exists() else {}
        taken += [("Docker's default address pool", pool) for pool in docker_address_pools(daemon)]
    except ValueError:
        pass  # a daemon.json Docker itself would refuse; the engine's own error says so
    res = Cmd(["ip", "-j", "route"]).run(check=False)
    if res.ok and res.stdout.strip():
        taken += labelled_host_routes(json.loads(res.stdout))
    unique: dict[str, str] = {}
    for what, cidr in taken:
        unique.setdefault(cidr, what)
    return [(what, cidr) for cidr, what in unique.items()]


def check_host_subnets(spec: Any) -> None:
    """The pod and service ranges must not overlap what the host routes: pods could not reach
    the nodes (or the outside) through an address the host sends elsewhere."""
    net = spec.networking
    problems = subnet_conflicts({"pod_subnet": net.pod_subnet, "service_subnet": net.service_subnet}, host_taken())
    if problems:
        fix = "set networking.pod_subnet / networking.service_subnet in the spec to free ranges"
        raise UsageError("the cluster's address ranges collide with this host's:\n  " + "\n  ".join(problems), fix=fix)


def validate_container_spec(spec: Any) -> None:
    """What both container providers check before anything exists: images present, ranges free."""
    require_node_image(spec)
    check_host_subnets(spec)


def validate_kind(spec: Any) -> None:
    """kind's HA clusters need kind's envoy load balancer image, which kind would pull."""
    validate_container_spec(spec)
    if spec.join_discovery in ("token", "file"):
        raise UsageError(f"join_discovery: {spec.join_discovery} on the kind provider: kind joins nodes with a "
                         "JoinConfiguration of its own (token discovery with unsafeSkipCAVerification)",
                         fix="use --provider kubeadm for pinned or file discovery, or drop join_discovery")  # fmt: skip
    if spec.control_planes > 1 and not local_image(KIND_LB_IMAGE):
        raise UsageError(f"control_planes: {spec.control_planes} on the kind provider needs kind's load balancer "
                         f"image {KIND_LB_IMAGE}, which is not in the local image store and would be pulled",
                         fix="use --provider kubeadm for HA clusters (its haproxy load balancer is built here), "
                             f"or `docker load` {KIND_LB_IMAGE} first")  # fmt: skip
