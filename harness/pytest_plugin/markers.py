"""The plugin's markers, and what a test asks for through them (validated, with clear errors).

``@pytest.mark.kh_cluster(**topology_or_spec_fields)`` or ``kh_cluster(spec="file.yaml")`` — which cluster
``@pytest.mark.kh_provider("kubeadm")`` — which provider makes it
``@pytest.mark.kh_disruptive`` — the test breaks its cluster: it gets a private one

Every name is ours (``kh_``), as are the options (``--kh-...``): the plugin sits beside pytest-kind,
pytest-kubernetes or pytest-helm-charts in one venv. Tiers (``unit``, ``vm``, ``slow``) are a
project's own markers, not the plugin's.
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
    "kh_cluster": "kh_cluster(**fields) or kh_cluster(spec='file.yaml'): the test needs a real cluster (this "
    "one); kube-harness also puts it on every test that uses a cluster (the tier: -m kh_cluster)",
    "kh_provider": "kh_provider(name): the provider that makes the test's cluster (kind, kubeadm, existing, ...)",
    "kh_disruptive": "the test breaks its cluster: it runs on a private cluster no other test uses",
}
CLUSTER_FIXTURES = {"cluster", "k8s_client", "namespace", "cluster_factory", "module_cluster", "session_cluster",
                    "module_shared_cluster"}  # fmt: skip


@dataclass(frozen=True)
class Request:
    spec: ClusterSpec
    provider: str
    disruptive: bool


def _cluster_marker(item: pytest.Item, base: ClusterSpec) -> ClusterSpec:
    marks = list(item.iter_markers("kh_cluster"))
    if not marks or not (marks[0].args or marks[0].kwargs):
        return base
    mark = marks[0]  # the closest one wins (function over class over module)
    if mark.args:
        raise UsageError("@pytest.mark.kh_cluster takes keyword arguments only",
                         fix="write cluster(workers=3) or cluster(spec='path/to/spec.yaml')")  # fmt: skip
    kwargs = dict(mark.kwargs)
    if "spec" in kwargs:
        spec_arg = kwargs.pop("spec")
        base = spec_arg if isinstance(spec_arg, ClusterSpec) else load_spec(Path(item.path).parent / str(spec_arg))
    fields = {**base.model_dump(mode="json", exclude_unset=True), **kwargs}
    return spec_from_dict(fields, source=f"@pytest.mark.kh_cluster on {item.nodeid}")


def _provider_marker(item: pytest.Item, default: str) -> str:
    mark = item.get_closest_marker("kh_provider")
    if mark is None:
        return default
    if len(mark.args) != 1 or mark.kwargs or mark.args[0] not in registry.names():
        raise UsageError(f"@pytest.mark.kh_provider{_show(mark)} on {item.nodeid}: expected one provider name",
                         fix=f"write kh_provider('kind'); allowed: {', '.join(registry.names())}")  # fmt: skip
    return str(mark.args[0])


def _disruptive_marker(item: pytest.Item) -> bool:
    mark = item.get_closest_marker("kh_disruptive")
    if mark is not None and (mark.args or mark.kwargs):
        raise UsageError(f"@pytest.mark.kh_disruptive{_show(mark)} on {item.nodeid} takes no arguments",
                         fix="write @pytest.mark.kh_disruptive")  # fmt: skip
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
