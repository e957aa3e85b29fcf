"""A deliberately failing test (not collected by default: its name does not start with test_).

Run it to see the failure bundle the plugin attaches to a failing test's report:

    ./dev pytest tests/examples/failing_example.py -rA

The report gets a "kube-harness failure bundle" section listing the files written under
reports/session-<id>/bundles/<test>/ (failure.txt with the failure as pytest reports it, node
journals, kubeadm phase logs, pod logs, events, YAML, iptables/nft rules, resolv.conf).
"""

from __future__ import annotations

from harness.cluster import Cluster


def test_deliberately_failing(cluster: Cluster, namespace: str) -> None:
    cluster.kubectl("create", "configmap", "evidence", "-n", namespace, "--from-literal=key=value")
    assert cluster.kubectl("get", "configmap", "evidence", "-n", namespace, "-o", "name") == "this fails on purpose"
