"""ClusterSpec: the user's description of a cluster (YAML or Python), validated before anything exists.

>>> from harness.spec import load_spec, spec_from_kwargs, spec_warnings
>>> spec = spec_from_kwargs(control_planes=3, workers=3, failover="fast")
>>> spec.node_count
6
>>> spec_warnings(spec_from_kwargs(control_planes=2))[0][:60]
'control_planes: 2 gives an etcd quorum of 2 and tolerates 0 '
"""

from __future__ import annotations

from harness.spec.failover import Failover, failover_patches
from harness.spec.hostnet import host_routes, labelled_host_routes, subnet_conflicts
from harness.spec.load import dump_spec, load_spec, spec_error, spec_from_dict, spec_from_kwargs
from harness.spec.model import (
    DEFAULT_KUBERNETES_VERSION,
    ClusterSpec,
    Networking,
    etcd_patches,
    etcd_quorum,
    feature_gate_patches,
    spec_warnings,
)

__all__ = [
    "DEFAULT_KUBERNETES_VERSION",
    "ClusterSpec",
    "Failover",
    "Networking",
    "dump_spec",
    "etcd_patches",
    "etcd_quorum",
    "failover_patches",
    "feature_gate_patches",
    "host_routes",
    "labelled_host_routes",
    "load_spec",
    "spec_error",
    "spec_from_dict",
    "spec_from_kwargs",
    "spec_warnings",
    "subnet_conflicts",
]
