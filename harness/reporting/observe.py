"""What the cluster did while a test ran, as events (``harness.reporting.events``): the plugin runs an
``Observer`` around every disruptive test's call, so a report shows a fault against what followed.

Every ``interval`` seconds one look at the API (nodes; pods and EndpointSlices of the watched
namespaces) and an event for each change only:

- ``node``: a node's Ready condition (``ready``: true/false/unknown) and its taints;
- ``pod``: a pod appeared, became (not) Ready, or got a deletion timestamp (``deleting``: evicted
  or deleted), with its node;
- ``endpoints``: the nodes of a Service's ready endpoints;
- ``api``: the API stopped (or started again) answering, with the error.
"""

from __future__ import annotations

import threading
from typing import Any

from harness.reporting import events

State = dict[str, Any]


def _ready(conditions: list[Any] | None) -> str:
    found = next((c for c in conditions or [] if c.type == "Ready"), None)
    return "unknown" if found is None else {"True": "true", "False": "false"}.get(found.status, "unknown")


def node_states(nodes: list[Any]) -> dict[str, State]:
    return {n.metadata.name: {"ready": _ready(n.status.conditions),
                              "taints": sorted(f"{t.key}:{t.effect}" for t in n.spec.taints or [])}
            for n in nodes}  # fmt: skip


def pod_states(pods: list[Any]) -> dict[str, State]:
    return {f"{p.metadata.namespace}/{p.metadata.name}": {
        "node": p.spec.node_name or "", "ready": _ready(p.status.conditions) == "true",
        "deleting": p.metadata.deletion_timestamp is not None} for p in pods}  # fmt: skip


def endpoint_states(slices: list[Any]) -> dict[str, State]:
    out: dict[str, set[str]] = {}
    for s in slices:
        service = (s.metadata.labels or {}).get("kubernetes.io/service-name", s.metadata.name)
        key = f"{s.metadata.namespace}/{service}"
        ready = {e.node_name or "" for e in s.endpoints or [] if e.conditions and e.conditions.ready}
        out[key] = out.get(key, set()) | ready
    return {k: {"nodes": sorted(v)} for k, v in out.items()}


def changes(kind: str, key: str, before: dict[str, State], after: dict[str, State]) -> list[dict[str, Any]]:
    """The events that take ``before`` to ``after`` (one per changed, new or gone entry)."""
    out = [{"type": kind, key: name, **state} for name, state in after.items() if before.get(name) != state]
    out += [{"type": kind, key: name, "gone": True} for name in before if name not in after]
    return out


class Observer:
    """A daemon thread looking at the cluster (kubeconfig) until ``stop``; ``namespaces`` limits the
    pods and endpoints watched (the kube-system pods count too)."""

    def __init__(self, kubeconfig: str, namespaces: list[str], interval: float = 1.0) -> None:
        self.kubeconfig, self.namespaces, self.interval = kubeconfig, [*namespaces, "kube-system"], interval
        self.last: dict[str, dict[str, State]] = {"node": {}, "pod": {}, "endpoints": {}}
        self.api_error = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="kube-harness-observer")

    def __enter__(self) -> Observer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=15)

    def _loop(self) -> None:
        from kubernetes import client, config

        api = config.new_client_from_config(config_file=self.kubeconfig)
        core, discovery = client.CoreV1Api(api), client.DiscoveryV1Api(api)
        try:
            while not self._stop.is_set():
                self._look(core, discovery)
                self._stop.wait(self.interval)
        finally:
            api.close()

    def _look(self, core: Any, discovery: Any) -> None:
        try:
            now = {"node": node_states(core.list_node(_request_timeout=5).items), "pod": {}, "endpoints": {}}
            for ns in self.namespaces:
                now["pod"].update(pod_states(core.list_namespaced_pod(ns, _request_timeout=5).items))
                slices = discovery.list_namespaced_endpoint_slice(ns, _request_timeout=5).items
                now["endpoints"].update(endpoint_states(slices))
        except Exception as exc:  # the API is down (a control plane lost): that is an observation too
            error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
            if not self.api_error:
                events.emit("api", ok=False, error=error)
            self.api_error = error
            return
        if self.api_error:
            events.emit("api", ok=True)
            self.api_error = ""
        for kind, key in (("node", "node"), ("pod", "pod"), ("endpoints", "service")):
            for change in changes(kind, key, self.last[kind], now[kind]):
                events.emit(change.pop("type"), **change)
        self.last = now
