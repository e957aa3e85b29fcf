"""A disruptive test's events (``events.py``, ``observe.py``) as series on one time axis, in seconds from
the first fault: each node's Ready state and taints, Ready pods per namespace, Ready endpoints per
Service, pod deletions, and the milestones a reader looks for ("NotReady at +10.1 s")."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SYSTEM = "kube-system"
STANDING_TAINTS = ("node-role.kubernetes.io/control-plane",)  # there all along: not news

Series = list[tuple[float, Any]]


@dataclass
class Timeline:
    t0: float
    faults: list[dict[str, Any]] = field(default_factory=list)
    node_ready: dict[str, Series] = field(default_factory=dict)
    node_taints: dict[str, Series] = field(default_factory=dict)
    pods: dict[str, Series] = field(default_factory=dict)  # "ns/name" -> (t, state)
    endpoints: dict[str, Series] = field(default_factory=dict)  # "ns/service" -> (t, node count)
    deletions: list[float] = field(default_factory=list)
    milestones: list[tuple[float, str]] = field(default_factory=list)
    end: float = 0.0

    @property
    def nodes(self) -> list[str]:
        return sorted(self.node_ready)

    @staticmethod
    def segments(series: Series, end: float) -> list[tuple[float, float, Any]]:
        return [(t, series[i + 1][0] if i + 1 < len(series) else end, v) for i, (t, v) in enumerate(series)]

    def counts(self) -> dict[str, Series]:
        """Ready pods per namespace (kube-system left out) and Ready endpoints per Service, as steps."""
        out: dict[str, Series] = {}
        namespaces = sorted({k.split("/")[0] for k in self.pods} - {SYSTEM})
        for ns in namespaces:
            changes = sorted({t for k, s in self.pods.items() if k.startswith(f"{ns}/") for t, _ in s})
            out[f"Ready pods in {ns}"] = [(t, self._ready_pods(ns, t)) for t in changes]
        for service, series in sorted(self.endpoints.items()):
            if not service.startswith(f"{SYSTEM}/") and series:
                out[f"Ready endpoints {service}"] = series
        return out

    def _ready_pods(self, ns: str, at: float) -> int:
        count = 0
        for key, series in self.pods.items():
            state = next((v for t, v in reversed(series) if t <= at), None) if key.startswith(f"{ns}/") else None
            count += bool(state and state.get("ready") and not state.get("deleting") and not state.get("gone"))
        return count


def build(events: list[dict[str, Any]]) -> Timeline | None:
    """The timeline of a test's events; None when it has no fault and no observation."""
    if not events:
        return None
    faults = [e for e in events if e["type"] == "fault"]
    t0 = min((f["injected_at"] for f in faults if f.get("injected_at")), default=events[0]["at"])
    tl = Timeline(t0)
    for f in faults:
        injected, reverted = f.get("injected_at") or t0, f.get("reverted_at") or 0
        tl.faults.append({**f, "injected_at": round(injected - t0, 2),
                          "reverted_at": round(reverted - t0, 2) if reverted else -1})  # fmt: skip
        what = f"fault {f.get('fault', '?')} on {f.get('target', '?')}"  # events from any code: nothing assumed
        tl.milestones.append((round(injected - t0, 2), f"{what} injected"))
        if reverted:
            tl.milestones.append((round(reverted - t0, 2), f"{what} reverted"))
    for e in sorted((e for e in events if e["type"] != "fault"), key=lambda e: e["at"]):
        _add(tl, e, round(e["at"] - t0, 2))
    tl.milestones.sort(key=lambda m: m[0])
    times = [m[0] for m in tl.milestones] + [f["reverted_at"] for f in tl.faults]
    tl.end = max([0.0, *times]) + 2
    return tl


def _add(tl: Timeline, e: dict[str, Any], t: float) -> None:
    baseline = t < 0  # what held before the fault: drawn, not listed
    if e["type"] == "node":
        node, ready = e["node"], e.get("ready", "unknown")
        taints = tuple(x for x in e.get("taints", []) if not x.startswith(STANDING_TAINTS))
        if _changed(tl.node_ready.setdefault(node, []), t, ready) and not baseline:
            tl.milestones.append((t, f"node {node} {'Ready' if ready == 'true' else 'NotReady (' + ready + ')'}"))
        if _changed(tl.node_taints.setdefault(node, []), t, taints) and not baseline:
            tl.milestones.append((t, f"node {node} taints: {', '.join(taints) or 'none'}"))
    elif e["type"] == "pod":
        series = tl.pods.setdefault(e["pod"], [])
        before = series[-1][1] if series else {}
        series.append((t, e))
        if not baseline and not e["pod"].startswith(f"{SYSTEM}/"):
            _pod_milestone(tl, e, before, t)
    elif e["type"] == "endpoints":
        nodes = e.get("nodes", [])
        if _changed(tl.endpoints.setdefault(e["service"], []), t, len(nodes)) and not baseline:
            tl.milestones.append((t, f"Service {e['service']}: Ready endpoints on {', '.join(nodes) or 'no node'}"))
    elif e["type"] == "api":
        tl.milestones.append((t, "API answers again" if e.get("ok") else f"API not answering ({e.get('error', '')})"))


def _changed(series: Series, t: float, value: Any) -> bool:
    if series and series[-1][1] == value:
        return False
    series.append((t, value))
    return True


def _pod_milestone(tl: Timeline, e: dict[str, Any], before: dict[str, Any], t: float) -> None:
    where = f" on {e['node']}" if e.get("node") else ""
    if e.get("deleting") and not before.get("deleting"):
        tl.deletions.append(t)
        tl.milestones.append((t, f"pod {e['pod']}{where} deleted (evicted)"))
    elif e.get("gone"):
        tl.milestones.append((t, f"pod {e['pod']} gone"))
    elif e.get("ready") != before.get("ready"):
        tl.milestones.append((t, f"pod {e['pod']}{where} {'Ready' if e.get('ready') else 'not Ready'}"))
