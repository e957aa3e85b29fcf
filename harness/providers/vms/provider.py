"""The vagrant provider: VMs from the box built out of the node image, made by Vagrant on libvirt,
bootstrapped by the same kubeadm phases as the kubeadm provider (timeouts scaled for slow guests).

Layouts (``vms.nodes``): ``all`` nodes are VMs on a libvirt network of their own; ``workers``: the
control planes are node containers (borrowed from the kubeadm provider through the ``Machines``
seam) and the workers VMs bridged onto the same network, the shape a host without KVM can afford.
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path
from typing import Any

from harness.bootstrap.plan import kubeadm_phases, reject_join_patches
from harness.cluster import Cluster, NodeInfo
from harness.errors import HostError, UsageError
from harness.paths import cache_root
from harness.phases.engine import Context, Phase
from harness.progress import Progress
from harness.providers import registry
from harness.providers.base import CONTROL_PLANE, Machines, Node, ProviderBase, node_names
from harness.providers.bringup import bringup, forget_after
from harness.providers.vms import boxes, layout, networks, slow, virsh
from harness.providers.vms.node import VMNode
from harness.providers.vms.vagrant import VagrantRun

CONTAINER = "container"


def accelerator() -> str:
    from harness.host.vms import accelerator as probe

    return probe()


def vagrant_dir(cluster: str) -> Path:
    return cache_root() / "vagrant" / cluster


def _machines() -> Machines:
    found = registry.get("kubeadm")
    if not isinstance(found, Machines):
        raise UsageError("the kubeadm provider lends no node containers", fix="use vms.nodes: all")
    return found


def image(ctx: Context) -> None:
    """The box (built from the node image, or the spec's) and, for container control planes, the node image."""
    state = bringup(ctx)
    spec = state.spec
    state.box = boxes.ensure_box(spec.vms.box, spec.kubernetes_version, Progress(tick=60, quiet=True))
    if layout.vm_nodes(spec.vms.nodes, accelerator()) == "workers":
        from harness.images.build import BuildOptions, build_node_image

        state.image = spec.node_image or build_node_image(BuildOptions(kubernetes_version=spec.kubernetes_version),
                                                          Progress(tick=60, quiet=True))  # fmt: skip
    ctx.record.node_image = f"{state.box}" + (f" + {state.image}" if state.image else "")
    ctx.say(f"box: {state.box}; node image: {state.image or '-'}")


def provision(ctx: Context) -> None:
    """Container control planes (if any), the libvirt networks, `vagrant up`, then each guest set up."""
    state = bringup(ctx)
    cluster, spec = state.cluster, state.spec
    accel = accelerator()
    mode = layout.vm_nodes(spec.vms.nodes, accel)
    names = node_names(cluster.name, spec.control_planes, spec.workers)
    avoid = [spec.networking.pod_subnet, spec.networking.service_subnet]
    infos: list[NodeInfo] = []
    if mode == "workers":
        machines = _machines()
        infos = machines.make(cluster, [(n, r) for n, r in names if r == CONTROL_PLANE], state.image)
        if spec.control_planes > 1:
            ctx.check()
            infos.append(machines.load_balancer(cluster, list(infos)))
        for info in infos:
            info.meta["machine"] = CONTAINER
        network = machines.network(cluster.name)
        mgmt, _ = networks.make(cluster.name, [*avoid, network.subnet], private=False)
    else:
        mgmt, own = networks.make(cluster.name, avoid, private=True)
        assert own is not None
        network = own
        if accel != "kvm":  # a control-plane VM under TCG: slow-guest settings (harness/providers/vms/slow.py)
            extra = slow.patches(layout.timeout_scale(spec.vms.timeout_scale, accel))
            state.spec = spec.model_copy(update={"kubeadm_patches": [*extra, *spec.kubeadm_patches]})
    plan = layout.plan(cluster.name, names, mode, network, mgmt)
    cluster.nodes = infos
    cluster.save()
    ctx.check()
    run = VagrantRun(vagrant_dir(cluster.name), ctx.log, layout.timeout_scale(spec.vms.timeout_scale, accel))
    run.write(cluster, plan, state.box, spec.vms, "kvm" if accel == "kvm" else "qemu")
    run.up(ctx)
    cluster.nodes = infos + run.nodes(cluster, plan)
    cluster.save()


def cleanup(ctx: Context) -> None:
    """After a failure or Ctrl-C (unless kept): this run's VMs, volumes, networks and containers."""
    cluster = bringup(ctx).cluster
    for line in forget_after(cluster, lambda: VagrantProvider().delete(cluster.name, cluster.run_id)):
        ctx.say(f"removed {line}")


class VagrantProvider(ProviderBase):
    name = "vagrant"
    options = ("phased",)

    def __init__(self, phased: bool = False) -> None:
        self.phased = phased

    def validate(self, spec: Any) -> None:
        virsh.require()
        if shutil.which("vagrant") is None:
            raise UsageError("vagrant is not installed", fix="run `kube-harness host prepare --with-vms`")
        reject_join_patches(spec, self.name)
        mode = layout.vm_nodes(spec.vms.nodes, accelerator())
        if spec.control_planes > 1 and mode == "all":
            raise UsageError("HA with control-plane VMs needs a load balancer VM, which the vagrant provider does "
                             "not make yet", fix="use vms.nodes: workers (container control planes behind a "
                             "load balancer container, VM workers), or control_planes: 1")  # fmt: skip
        if mode == "workers":
            registry.get("kubeadm").validate(spec)  # the container control planes' image and ranges

    def plan(self, spec: Any, cluster: str) -> list[Phase]:
        scale = spec.vms.timeout_scale or layout.timeout_scale(0.0, accelerator())  # no probe when set
        names = [n for n, _ in node_names(cluster, spec.control_planes, spec.workers)]
        return [
            Phase("image", image, timeout=3600),
            Phase("provision", provision, timeout=900 * scale),
            *kubeadm_phases(spec, cluster, names, self.phased, scale),
            Phase("cleanup", cleanup, timeout=600, when="failure"),
        ]

    def delete(self, cluster: str, run: str | None = None) -> list[str]:
        """`vagrant destroy` where its project is, then by label and name whatever is left (VMs,
        volumes, networks), and the container control planes."""
        folder = vagrant_dir(cluster)
        gone = VagrantRun(folder, None, 1.0).destroy() if (folder / "Vagrantfile").exists() else []
        names = [n for n, _ in node_names(cluster, 7, 20)]
        gone += virsh.remove_cluster(cluster, run, names)
        with contextlib.suppress(UsageError, HostError):  # no Docker here: no container control planes
            gone += _machines().delete(cluster, run)
        shutil.rmtree(folder, ignore_errors=True)
        return gone

    def clusters(self) -> dict[str, dict[str, str]]:
        return virsh.clusters() if virsh.available() else {}

    def timeout_scale(self, cluster: Cluster) -> float:
        setting = float((cluster.spec.get("vms") or {}).get("timeout_scale") or 0)
        return setting or layout.timeout_scale(0.0, accelerator())

    def node(self, info: NodeInfo) -> Node:
        if info.meta.get("machine") == CONTAINER:
            return _machines().node(info)
        return VMNode(info.name, info.role, dict(info.meta))

    def spare_node(self, cluster: Cluster, name: str | None = None) -> contextlib.AbstractContextManager[Node]:
        """With container control planes, a spare node container on their network; none for all-VM clusters."""
        if cluster.nodes and cluster.nodes[0].meta.get("machine") == CONTAINER:
            return registry.get("kubeadm").spare_node(cluster, name)
        raise NotImplementedError("the vagrant provider makes no spare VMs (a VM takes minutes to boot under TCG)")
