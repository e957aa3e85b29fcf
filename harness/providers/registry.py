"""Providers by name: the built-in ones and any a package registers under the
``kube_harness.providers`` entry point group (``name = "package.module:Class"``).

    [project.entry-points."kube_harness.providers"]
    mycloud = "mycloud_harness:Provider"

A provider class is instantiated with the options it lists in ``options`` that the caller gave.
"""

from __future__ import annotations

import functools
import importlib
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

from harness.errors import HarnessError, UsageError

if TYPE_CHECKING:
    from harness.cluster import Cluster
    from harness.providers.base import Provider

ENTRY_POINT_GROUP = "kube_harness.providers"
BUILTIN = {
    "kind": "harness.providers.containers.kind:KindProvider",
    "kubeadm": "harness.providers.containers.kubeadm:KubeadmProvider",
    "existing": "harness.providers.existing:ExistingProvider",
    "vagrant": "harness.providers.vms.provider:VagrantProvider",
}


@functools.cache
def _targets() -> dict[str, str]:
    found = dict(BUILTIN)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(ep.name, ep.value)  # a plugin cannot shadow a built-in provider
    return found


def names() -> list[str]:
    return list(_targets())


def _load(name: str) -> Any:
    if name not in _targets():
        raise UsageError(f"unknown provider {name!r}", fix=f"use one of: {', '.join(names())}")
    module, _, attr = _targets()[name].partition(":")
    return getattr(importlib.import_module(module), attr)


OPTIONS = {  # the options a provider class may take (its ``options``), as the CLI spells them
    "phased": "--phased",
    "kubeconfig": "--kubeconfig",
}


def get(name: str, **options: Any) -> Provider:
    """The provider called ``name``, with the options given (``phased``: run ``kubeadm init``
    phase by phase; ``kubeconfig``: the existing provider's cluster). An option the provider does
    not take is a UsageError naming the providers that do."""
    cls = _load(name)
    given = {k: v for k, v in options.items() if v not in (None, False)}
    for key in given:
        if key not in getattr(cls, "options", ()):
            able = [n for n in names() if key in getattr(_load(n), "options", ())]
            flag = OPTIONS.get(key, key)
            raise UsageError(f"{flag} needs the {' or '.join(able)} provider",
                             fix=f"use --provider {' or '.join(able)}, or drop {flag}")  # fmt: skip
    provider: Provider = cls(**given)
    return provider


def for_cluster(cluster: Cluster) -> Provider:
    return get(cluster.provider)


def _backends() -> list[Provider]:
    """One provider per backend (kind and kubeadm both read Docker: kind, listed first, answers
    for both), so listing and name checks ask each backend once."""
    out, seen = [], set()
    for name in names():
        provider = get(name)
        backend = getattr(provider, "backend", "") or name
        if backend not in seen:
            seen.add(backend)
            out.append(provider)
    return out


def all_clusters() -> dict[str, dict[str, str]]:
    """Every cluster any provider holds resources of (name -> labels), from providers whose
    backend answers here (no Docker engine: the container providers have nothing to say)."""
    out: dict[str, dict[str, str]] = {}
    for provider in _backends():
        try:
            found = provider.clusters()
        except HarnessError:
            continue
        for cluster, found_labels in found.items():
            out.setdefault(cluster, {}).update(found_labels)
    return out


def name_taken(cluster: str) -> bool:
    """Some provider's backend uses the name (a harness cluster, or one kind made by itself)."""
    for provider in _backends():
        try:
            if provider.name_taken(cluster):
                return True
        except HarnessError:
            continue
    return False
