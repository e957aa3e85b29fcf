"""How fast the control plane gives up on a lost node: the ``failover`` section of a ClusterSpec.

Three numbers decide how long pods stay bound to a node that stopped answering:

* ``node_monitor_grace_period_s`` — kube-controller-manager ``--node-monitor-grace-period``: how
  long a silent node stays Ready before it is marked NotReady/Unknown;
* ``not_ready_toleration_s`` / ``unreachable_toleration_s`` — kube-apiserver
  ``--default-not-ready-toleration-seconds`` / ``--default-unreachable-toleration-seconds``: the
  toleration added to every pod, i.e. how long after that pods are evicted.

Profiles: ``defaults`` keeps upstream values (50 s, 300 s, 300 s) and adds no patch; ``fast`` is
10 s / 5 s / 5 s so failover tests finish in under a minute; ``custom`` takes all three values.

A short grace period needs a kubelet that renews its node lease often enough: outside ``defaults``
the kubelets' ``nodeLeaseDurationSeconds`` is set to the grace period (renewed every quarter of it,
2.5 s for ``fast``; upstream renews every 10 s, which would make a 10 s grace period flap), and the
controller-manager's ``--node-monitor-period`` to a fifth of it (at least 1 s; upstream 5 s).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from harness import yamlio

KUBEADM_API = "kubeadm.k8s.io/v1beta4"

Profile = Literal["defaults", "fast", "custom"]
Timings = tuple[int, int, int]  # (node_monitor_grace_period_s, not_ready_toleration_s, unreachable_toleration_s)

UPSTREAM: Timings = (50, 300, 300)
FAST: Timings = (10, 5, 5)
CUSTOM_FIELDS = ("node_monitor_grace_period_s", "not_ready_toleration_s", "unreachable_toleration_s")


class Failover(BaseModel):
    """Failover timings; ``profile: custom`` requires all three values, other profiles none."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    profile: Profile = "defaults"
    node_monitor_grace_period_s: int | None = Field(default=None, gt=0, strict=True, validate_default=True)
    not_ready_toleration_s: int | None = Field(default=None, gt=0, strict=True, validate_default=True)
    unreachable_toleration_s: int | None = Field(default=None, gt=0, strict=True, validate_default=True)

    @field_validator(*CUSTOM_FIELDS)
    @classmethod
    def _custom_values(cls, value: int | None, info: ValidationInfo) -> int | None:
        profile = info.data.get("profile")
        if profile is None:  # the profile itself was invalid; that error is reported already
            return value
        if profile == "custom" and value is None:
            raise ValueError("required when profile is 'custom' (all three timings must be given)")
        if profile != "custom" and value is not None:
            raise ValueError(f"only used with profile 'custom', not {profile!r}: set profile: custom or remove it")
        return value

    def resolved(self) -> Timings:
        """(node_monitor_grace_period_s, not_ready_toleration_s, unreachable_toleration_s) in effect."""
        if self.profile == "fast":
            return FAST
        if self.profile == "custom":
            # validation guarantees all three for 'custom'; the fallbacks only satisfy the type checker
            return (
                self.node_monitor_grace_period_s or UPSTREAM[0],
                self.not_ready_toleration_s or UPSTREAM[1],
                self.unreachable_toleration_s or UPSTREAM[2],
            )
        return UPSTREAM

    def is_default(self) -> bool:
        """True when the timings in effect are upstream's (no patch needed)."""
        return self.resolved() == UPSTREAM

    def describe(self) -> str:
        """One line for logs and reports: ``fast: grace 10s, not-ready 5s, unreachable 5s``."""
        grace, not_ready, unreachable = self.resolved()
        return f"{self.profile}: grace {grace}s, not-ready {not_ready}s, unreachable {unreachable}s"


def _args(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    """kubeadm v1beta4 extraArgs: a list of {name, value} (kind >= 0.32 merges them by name)."""
    return [{"name": name, "value": value} for name, value in pairs]


def failover_patches(f: Failover) -> list[str]:
    """kubeadm ClusterConfiguration patches (kind ``kubeadmConfigPatches``) for ``f``; none for defaults."""
    if f.is_default():
        return []
    grace, not_ready, unreachable = f.resolved()
    doc = {
        "apiVersion": KUBEADM_API,
        "kind": "ClusterConfiguration",
        "controllerManager": {"extraArgs": _args(("node-monitor-grace-period", f"{grace}s"),
                                                 ("node-monitor-period", f"{max(1, grace // 5)}s"))},
        "apiServer": {
            "extraArgs": _args(
                ("default-not-ready-toleration-seconds", str(not_ready)),
                ("default-unreachable-toleration-seconds", str(unreachable)),
            )
        },
    }  # fmt: skip
    kubelet = {"apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration",
               "nodeLeaseDurationSeconds": max(4, min(40, grace))}  # fmt: skip
    return [yamlio.dump(doc, sort_keys=False), yamlio.dump(kubelet, sort_keys=False)]
