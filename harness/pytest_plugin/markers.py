"""The plugin's markers, and what a test asks for through them (validated, with clear errors).

``@pytest.mark.cluster(**topology_or_spec_fields)`` or ``cluster(spec="file.yaml")`` — which cluster
``@pytest.mark.provider("kubeadm")`` — which provider makes it
``@pytest.mark.disruptive`` — the test breaks its cluster: it gets a private one
``@pytest.mark.slow`` — long-running tier
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness.errors import UsageError
from harness.providers import registry
from harness.spec import ClusterSpec, load_spec, spec_from_dict

MARKERS = {
    "cluster": "cluster(**fields) or cluster(spec='file.yaml'): the test needs a real cluster (this one); "
    "also the tier of every test that uses a cluster",
    "provider": "provider(name): the provider that makes the test's cluster (kind, kubeadm, existing)",
    "disruptive": "the test breaks its cluster: it runs on a private cluster no other test uses",
    "unit": "pure logic, no Docker, seconds",
    "vm": "needs libvirt/Vagrant VMs",
    "slow": "long-running (minutes)",
    "conformance": "runs a preset of the upstream e2e suite (built here on first use; minutes)",
}
CLUSTER_FIXTURES = {"cluster", "k8s", "namespace", "cluster_factory", "module_cluster"}


@dataclass(frozen=True)
class Request:
    spec: ClusterSpec
    provider: str
    disruptive: bool


def _cluster_marker(item: pytest.Item, base: ClusterSpec) -> ClusterSpec:
    marks = list(item.iter_markers("cluster"))
    if not marks or not (marks[0].args or marks[0].kwargs):
        return base
    mark = marks[0]  # the closest one wins (function over class over module)
    if mark.args:
        raise UsageError("@pytest.mark.cluster takes keyword arguments only",
                         fix="write cluster(workers=3) or cluster(spec='path/to/spec.yaml')")  # fmt: skip
    kwargs = dict(mark.kwargs)
    if "spec" in kwargs:
        spec_arg = kwargs.pop("spec")
        base = spec_arg if isinstance(spec_arg, ClusterSpec) else load_spec(Path(item.path).parent / str(spec_arg))
    fields = {**base.model_dump(mode="json", exclude_unset=True), **kwargs}
    return spec_from_dict(fields, source=f"@pytest.mark.cluster on {item.nodeid}")


def _provider_marker(item: pytest.Item, default: str) -> str:
    mark = item.get_closest_marker("provider")
    if mark is None:
        return default
    if len(mark.args) != 1 or mark.kwargs or mark.args[0] not in registry.names():
        raise UsageError(f"@pytest.mark.provider{_show(mark)} on {item.nodeid}: expected one provider name",
                         fix=f"write provider('kind'); allowed: {', '.join(registry.names())}")  # fmt: skip
    return str(mark.args[0])


def _disruptive_marker(item: pytest.Item) -> bool:
    mark = item.get_closest_marker("disruptive")
    if mark is not None and (mark.args or mark.kwargs):
        raise UsageError(f"@pytest.mark.disruptive{_show(mark)} on {item.nodeid} takes no arguments",
                         fix="write @pytest.mark.disruptive")  # fmt: skip
    return mark is not None


def _show(mark: Any) -> str:
    args = [repr(a) for a in mark.args] + [f"{k}={v!r}" for k, v in mark.kwargs.items()]
    return f"({', '.join(args)})"


def request_for(item: pytest.Item, base: ClusterSpec, provider: str) -> Request:
    """What cluster the test asks for; UsageError naming the test and the fix on misuse."""
    return Request(_cluster_marker(item, base), _provider_marker(item, provider), _disruptive_marker(item))


def uses_cluster(item: pytest.Item) -> bool:
    names = set(getattr(item, "fixturenames", ()))
    return bool(names & CLUSTER_FIXTURES)
