"""The kube-harness pytest plugin (registered through the ``pytest11`` entry point).

Options: ``--provider kind|kubeadm``, ``--spec FILE``, ``--node-image`` (instead of building the
default), ``--keep-cluster``. Fixtures: ``node_image``, ``cluster_spec``, ``cluster_provider`` and
``cluster`` (session-scoped, 1 control plane + 2 workers by default, deleted at the end unless
kept). Every setting is a fixture, so a project overrides it in its conftest.py.
"""

from __future__ import annotations

import os

import pytest

from harness.pytest_plugin.fixtures import cluster, cluster_provider, cluster_spec, keep_cluster, node_image

TIER_MARKERS = {
    "unit": "pure logic, no Docker, seconds",
    "cluster": "needs Docker and the node image; makes real clusters",
    "vm": "needs libvirt/Vagrant VMs",
    "slow": "long-running (minutes)",
}

__all__ = ["cluster", "cluster_provider", "cluster_spec", "keep_cluster", "node_image"]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("kube-harness")
    group.addoption("--node-image", default=os.environ.get("KUBE_HARNESS_NODE_IMAGE"),
                    help="Node image to use (default: build/reuse kube-harness/node:<default version>). "
                         "Env: KUBE_HARNESS_NODE_IMAGE.")  # fmt: skip
    group.addoption(
        "--provider",
        default=os.environ.get("KUBE_HARNESS_PROVIDER", "kind"),
        choices=["kind", "kubeadm", "existing"],
        help="Provider of the session cluster (env: KUBE_HARNESS_PROVIDER).",
    )
    group.addoption(
        "--kubeconfig",
        default=os.environ.get("KUBE_HARNESS_KUBECONFIG"),
        help="With --provider existing: the kubeconfig of a cluster made elsewhere (env: KUBE_HARNESS_KUBECONFIG).",
    )
    group.addoption(
        "--spec",
        default=os.environ.get("KUBE_HARNESS_SPEC"),
        help="ClusterSpec YAML for the session cluster (env: KUBE_HARNESS_SPEC).",
    )
    group.addoption("--keep-cluster", action="store_true", default=bool(os.environ.get("KUBE_HARNESS_KEEP")),
                    help="Keep the session cluster after the run (env: KUBE_HARNESS_KEEP=1).")  # fmt: skip


def pytest_configure(config: pytest.Config) -> None:
    for name, doc in TIER_MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {doc}")
