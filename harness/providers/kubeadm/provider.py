"""The kubeadm provider: node containers through the Docker SDK, bootstrap run as phases."""

from __future__ import annotations

from typing import Any

import yaml

from harness.errors import UsageError
from harness.phases.engine import Phase
from harness.providers import dockerapi
from harness.providers.common import resolve_image, validate_container_spec
from harness.providers.kubeadm import flow
from harness.providers.kubeadm.nodes import node_names


class KubeadmProvider:
    name = "kubeadm"

    def __init__(self, phased: bool = False) -> None:
        self.phased = phased

    def plan(self, spec: Any, cluster: str) -> list[Phase]:
        phases = [
            Phase("image", resolve_image, timeout=3600),
            Phase("provision", flow.provision, timeout=300),
            Phase("configure", flow.configure, timeout=60),
            Phase("preflight", flow.preflight, timeout=180),
        ]
        if self.phased:
            phases += [Phase(f"init-{p.split()[0]}", flow.init_phase(p), timeout=300) for p in flow.INIT_PHASES]
        else:
            phases.append(Phase("init", flow.init, timeout=600))
        phases += [
            Phase("kubeconfig", flow.kubeconfig, timeout=60),
            Phase("cni", flow.install_cni, timeout=120),
            Phase("discovery", flow.wait_discovery, timeout=150),
        ]
        extra_cps = [n for n, role in node_names(cluster, spec.control_planes, 0)][1:]
        phases += [Phase(f"join-{n.removeprefix(cluster + '-')}", flow.join_control_plane(n), timeout=600)
                   for n in extra_cps]  # fmt: skip
        phases += [
            Phase("join-workers", flow.join_workers, timeout=600),
            Phase("ready", flow.ready, timeout=420),
            Phase("cleanup", flow.cleanup, timeout=300, when="failure"),
        ]
        return phases

    @staticmethod
    def validate(spec: Any) -> None:
        """The node image is local; nodes join with flags (token, CA hash): a JoinConfiguration
        patch would be ignored."""
        validate_container_spec(spec)
        for text in spec.all_kubeadm_patches():
            if (yaml.safe_load(text) or {}).get("kind") == "JoinConfiguration":
                raise UsageError("the kubeadm provider joins nodes with flags: JoinConfiguration patches do not apply",
                                 fix="drop the JoinConfiguration patch (kubelet_extra_args reach joining nodes), "
                                     "or use --provider kind")  # fmt: skip

    def delete(self, cluster: str) -> list[str]:
        return dockerapi.remove_cluster(cluster)
