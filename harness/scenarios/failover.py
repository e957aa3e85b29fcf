"""Failover checks: a workload spread over the workers, a node lost, and what the control plane
does about it — detection, taints, eviction, replacement, endpoints — timed from the loss."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from harness.cluster import Cluster
from harness.images.components import TEST_IMAGE
from harness.k8s import checks
from harness.k8s.watch import Mirror, Watched
from harness.scenarios.probes import apply, wait_ready
from harness.spec import spec_from_dict

UNREACHABLE = "node.kubernetes.io/unreachable"
APP = "kh-failover"


def _container() -> dict[str, Any]:
    return {"name": "web", "image": TEST_IMAGE, "imagePullPolicy": "Never",
            "ports": [{"name": "http", "containerPort": 8080}],
            "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 1}}  # fmt: skip


def _template(role: str, **spec: Any) -> dict[str, Any]:
    return {"metadata": {"labels": {"app": APP, "role": role}},
            "spec": {"terminationGracePeriodSeconds": 1, "containers": [_container()], **spec}}  # fmt: skip


def workload(namespace: str, workers: list[str], victim: str, replicas: int) -> list[dict[str, Any]]:
    """A Deployment spread over the workers (no tolerations beyond the defaults), its NodePort
    Service, a DaemonSet, and a one-replica StatefulSet that prefers the victim."""
    on_workers = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": workers}]}
                ]
            }
        }
    }
    prefer_victim = {
        "nodeAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {
                    "weight": 100,
                    "preference": {
                        "matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": [victim]}]
                    },
                }
            ]
        }
    }
    spread = [
        {
            "maxSkew": 1,
            "topologyKey": "kubernetes.io/hostname",
            "whenUnsatisfiable": "DoNotSchedule",
            # a lost node (tainted unreachable:NoSchedule) stops counting, so replacements may all
            # go to the survivors
            "nodeTaintsPolicy": "Honor",
            "labelSelector": {"matchLabels": {"app": APP, "role": "web"}},
        }
    ]
    meta = {"namespace": namespace}
    return [
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", **meta},
         "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": APP, "role": "web"}},
                  "template": _template("web", affinity=on_workers, topologySpreadConstraints=spread)}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", **meta},
         "spec": {"type": "NodePort", "selector": {"app": APP, "role": "web"},
                  "ports": [{"port": 80, "targetPort": 8080}]}},
        {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "ds", **meta},
         "spec": {"selector": {"matchLabels": {"app": APP, "role": "ds"}},
                  "template": _template("ds", affinity=on_workers)}},
        {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "sts", **meta},
         "spec": {"replicas": 1, "serviceName": "web", "selector": {"matchLabels": {"app": APP, "role": "sts"}},
                  "template": _template("sts", affinity=prefer_victim)}},
    ]  # fmt: skip


def deploy(cluster: Cluster, namespace: str, victim: str, replicas: int = 4) -> None:
    workers = [n.name for n in cluster.workers]
    apply(cluster, *workload(namespace, workers, victim, replicas))
    wait = int(120 * cluster.timeout_scale)
    for kind, name in (("deployment", "web"), ("daemonset", "ds"), ("statefulset", "sts")):
        checks.wait_rollout(cluster, kind, name, namespace, timeout=wait)
    wait_ready(cluster, namespace, f"app={APP}")
    on_victim = [p for p in snapshot(cluster, namespace).pods("web") if p["spec"].get("nodeName") == victim]
    assert on_victim, f"no web pod landed on {victim}: the spread constraint was not honoured"


@dataclass
class Snapshot:
    """Nodes, the workload's pods and the web Service's endpoints at one moment."""

    items: list[dict[str, Any]]
    at: float = field(default_factory=time.time)

    def node(self, name: str) -> dict[str, Any]:
        return next(i for i in self.items if i["kind"] == "Node" and i["metadata"]["name"] == name)

    def ready(self, name: str) -> bool:
        conds = self.node(name)["status"].get("conditions", [])
        return any(c["type"] == "Ready" and c["status"] == "True" for c in conds)

    def taints(self, name: str) -> set[tuple[str, str]]:
        return {(t["key"], t["effect"]) for t in self.node(name)["spec"].get("taints", [])}

    def pods(self, role: str) -> list[dict[str, Any]]:
        return [i for i in self.items if i["kind"] == "Pod" and i["metadata"]["labels"].get("role") == role]

    def ready_pods(self, role: str, exclude_node: str = "") -> list[dict[str, Any]]:
        def ready(p: dict[str, Any]) -> bool:
            return any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions", []))

        return [p for p in self.pods(role) if p["spec"].get("nodeName") != exclude_node
                and not p["metadata"].get("deletionTimestamp") and ready(p)]  # fmt: skip

    def endpoint_nodes(self) -> set[str]:
        return {e.get("nodeName", "") for i in self.items if i["kind"] == "EndpointSlice"
                for e in i.get("endpoints") or [] if e.get("conditions", {}).get("ready")}  # fmt: skip


def watched(namespace: str) -> list[Watched]:
    return [("nodes", None, ""), ("pods", namespace, f"app={APP}"), ("endpointslices", namespace, "")]


def snapshot(cluster: Cluster, namespace: str) -> Snapshot:
    at = time.time()
    lists = [cluster.api.get(kind, namespace=ns, labels=labels) for kind, ns, labels in watched(namespace)]
    items = [i for doc in lists for i in doc["items"]]
    return Snapshot(items, at)


def grace_and_toleration(cluster: Cluster) -> tuple[int, int]:
    timings = spec_from_dict(cluster.spec, source=f"cluster {cluster.name}").failover.resolved()
    return timings[0], timings[2]


def watch_loss(cluster: Cluster, namespace: str, victim: str, lost_at: float, replicas: int,
               timeout: float) -> dict[str, float]:  # fmt: skip
    """Watch nodes, the workload's pods and endpoints until the lost node's pods are replaced;
    seconds from the loss to each milestone, from the time the event showing it was received.
    Raises AssertionError naming the milestones not reached, and if a StatefulSet pod or a
    DaemonSet pod was started elsewhere for the lost node."""
    marks: dict[str, float] = {}
    survivors = [n.name for n in cluster.workers if n.name != victim]
    done = threading.Event()

    def on_event(items: list[dict[str, Any]], at: float) -> None:
        s = Snapshot(items, at)
        _milestones(s, victim, replicas, marks, round(at - lost_at, 2))
        _invariants(s, victim, survivors)
        if len(marks) == len(MILESTONES):
            done.set()

    with Mirror(cluster.api, *watched(namespace), on_event=on_event) as mirror:
        while not done.is_set() and mirror.failure is None and time.time() < lost_at + timeout:
            done.wait(0.2)
    if mirror.failure is not None:
        raise mirror.failure
    missing = [m for m in MILESTONES if m not in marks]
    streams = f"; watch interruptions: {mirror.errors[-3:]}" if mirror.errors else ""
    assert not missing, (f"after losing {victim}, within {timeout:.0f}s: reached {marks}, never {missing} ("
                         + "; ".join(f"{m}: {MILESTONES[m]}" for m in missing) + ")" + streams)  # fmt: skip
    return marks


MILESTONES = {
    "detect_s": "the node NotReady",
    "taint_s": f"the {UNREACHABLE}:NoExecute taint",
    "evict_s": "the node's web pods deleted",
    "recover_s": "all web replicas Ready on the surviving nodes",
    "endpoints_s": "the web Service's endpoints off the lost node",
}


def _milestones(s: Snapshot, victim: str, replicas: int, marks: dict[str, float], t: float) -> None:
    victim_web = [p for p in s.pods("web") if p["spec"].get("nodeName") == victim]
    reached = {
        "detect_s": not s.ready(victim),
        "taint_s": (UNREACHABLE, "NoExecute") in s.taints(victim),
        "evict_s": bool(victim_web) and all(p["metadata"].get("deletionTimestamp") for p in victim_web),
        "recover_s": len(s.ready_pods("web", exclude_node=victim)) >= replicas,
        "endpoints_s": "evict_s" in marks and victim not in s.endpoint_nodes(),
    }
    for name, ok in reached.items():
        if ok and name not in marks:
            marks[name] = t


def _invariants(s: Snapshot, victim: str, survivors: list[str]) -> None:
    """A StatefulSet pod is never started twice; DaemonSet pods are not rescheduled."""
    sts_elsewhere = [p["spec"].get("nodeName") for p in s.pods("sts") if p["spec"].get("nodeName") != victim]
    assert not sts_elsewhere, (
        f"StatefulSet pod sts-0 started a second time, on {sts_elsewhere}, while {victim} was lost"
    )
    live_ds = [p for p in s.pods("ds") if not p["metadata"].get("deletionTimestamp")]
    ds_nodes = sorted(p["spec"].get("nodeName", "") for p in live_ds)
    assert ds_nodes.count(victim) <= 1 and all(ds_nodes.count(n) == 1 for n in survivors), (
        f"DaemonSet pods were rescheduled: they run on {ds_nodes}"
    )


def assert_return_clean(cluster: Cluster, namespace: str, victim: str, replicas: int, timeout: float = 120) -> float:
    """The node is back: Ready, unreachable taint gone, exactly ``replicas`` web pods, one sts-0,
    one DaemonSet pod per worker. Seconds it took."""
    start, last = time.time(), ""
    timeout *= cluster.timeout_scale
    while time.time() - start < timeout:
        s = snapshot(cluster, namespace)
        web = [p for p in s.pods("web") if not p["metadata"].get("deletionTimestamp")]
        sts = s.pods("sts")
        ds = sorted(p["spec"].get("nodeName", "") for p in s.pods("ds"))
        last = (f"Ready {s.ready(victim)}, taints {sorted(s.taints(victim))}, web pods {len(web)}, "
                f"sts pods {len(sts)}, ds on {ds}")  # fmt: skip
        if (s.ready(victim) and not any(k == UNREACHABLE for k, _ in s.taints(victim)) and len(web) == replicas
                and len(s.ready_pods("web")) == replicas and len(sts) == 1
                and ds == sorted(n.name for n in cluster.workers)):  # fmt: skip
            return round(time.time() - start, 1)
        time.sleep(1)
    raise AssertionError(f"{victim} came back but the cluster did not settle in {timeout:.0f}s: {last}")
