"""Cluster checks through kubectl, each a wait with a deadline that reports what it last saw."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any, Protocol

from harness.images.components import TEST_IMAGE
from harness.wait import wait_for


class Kube(Protocol):
    def kubectl(self, *args: str, input: str | None = None, check: bool = True) -> str: ...

    def kubectl_json(self, *args: str) -> dict[str, Any]: ...


def _is_ready(node: dict[str, Any]) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in node["status"].get("conditions", []))


def internal_ip(node: dict[str, Any]) -> str:
    """A Node object's InternalIP address."""
    return str(next(a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP"))


def ready_nodes(kube: Kube) -> dict[str, bool]:
    """Node name -> Ready."""
    return {n["metadata"]["name"]: _is_ready(n) for n in kube.kubectl_json("get", "nodes")["items"]}


def kubectl_timeout(deadline: float) -> str:
    """A kubectl --timeout for the time left (kubectl runs are capped at 170 s; the wait retries)."""
    return f"--timeout={max(1, min(170, int(deadline - time.monotonic())))}s"


def wait_nodes_ready(kube: Kube, count: int, timeout: float = 240, interval: float = 1) -> list[str]:
    """``count`` nodes registered, then all Ready — watched by ``kubectl wait``, not polled."""
    deadline = time.monotonic() + timeout

    def check() -> list[str]:
        names = kube.kubectl("get", "nodes", "-o", "name").split()
        if len(names) < count:
            raise AssertionError(f"{len(names)} of {count} nodes registered: {names}")
        kube.kubectl("wait", "--for=condition=Ready", "nodes", "--all", kubectl_timeout(deadline))
        nodes = ready_nodes(kube)
        if len(nodes) == count and all(nodes.values()):
            return sorted(nodes)
        raise AssertionError(f"nodes: {nodes}")

    return wait_for(check, timeout=timeout, interval=interval, describe=f"{count} Ready nodes")


def wait_rollout(kube: Kube, kind: str, name: str, namespace: str, timeout: float = 240, interval: float = 1) -> None:
    """A Deployment with all replicas available, or a DaemonSet on every node — ``kubectl rollout
    status`` watches it; a missing object (not created yet) is retried."""
    deadline = time.monotonic() + timeout

    def check() -> bool:
        kube.kubectl("rollout", "status", f"{kind}/{name}", "-n", namespace, kubectl_timeout(deadline))
        return True

    wait_for(check, timeout=timeout, interval=interval, describe=f"{kind} {namespace}/{name} rolled out")


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
        kube.kubectl("wait", "-n", namespace, "--for=condition=Ready", *(f"pod/{n}" for n in names), "--timeout=120s")
        pods = {p["metadata"]["name"]: p for p in kube.kubectl_json("get", "pods", "-n", namespace)["items"]}
        src, dst = pods[names[0]], pods[names[1]]
        assert src["spec"]["nodeName"] != dst["spec"]["nodeName"]
        url = f"http://{dst['status']['podIP']}:8080/"
        reply = wait_for(
            lambda: kube.kubectl("exec", "-n", namespace, names[0], "--", "curl", "-s", "--max-time", "5", url),
            timeout=60, interval=2, describe=f"{names[0]} on {src['spec']['nodeName']} reaching {url}",
        )  # fmt: skip
        assert f"hostname={names[1]}" in reply, reply
        assert f"client={src['status']['podIP']}:" in reply, f"pod-to-pod traffic was NATed: {reply}"
    finally:
        kube.kubectl("delete", "-n", namespace, "pod", *names, "--wait=false", check=False)
