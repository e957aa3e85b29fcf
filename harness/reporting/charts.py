"""The report's charts, drawn with matplotlib and returned as inline SVG (no JavaScript, no network).

- ``phases_chart``: a create run's phases on a time axis, a row for the whole run and one per node
  (the phase's work on that node: ``StepRecord``), failed parts outlined in red;
- ``fault_chart``: a disruptive test's fault(s) against what followed: each node's Ready state and
  taints, pods being deleted, Ready pods and Ready endpoints per Service, in seconds from the fault;
- ``compare_chart``: two runs' phase durations side by side.
"""

from __future__ import annotations

import io
import re
from typing import Any

from harness.reporting.timeline import Timeline

READY_COLORS = {"true": "#2e7d32", "false": "#c62828", "unknown": "#9e9e9e"}


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams.update({"svg.fonttype": "none", "font.size": 9, "svg.hashsalt": "kube-harness"})
    import matplotlib.pyplot as plt

    return plt


def _svg(fig: Any) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    _plt().close(fig)
    text = buf.getvalue()
    return re.sub(r"<metadata>.*?</metadata>\s*", "", text[text.index("<svg") :], flags=re.S)


def phases_chart(run: dict[str, Any]) -> str:
    plt = _plt()
    phases = [p for p in run.get("phases", []) if p.get("start")]
    nodes = list(dict.fromkeys(s["node"] for p in phases for s in p.get("steps", [])))
    rows = ["run", *nodes]
    colors = plt.get_cmap("tab20").colors
    fig, ax = plt.subplots(figsize=(10, 0.9 + 0.42 * len(rows)))
    t0 = run.get("start") or (phases[0]["start"] if phases else 0)
    for i, phase in enumerate(phases):
        color = colors[i % len(colors)]
        bars = [(0, phase["start"], phase["duration"], phase["status"])]
        bars += [(1 + nodes.index(s["node"]), s["start"], s["duration"], s["status"]) for s in phase.get("steps", [])]
        for row, start, duration, status in bars:
            failed = status != "ok"
            ax.barh(row, max(duration, 0.05), left=start - t0, color=color, height=0.6,
                    edgecolor="#c62828" if failed else "none", linewidth=2 if failed else 0,
                    label=phase["name"] if row == 0 else None)  # fmt: skip
    ax.set_yticks(range(len(rows)), rows)
    ax.invert_yaxis()
    ax.set_xlabel("seconds from the start of the run")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)
    ax.set_title(f"{run.get('cluster')} ({run.get('provider')}): phases per node")
    return _svg(fig)


def fault_chart(timeline: Timeline) -> str:
    plt = _plt()
    rows = [f"fault: {f['fault']} {f['target']}" for f in timeline.faults] + [f"node {n}" for n in timeline.nodes]
    fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(10, 1.6 + 0.45 * len(rows) + 2.2),
                                      gridspec_kw={"height_ratios": [max(1, len(rows)) * 0.45 + 0.6, 2.2]})  # fmt: skip
    end = timeline.end
    for i, fault in enumerate(timeline.faults):
        stop = fault["reverted_at"] if fault["reverted_at"] > 0 else end
        top.barh(i, stop - fault["injected_at"], left=fault["injected_at"], color="#6a1b9a", height=0.6)
    for j, node in enumerate(timeline.nodes):
        row = len(timeline.faults) + j
        for start, stop, state in timeline.segments(timeline.node_ready[node], end):
            top.barh(row, stop - start, left=start, color=READY_COLORS.get(state, "#9e9e9e"), height=0.6)
        for start, stop, taints in timeline.segments(timeline.node_taints[node], end):
            if taints:
                top.barh(row + 0.36, stop - start, left=start, color="#ef6c00", height=0.14)
    for t, _ in timeline.milestones:
        top.axvline(t, color="#455a64", linewidth=0.6, linestyle=":")
    top.set_yticks(range(len(rows)), rows)
    top.invert_yaxis()
    top.set_title("fault (purple) against node Ready (green) / NotReady (red) / unknown (grey); taints (orange)")
    for label, series in timeline.counts().items():
        xs, ys = zip(*series, strict=True) if series else ((), ())
        bottom.step([*xs, end], [*ys, ys[-1] if ys else 0], where="post", label=label)
    for t in timeline.deletions:
        bottom.axvline(t, color="#c62828", linewidth=0.8, alpha=0.6)
    from matplotlib.ticker import MaxNLocator

    bottom.yaxis.set_major_locator(MaxNLocator(integer=True))
    bottom.set_ylabel("count")
    bottom.set_xlabel("seconds from the fault (red lines: pods deleted or evicted)")
    bottom.grid(alpha=0.3)
    bottom.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)
    return _svg(fig)


def compare_chart(names: list[str], left: dict[str, float], right: dict[str, float], labels: tuple[str, str]) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(10, 0.8 + 0.35 * len(names)))
    ys = range(len(names))
    ax.barh([y - 0.2 for y in ys], [left.get(n, 0) for n in names], height=0.4, label=labels[0], color="#1565c0")
    ax.barh([y + 0.2 for y in ys], [right.get(n, 0) for n in names], height=0.4, label=labels[1], color="#ef6c00")
    ax.set_yticks(list(ys), names)
    ax.invert_yaxis()
    ax.set_xlabel("seconds")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(frameon=False)
    return _svg(fig)
