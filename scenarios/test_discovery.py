"""How a joining node learns the cluster CA, in each discovery mode kubeadm has (kinder's
``discovery`` workflow): a discovery file, the token fetch with the CA hash pinned, the token fetch
with ``unsafeSkipCAVerification``; and a man-in-the-middle ``cluster-info``, signed with the real
token but naming another CA, that the pin refuses and the unsafe mode trusts. Each joins a spare node
to the shared cluster (removed afterwards)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.cluster import Cluster
from harness.k8s import checks
from harness.scenarios import discovery, join
from harness.wait import wait_for

pytestmark = pytest.mark.usefixtures("node_access")


def _ready(cluster: Cluster, node: str) -> None:
    wait_for(lambda: checks.ready_nodes(cluster).get(node), timeout=120, interval=1,
             describe=f"{node} registered and Ready")  # fmt: skip


def test_file_discovery_joins(cluster: Cluster) -> None:
    endpoint, token, _ = join.print_join_command(cluster)
    with join.spare_node(cluster) as node:
        node.write_file(discovery.DISCOVERY_FILE, discovery.discovery_kubeconfig(cluster, endpoint), mode="0600")
        res = discovery.join(node, discovery.discovery("file", endpoint, token))
        assert res.rc == 0, f"join with discovery file failed:\n{res.output[-1500:]}"
        assert "Using provided TLSBootstrapToken" in res.output, res.output[-1500:]  # the file, not the token fetch
        _ready(cluster, node.name)


def test_a_man_in_the_middle_cluster_info_is_refused_by_the_pin_and_trusted_without_it(cluster: Cluster) -> None:
    _, token, ca_hash = join.print_join_command(cluster)
    with join.spare_node(cluster) as node, discovery.FakeClusterInfo(discovery.host_address(node), token) as fake:
        pinned = discovery.join(node, discovery.discovery("token", fake.endpoint, token, ca_hash))
        assert fake.requests, f"the joining node never reached the fake at {fake.endpoint}:\n{pinned.output[-800:]}"
        assert pinned.rc != 0, "kubeadm join accepted a cluster-info whose CA is not the pinned one"
        assert "none of the public keys" in pinned.output, f"unclear refusal:\n{pinned.output[-1500:]}"
        fake.requests.clear()
        unsafe = discovery.join(node, discovery.discovery("unsafe", fake.endpoint, token), tls_timeout="20s")
        assert unsafe.rc != 0
        assert "no TLS pinning was specified" in unsafe.output, (
            f"without the pin kubeadm should have taken the fake's CA:\n{unsafe.output[-1500:]}"
        )
        assert len(fake.requests) > 1, f"after discovery, the join went on talking to the fake: {fake.requests}"
        assert join.traces_of(cluster, node.name) == [], "a join that talked to the fake left a Node or CSR"


def test_unsafe_skip_ca_verification_joins_the_real_cluster(cluster: Cluster) -> None:
    endpoint, token, _ = join.print_join_command(cluster)
    with join.spare_node(cluster) as node:
        res = discovery.join(node, discovery.discovery("unsafe", endpoint, token))
        assert res.rc == 0, f"join with unsafeSkipCAVerification failed:\n{res.output[-1500:]}"
        assert "no TLS pinning was specified" in res.output, res.output[-1500:]
        _ready(cluster, node.name)


@pytest.mark.kh_disruptive
def test_a_cluster_made_with_file_discovery(cluster_factory: Callable[..., Cluster], cluster_provider: str) -> None:
    """``join_discovery: file`` in the spec: the kubeadm provider copies a discovery kubeconfig to each
    joining node and joins with it; the run record says how nodes joined."""
    if cluster_provider not in ("kubeadm", "vagrant"):
        pytest.skip(f"the {cluster_provider} provider joins nodes its own way (kind: token, no CA pin)")
    made = cluster_factory(control_planes=1, workers=1, join_discovery="file")
    checks.wait_nodes_ready(made, 2)
    worker = made.workers[0]
    assert worker.exec("stat", "-c", "%a", discovery.DISCOVERY_FILE).stdout.strip() == "600"
    record = json.loads((Path(made.kubeconfig).parent / "run.json").read_text())
    assert record["join_discovery"] == "file" and not record["insecure"], record["insecure"]


def test_the_record_says_how_nodes_joined_and_an_unpinned_join_is_insecure(cluster: Cluster) -> None:
    if len(cluster.nodes) < 2:
        pytest.skip("a one-node cluster joins nothing")
    record = json.loads((Path(cluster.kubeconfig).parent / "run.json").read_text())
    if cluster.provider == "kind":  # kind's own JoinConfiguration sets unsafeSkipCAVerification
        assert record["join_discovery"] == "unsafe" and "unsafeSkipCAVerification" in record["insecure"][0]
    elif cluster.provider in ("kubeadm", "vagrant"):
        assert record["join_discovery"] == (record["spec"].get("join_discovery") or "token")
    else:
        pytest.skip(f"the {cluster.provider} provider joins nothing")
