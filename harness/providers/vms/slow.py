"""kubeadm settings for control planes on slow guests (QEMU TCG, ~8x slower CPU than the host).

With stock settings a control-plane VM here did not converge: a 10 s API call timed out in
``wait-control-plane``, the controller-manager and scheduler lost their 5 s/10 s leader leases and
crash-looped, etcd logged slow heartbeats. So, for VM control planes only: longer leader leases
(one control plane has nobody to hand over to anyway), etcd heartbeat/election 10x its defaults
(100 ms/1 s), and kubeadm's own waits (v1beta4 ``timeouts``) scaled with the guest's slowness.
"""

from __future__ import annotations

from harness import yamlio
from harness.spec.failover import KUBEADM_API

LEASES = {"leader-elect-lease-duration": "60s", "leader-elect-renew-deadline": "45s",
          "leader-elect-retry-period": "10s"}  # fmt: skip
ETCD = {"heartbeat-interval": "1000", "election-timeout": "10000"}
TIMEOUTS_MIN = {"controlPlaneComponentHealthCheck": 4, "kubeletHealthCheck": 4, "kubernetesAPICall": 1,
                "etcdAPICall": 2, "tlsBootstrap": 5, "upgradeManifests": 5}  # kubeadm's defaults, minutes  # fmt: skip


def _args(values: dict[str, str]) -> list[dict[str, str]]:
    return [{"name": k, "value": v} for k, v in values.items()]


def patches(scale: float) -> list[str]:
    """kubeadm config patches (as the spec's ``kubeadm_patches`` take them) for ``scale`` x slower nodes."""
    cluster = {
        "apiVersion": KUBEADM_API, "kind": "ClusterConfiguration",
        "controllerManager": {"extraArgs": _args(LEASES)}, "scheduler": {"extraArgs": _args(LEASES)},
        "etcd": {"local": {"extraArgs": _args(ETCD)}},
    }  # fmt: skip
    timeouts = {k: f"{round(v * max(scale, 1.0))}m0s" for k, v in TIMEOUTS_MIN.items()}
    init = {"apiVersion": KUBEADM_API, "kind": "InitConfiguration", "timeouts": timeouts}
    return [yamlio.dump(doc, sort_keys=False) for doc in (cluster, init)]
