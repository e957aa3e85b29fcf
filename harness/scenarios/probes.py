"""Probe pods: the preloaded test image (echo server on :8080, TCP echo :9000, UDP echo :9001,
plus ``sh``, ``curl``, ``dig``, ``getent``, ``nc``) pinned one per node, or as many as asked.

Pods are pinned by ``nodeName`` to the nodes the harness made, so a node joined later by a
scenario never gets one, and they tolerate every taint so control planes get one too.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from typing import Any

from harness.images.components import TEST_IMAGE
from harness.k8s import checks
from harness.k8s.checks import Kube

PROBE_LABEL = "kube-harness.io/probe"  # the probe pods only: the scenarios' Services select it
SCENARIO_POD_LABEL = "kube-harness.io/scenario-pod"  # every pod pod_manifest makes


@dataclass(frozen=True)
class Pod:
    name: str
    node: str
    ip: str = ""
    node_ip: str = ""


def pod_manifest(name: str, namespace: str, node: str | None, labels: dict[str, str],
                 **spec: Any) -> dict[str, Any]:  # fmt: skip
    """A test-image pod; ``spec`` adds or overrides pod spec fields (dnsPolicy, dnsConfig, ...)."""
    container = {"name": "probe", "image": TEST_IMAGE, "imagePullPolicy": "Never",
                 "args": ["-tcp", ":9000", "-udp", ":9001"],
                 "ports": [{"name": "http", "containerPort": 8080}, {"name": "echo", "containerPort": 9000}],
                 "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 1}}  # fmt: skip
    body: dict[str, Any] = {"terminationGracePeriodSeconds": 0, "containers": [container], **spec}
    if node:  # pinned probes stay on their node whatever its taints; others are scheduled normally
        body = {"nodeName": node, "tolerations": [{"operator": "Exists"}], **body}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace,
            "labels": {SCENARIO_POD_LABEL: "true", **labels}}, "spec": body}  # fmt: skip


def apply(kube: Kube, *objects: dict[str, Any]) -> None:
    kube.kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": list(objects)}))


def wait_ready(kube: Kube, namespace: str, selector: str, timeout: int = 120) -> None:
    """Every pod matching ``selector`` Ready within ``timeout`` times the cluster's timeout scale
    (VM nodes under TCG start pods slower)."""
    checks.wait_pods_ready(kube, namespace, labels=selector, timeout=timeout * getattr(kube, "timeout_scale", 1.0))


def pods(kube: Kube, namespace: str, selector: str) -> list[Pod]:
    items = kube.get("pods", namespace=namespace, labels=selector)["items"]
    return [Pod(p["metadata"]["name"], p["spec"].get("nodeName", ""), p["status"].get("podIP", ""),
                p["status"].get("hostIP", "")) for p in items]  # fmt: skip


@dataclass
class Probes:
    """One probe pod per node (``extra`` more on the first worker, for same-node checks)."""

    kube: Kube
    namespace: str
    pods: list[Pod] = field(default_factory=list)

    @classmethod
    def deploy(cls, kube: Kube, namespace: str, nodes: list[str], extra: int = 1) -> Probes:
        workers = [n for n in nodes if "control-plane" not in n] or nodes
        placement = [(f"probe-{n.rsplit('-', 1)[-1]}", n) for n in nodes]
        placement += [(f"probe-{workers[0].rsplit('-', 1)[-1]}-{i + 2}", workers[0]) for i in range(extra)]
        apply(kube, *[pod_manifest(name, namespace, node, {PROBE_LABEL: "true", "node": node})
                      for name, node in placement])  # fmt: skip
        wait_ready(kube, namespace, PROBE_LABEL)
        return cls(kube, namespace, sorted(pods(kube, namespace, PROBE_LABEL), key=lambda p: p.name))

    def on(self, node: str) -> Pod:
        return next(p for p in self.pods if p.node == node)

    @property
    def nodes(self) -> list[str]:
        return sorted({p.node for p in self.pods})

    def sh(self, pod: Pod | str, script: str, timeout: int = 60, check: bool = True) -> str:
        """Run ``sh -c script`` in a probe pod; its stdout."""
        name = pod.name if isinstance(pod, Pod) else pod
        return self.kube.pod_exec(self.namespace, name, "sh", "-c", script, timeout=timeout, check=check)

    def curl_each(self, pod: Pod, urls: list[str], seconds: int = 3) -> dict[str, str]:
        """url -> the echo server's reply line (or ``FAIL <curl exit>``), from one exec."""
        lines = [f"r=$(curl -sS -m {seconds} {shlex.quote(u)} 2>&1) || r=\"FAIL $? $r\"; echo \"$r\" | head -1"
                 for u in urls]  # fmt: skip
        out = self.sh(pod, "; ".join(lines), timeout=seconds * len(urls) + 30).splitlines()
        return dict(zip(urls, out + ["FAIL no output"] * (len(urls) - len(out)), strict=True))


def reply_fields(line: str) -> dict[str, str]:
    """``hostname=a local=b client=c path=/`` -> dict (empty for a failure line)."""
    return dict(part.split("=", 1) for part in line.split() if "=" in part) if not line.startswith("FAIL") else {}


def host_of(addr: str) -> str:
    return addr.rsplit(":", 1)[0].strip("[]")
