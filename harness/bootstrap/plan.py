"""The kubeadm flow as engine phases, for every provider that runs kubeadm on its own nodes."""

from __future__ import annotations

from typing import Any

import yaml

from harness.bootstrap import flow
from harness.bootstrap.ready import ready
from harness.errors import UsageError
from harness.phases.engine import Phase


def kubeadm_phases(spec: Any, cluster: str, node_names: list[str], phased: bool,
                   scale: float = 1.0) -> list[Phase]:  # fmt: skip
    """The kubeadm flow after provisioning, for any provider (``scale``: timeouts for slow nodes)."""
    phases = [Phase("configure", flow.configure, timeout=60 * scale), Phase("preflight", flow.preflight, 180 * scale)]
    if phased:
        phases += [Phase(f"init-{p.split()[0]}", flow.init_phase(p), timeout=300 * scale) for p in flow.INIT_PHASES]
    else:
        phases.append(Phase("init", flow.init, timeout=600 * scale))
    phases += [
        Phase("kubeconfig", flow.kubeconfig, timeout=60 * scale),
        Phase("cni", flow.install_cni, timeout=120 * scale),
        Phase("discovery", flow.wait_discovery, timeout=150 * scale),
    ]
    phases += [Phase(f"join-{n.removeprefix(cluster + '-')}", flow.join_control_plane(n), timeout=600 * scale)
               for n in node_names[1 : spec.control_planes]]  # fmt: skip
    phases += [Phase("join-workers", flow.join_workers, timeout=600 * scale), Phase("ready", ready, 420 * scale)]
    return phases


def reject_join_patches(spec: Any, provider: str) -> None:
    for text in spec.all_kubeadm_patches():
        if (yaml.safe_load(text) or {}).get("kind") == "JoinConfiguration":
            raise UsageError(f"the {provider} provider joins nodes with flags: JoinConfiguration patches do not apply",
                             fix="drop the JoinConfiguration patch (kubelet_extra_args reach joining nodes), "
                                 "or use --provider kind")  # fmt: skip
