"""The ``vms`` section of a ClusterSpec: what the vagrant provider makes VMs of, and how big.

``nodes``: ``all`` (every node a VM: whole machines, for hosts with KVM), ``workers`` (control
planes are node containers, workers are VMs on the same network: a whole-machine kubelet with its
own kernel, cgroup v2 and real reboots, at the cost of one guest per worker), or ``auto`` (``all``
with KVM, ``workers`` under QEMU TCG, where a VM control plane is too slow to converge).
Other providers ignore the section.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from harness.spec.rules import IMAGE_RE, Text

VM_NODES = ("auto", "all", "workers")


class VMs(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    nodes: Literal["auto", "all", "workers"] = "auto"
    cpus: int = Field(default=1, ge=1, le=64, strict=True)  # under TCG, fewer vCPUs than host cores converge
    memory_mb: int = Field(default=2048, ge=1024, le=262144, strict=True)
    box: Text | None = None  # a vagrant box name already added (default: the box built from the node image)
    timeout_scale: float = Field(default=0.0, ge=0.0, le=50.0)  # 0: from the accelerator (1 KVM, 4 TCG)

    @field_validator("box")
    @classmethod
    def _box(cls, value: str | None) -> str | None:
        if value is not None and not IMAGE_RE.fullmatch(value):
            raise ValueError(f"{value!r} is not a vagrant box name such as kube-harness/node-v1.37.2")
        return value
