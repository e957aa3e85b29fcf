"""Merging a cluster's kubeconfig into the user's (kind's habit) and taking it out again."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.errors import UsageError
from harness.kubeconfigs import merge, unmerge, user_kubeconfig

pytestmark = pytest.mark.unit

CLUSTER_CONFIG = """
apiVersion: v1
kind: Config
clusters:
- name: demo
  cluster: {server: "https://10.0.0.2:6443", certificate-authority-data: Q0E=}
users:
- name: kubernetes-admin
  user: {client-certificate-data: Q0VSVA==, client-key-data: S0VZ}
contexts:
- name: kubernetes-admin@demo
  context: {cluster: demo, user: kubernetes-admin, namespace: default}
current-context: kubernetes-admin@demo
"""


def test_merge_adds_a_context_of_its_own_and_delete_takes_it_out(tmp_path: Path) -> None:
    source = tmp_path / "demo.conf"
    source.write_text(CLUSTER_CONFIG)
    target = user_kubeconfig()  # the unit tests' KUBECONFIG, a file of their own
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "current-context": "mine",
                                      "clusters": [{"name": "mine", "cluster": {"server": "https://x"}}],
                                      "contexts": [{"name": "mine", "context": {"cluster": "mine", "user": "me"}}],
                                      "users": [{"name": "me", "user": {"token": "t"}}]}))  # fmt: skip
    assert merge("demo", source) == "kh-demo"
    assert merge("demo", source) == "kh-demo"  # again: replaced, not doubled
    doc = yaml.safe_load(target.read_text())
    assert [c["name"] for c in doc["clusters"]] == ["mine", "kh-demo"] and doc["current-context"] == "kh-demo"
    assert doc["contexts"][1]["context"] == {"cluster": "kh-demo", "user": "kh-demo", "namespace": "default"}
    assert doc["users"][1]["user"]["client-key-data"] == "S0VZ"
    assert target.stat().st_mode & 0o777 == 0o600 and "&id" not in target.read_text()
    assert unmerge("demo") is True and unmerge("demo") is False
    doc = yaml.safe_load(target.read_text())
    assert [c["name"] for c in doc["contexts"]] == ["mine"] and doc["current-context"] == ""


def test_a_kubeconfig_of_several_clusters_is_refused(tmp_path: Path) -> None:
    two = yaml.safe_load(CLUSTER_CONFIG)
    two["clusters"].append({"name": "other", "cluster": {"server": "https://y"}})
    source = tmp_path / "two.conf"
    source.write_text(yaml.safe_dump(two))
    with pytest.raises(UsageError, match="has 2 clusters"):
        merge("demo", source)
