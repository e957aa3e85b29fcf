"""Failover on a worker: lost (killed), its kubelet stopped, partitioned from the control plane.
With the ``fast`` failover profile (grace 10 s, tolerations 5 s). The tests share one private
cluster, one after the other; each fault is reverted before the next test.

Latencies (seconds from the loss) go to the JUnit properties and the run record
``reports/<run-id>/run.json`` of a ``failover`` run: ``detect_s`` (node NotReady), ``taint_s``,
``evict_s`` (its pods deleted), ``recover_s`` (replicas Ready on survivors), ``endpoints_s``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from harness import faults
from harness.cluster import Cluster
from harness.k8s import checks
from harness.reporting.record import RunRecord, new_run_id
from harness.reporting.session import note_run
from harness.scenarios import failover
from harness.scenarios.probes import Probes, reply_fields
from harness.scenarios.services import http_from_host, node_ips
from harness.wait import wait_for

pytestmark = [pytest.mark.kh_cluster(failover="fast"), pytest.mark.kh_disruptive]


@pytest.fixture(scope="module")
def cluster(module_cluster: Cluster) -> Cluster:
    return module_cluster


@pytest.fixture(scope="module")
def record(cluster: Cluster) -> Iterator[RunRecord]:
    rec = RunRecord(new_run_id(), kind="failover", cluster=cluster.name, provider=cluster.provider,
                    kubernetes_version=str(cluster.spec.get("kubernetes_version", "")))  # fmt: skip
    note_run(rec)
    yield rec
    rec.status = "ok"
    rec.save()


def _victim(cluster: Cluster) -> str:
    return cluster.workers[-1].name


def _wait_ready(cluster: Cluster, node: str, want: bool, timeout: float) -> float:
    start = time.time()
    wait_for(lambda: checks.ready_nodes(cluster).get(node) is want, timeout=timeout, interval=0.5,
             describe=f"node {node} Ready={want}")  # fmt: skip
    return round(time.time() - start, 1)


def test_worker_loss(cluster: Cluster, namespace: str, record: RunRecord,
                     record_property: pytest.RecordProperty) -> None:  # fmt: skip
    grace, toleration = failover.grace_and_toleration(cluster)
    victim, replicas, slow = _victim(cluster), 4, cluster.timeout_scale
    failover.deploy(cluster, namespace, victim, replicas)
    port = int(cluster.get("svc", "web", namespace)["spec"]["ports"][0]["nodePort"])
    with faults.kill_node(cluster, victim) as fault:
        marks = failover.watch_loss(cluster, namespace, victim, fault.injected_at, replicas,
                                    timeout=grace + toleration + 60 * slow)  # fmt: skip
        survivors = {n: ip for n, ip in node_ips(cluster).items() if n != victim}
        answers = {n: http_from_host(f"http://{ip}:{port}/") for n, ip in survivors.items()}
        assert all(reply_fields(a) for a in answers.values()), f"NodePort {port} not served by survivors: {answers}"
    marks["return_s"] = failover.assert_return_clean(cluster, namespace, victim, replicas)
    values = {**marks, "grace_s": grace, "toleration_s": toleration}
    for k, v in values.items():
        record_property(k, v)
    record.measurements.update({f"worker_loss_{k}": float(v) for k, v in values.items()})
    assert marks["detect_s"] <= grace + 15, f"NotReady {marks['detect_s']}s after the loss (grace {grace}s + 15)"
    assert marks["evict_s"] <= grace + toleration + 15, (
        f"pods evicted {marks['evict_s']}s after the loss (grace {grace}s + toleration {toleration}s + 15)"
    )
    if cluster.spec.get("failover", {}).get("profile") == "fast":  # starting the pods takes `slow` times longer
        target = 30 * slow
        assert marks["recover_s"] <= target, (
            f"replacement pods Ready {marks['recover_s']}s after the loss (target {target:.0f}s)"
        )


def test_kubelet_stopped_node_not_ready_but_containers_serve(cluster: Cluster, probes: Probes,
                                                             record: RunRecord) -> None:  # fmt: skip
    grace, _ = failover.grace_and_toleration(cluster)
    victim = _victim(cluster)
    target, src = probes.on(victim), next(p for p in probes.pods if p.node != victim)
    with faults.stop_service(cluster, victim, "kubelet") as fault:
        detect = _wait_ready(cluster, victim, False, timeout=grace + 30 * cluster.timeout_scale)
        record.measurements["kubelet_stopped_detect_s"] = round(time.time() - fault.injected_at, 1)
        line = probes.curl_each(src, [f"http://{target.ip}:8080/"])[f"http://{target.ip}:8080/"]
        assert reply_fields(line), f"with kubelet stopped on {victim}, its pod {target.name} stopped serving: {line}"
    assert detect <= grace + 15
    _wait_ready(cluster, victim, True, timeout=60 * cluster.timeout_scale)


def test_partition_from_control_plane_keeps_pod_traffic(cluster: Cluster, probes: Probes,
                                                        record: RunRecord) -> None:  # fmt: skip
    grace, _ = failover.grace_and_toleration(cluster)
    victim = _victim(cluster)
    target = probes.on(victim)
    src = next(p for p in probes.pods if p.node != victim and "control-plane" not in p.node)
    with faults.partition(cluster, victim, peers=[n.name for n in cluster.control_planes]) as fault:
        _wait_ready(cluster, victim, False, timeout=grace + 30 * cluster.timeout_scale)
        record.measurements["partition_detect_s"] = round(time.time() - fault.injected_at, 1)
        url = f"http://{target.ip}:8080/"
        line = probes.curl_each(src, [url])[url]
        assert reply_fields(line), f"{victim} cut off from the control plane only, yet pod traffic to it broke: {line}"
    _wait_ready(cluster, victim, True, timeout=60 * cluster.timeout_scale)
