"""Clusters kept between runs, as pytest-django keeps its test database (``--reuse-db``):

- ``--kh-reuse``: every shared cluster gets a name from its provider and spec (``kh-reuse-<key>``),
  is kept after the session and found again by the next one; made when missing;
- ``--kh-reuse-cluster NAME``: one named cluster for every shared-cluster test, made (from the
  first test's request) when missing. A test with no ``kh_cluster``/``kh_provider`` marker runs on
  it whatever it is (``kube-harness create --name dev`` and iterate); a test whose markers ask for
  another provider or spec is refused with the difference and the fix, instead of running on the
  wrong cluster;
- ``--kh-create-cluster`` (``--create-db``): with either, the kept cluster is deleted and made anew.

With ``--kh-reuse``, a kept cluster whose API does not answer (its nodes removed behind our back)
is made anew too; a cluster named with ``--kh-reuse-cluster`` is used as it is (it may be a failed
create kept on purpose, to look at). Disruptive tests still get private clusters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness.cluster import Cluster
from harness.errors import UsageError
from harness.lifecycle import delete_cluster
from harness.pytest_plugin.sharing import cluster_key

PREFIX = "kh-reuse-"


def keyed_name(key: str) -> str:
    return f"{PREFIX}{key[:10]}"


def _key(provider: str, spec: Any) -> str:
    """The key of a spec whatever its name (a reused cluster's spec carries the name it was given)
    and node image (a cluster made by the CLI records none: the default one)."""
    return cluster_key(provider, spec.model_copy(update={"name": None, "node_image": None}))


def _answers(cluster: Cluster) -> bool:
    try:
        cluster.api.raw("/readyz", timeout=15)
    except Exception:
        return False
    return cluster.status == "ready"


def _describe(provider: str, spec: Any) -> str:
    return f"{provider}, {spec.control_planes} control plane(s) + {spec.workers} worker(s), key {_key(provider, spec)}"


def reused(name: str, provider: str, spec: Any, fresh: bool, create: Callable[[Any, str], Cluster],
           strict: bool = True, healthy: bool = False) -> Cluster:  # fmt: skip
    """The kept cluster ``name`` if it is the one asked for (``strict``: the test's markers asked for
    something; else any will do) and, with ``healthy``, its API answers; else made
    (``create(spec, provider)``)."""
    from harness.spec import spec_from_dict

    if Cluster.state_dir_path(name).exists():
        found = Cluster.load(name)
        theirs = spec_from_dict(found.spec, source=f"cluster {name}")
        if not fresh and strict and _key(found.provider, theirs) != _key(provider, spec):
            raise UsageError(f"the test asks for a cluster ({_describe(provider, spec)}) other than the kept "
                             f"cluster {name} ({_describe(found.provider, theirs)})",
                             fix=f"run these tests with --kh-reuse (one kept cluster per spec), without "
                                 f"--kh-reuse-cluster {name}, or with --kh-create-cluster to remake it")  # fmt: skip
        if not fresh and (not healthy or _answers(found)):
            return found
        delete_cluster(name)
    return create(spec.model_copy(update={"name": name}), provider)
