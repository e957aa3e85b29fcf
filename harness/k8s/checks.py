"""Cluster checks through the API (plain-JSON reads, ``harness.k8s.rest``), each a wait with a
deadline that reports what it last saw. ``kubectl`` stays for what a user would type (apply, exec)."""

from __future__ import annotations

import json
import uuid
from typing import Any, Protocol

from harness.images.components import TEST_IMAGE
from harness.wait import wait_for


class Kube(Protocol):
    def kubectl(self, *args: str, input: str | None = None, check: bool = True) -> str: ...

    def get(self, kind: str, name: str | None = None, namespace: str | None = None, labels: str = "",
            fields: str = "") -> dict[str, Any]: ...  # fmt: skip

    def pod_exec(self, namespace: str, pod: str, *argv: str, timeout: float = 60, check: bool = True) -> str: ...


def condition(obj: dict[str, Any], kind: str) -> bool:
    """Whether an object's ``status.conditions`` has ``kind`` True (Ready, Available, ...)."""
    return any(c["type"] == kind and c["status"] == "True" for c in obj.get("status", {}).get("conditions") or [])


def internal_ip(node: dict[str, Any]) -> str:
    """A Node object's InternalIP address."""
    return str(next(a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP"))


def ready_nodes(kube: Kube) -> dict[str, bool]:
    """Node name -> Ready."""
    return {n["metadata"]["name"]: condition(n, "Ready") for n in kube.get("nodes")["items"]}


def wait_nodes_ready(kube: Kube, count: int, timeout: float = 240, interval: float = 1) -> list[str]:
    """``count`` nodes registered, all Ready."""

    def check() -> list[str]:
        nodes = ready_nodes(kube)
        if len(nodes) >= count and all(nodes.values()):
            return sorted(nodes)
        raise AssertionError(f"{sum(nodes.values())} of {count} nodes Ready: {nodes}")  # the wait's last error

    return wait_for(check, timeout=timeout, interval=interval, describe=f"{count} Ready nodes")


def rollout(obj: dict[str, Any]) -> str:
    """What keeps a Deployment, DaemonSet or StatefulSet from being rolled out ("" once it is), by
    the rules ``kubectl rollout status`` applies."""
    spec, st = obj.get("spec", {}), obj.get("status", {})
    if st.get("observedGeneration", 0) < obj["metadata"].get("generation", 0):
        return "the controller has not seen the latest spec"
    if obj["kind"] == "DaemonSet":
        want = st.get("desiredNumberScheduled", 0)
        have = {"updated": st.get("updatedNumberScheduled", 0), "available": st.get("numberAvailable", 0)}
    elif obj["kind"] == "StatefulSet":
        want = spec.get("replicas", 1)
        have = {"ready": st.get("readyReplicas", 0), "updated": st.get("updatedReplicas", 0)}
    else:
        want = spec.get("replicas", 1)
        have = {"updated": st.get("updatedReplicas", 0), "total": st.get("replicas", 0),
                "available": st.get("availableReplicas", 0)}  # fmt: skip
    short = {k: v for k, v in have.items() if v != want}
    return f"{', '.join(f'{k} {v}' for k, v in short.items())} of {want}" if short else ""


def wait_rollout(kube: Kube, kind: str, name: str, namespace: str, timeout: float = 240, interval: float = 1) -> None:
    """A Deployment with all replicas updated and available, a DaemonSet on every node, a StatefulSet
    with every replica ready; a missing object (not created yet) is waited for."""

    def check() -> bool:
        obj = kube.get(kind, name, namespace)
        obj.setdefault("kind", {"deployment": "Deployment", "daemonset": "DaemonSet"}.get(kind, "StatefulSet"))
        if short := rollout(obj):
            raise AssertionError(short)
        return True

    wait_for(check, timeout=timeout, interval=interval, describe=f"{kind} {namespace}/{name} rolled out")


def pod_state(pod: dict[str, Any]) -> str:
    """``name on node: phase`` plus the first waiting reason (ErrImageNeverPull, CrashLoopBackOff)."""
    reasons = [c["state"]["waiting"].get("reason", "") for c in pod.get("status", {}).get("containerStatuses") or []
               if "waiting" in c.get("state", {})]  # fmt: skip
    where = pod["spec"].get("nodeName") or "unscheduled"
    why = f" ({reasons[0]})" if reasons else ""
    return f"{pod['metadata']['name']} on {where}: {pod['status'].get('phase')}{why}"


def wait_pods_ready(kube: Kube, namespace: str, labels: str = "", names: tuple[str, ...] = (), timeout: float = 120,
                    interval: float = 1) -> list[dict[str, Any]]:  # fmt: skip
    """The pods (by label selector and/or names) all exist and are Ready; their objects."""

    def check() -> list[dict[str, Any]]:
        items = [p for p in kube.get("pods", namespace=namespace, labels=labels)["items"]
                 if not names or p["metadata"]["name"] in names]  # fmt: skip
        missing = set(names) - {p["metadata"]["name"] for p in items}
        if items and not missing and all(condition(p, "Ready") for p in items):
            return items
        seen = [pod_state(p) for p in items if not condition(p, "Ready")]
        seen += [f"{n}: not created" for n in sorted(missing)]
        raise AssertionError("; ".join(seen) or "no pods")

    what = f"pods {labels or ', '.join(names)} in {namespace} Ready"
    return wait_for(check, timeout=timeout, interval=interval, describe=what)


def echo_pod(name: str, node: str, namespace: str, labels: dict[str, str] | None = None) -> str:
    """A pod of the preloaded test image (echo server on :8080) pinned to ``node``, as JSON."""
    return json.dumps({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels or {"app": "kh-echo"}},
        "spec": {"nodeName": node, "terminationGracePeriodSeconds": 1,
                 "containers": [{"name": "echo", "image": TEST_IMAGE, "imagePullPolicy": "Never"}]},
    })  # fmt: skip


def assert_pod_to_pod_across_workers(kube: Kube, namespace: str) -> None:
    """A pod on one worker reaches a pod on another by pod IP, un-NATed."""
    workers = sorted(n for n in ready_nodes(kube) if "control-plane" not in n)
    assert len(workers) >= 2, f"need two workers, have {workers}"
    suffix = uuid.uuid4().hex[:6]
    names = [f"kh-echo-a-{suffix}", f"kh-echo-b-{suffix}"]
    for name, node in zip(names, workers, strict=False):
        kube.kubectl("apply", "-f", "-", input=echo_pod(name, node, namespace))
    try:
        pods = {p["metadata"]["name"]: p for p in wait_pods_ready(kube, namespace, names=tuple(names))}
        src, dst = pods[names[0]], pods[names[1]]
        assert src["spec"]["nodeName"] != dst["spec"]["nodeName"]
        url = f"http://{dst['status']['podIP']}:8080/"
        reply = wait_for(
            lambda: kube.pod_exec(namespace, names[0], "curl", "-s", "--max-time", "5", url),
            timeout=60, interval=2, describe=f"{names[0]} on {src['spec']['nodeName']} reaching {url}",
        )  # fmt: skip
        assert f"hostname={names[1]}" in reply, reply
        assert f"client={src['status']['podIP']}:" in reply, f"pod-to-pod traffic was NATed: {reply}"
    finally:
        kube.kubectl("delete", "-n", namespace, "pod", *names, "--wait=false", check=False)
