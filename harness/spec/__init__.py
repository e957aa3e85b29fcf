"""ClusterSpec: the user's description of a cluster (YAML or Python), validated before anything exists.

>>> from harness.spec import load_spec, spec_from_kwargs
>>> spec = spec_from_kwargs(control_planes=3, workers=3, failover="fast")
>>> spec.node_count
6
"""

from __future__ import annotations

from harness.spec.failover import Failover, failover_patches
from harness.spec.load import dump_spec, load_spec, spec_error, spec_from_dict, spec_from_kwargs
from harness.spec.model import DEFAULT_KUBERNETES_VERSION, ClusterSpec, Networking, etcd_patches, feature_gate_patches

__all__ = [
    "DEFAULT_KUBERNETES_VERSION",
    "ClusterSpec",
    "Failover",
    "Networking",
    "dump_spec",
    "etcd_patches",
    "failover_patches",
    "feature_gate_patches",
    "load_spec",
    "spec_error",
    "spec_from_dict",
    "spec_from_kwargs",
]
