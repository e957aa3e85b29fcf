"""The one call a CLI command or a pytest fixture makes: build (cached), load, run a preset."""

from __future__ import annotations

import json
import time
from pathlib import Path

from harness.cluster import Cluster
from harness.conformance import load, presets
from harness.conformance.images import ImageArchive, build_images
from harness.conformance.run import RunResult, run_suite
from harness.conformance.suite import Suite, build_suite
from harness.errors import UsageError
from harness.images.versions import parse_version
from harness.paths import reports_root
from harness.progress import Progress


def cluster_version(cluster: Cluster) -> str:
    """The version the cluster's API server reports (the suite must match what runs, not the spec)."""
    server = json.loads(cluster.api.raw("/version"))
    version = str(server.get("gitVersion", ""))
    if not version:
        raise UsageError(f"cluster {cluster.name}: the API server reported no version",
                         fix="pass --kubernetes-version to `kube-harness conformance run`")  # fmt: skip
    return version


def prepare(version: str, progress: Progress, source: Path | None = None) -> tuple[Suite, ImageArchive]:
    suite = build_suite(parse_version(version), progress, source)
    return suite, build_images(suite, progress, source=source)


def conformance(cluster: Cluster, preset: str, progress: Progress, focus: str | None = None,
                skip: str | None = None, parallel: int = 4, quarantine: bool = True, version: str | None = None,
                source: Path | None = None, out: Path | None = None) -> RunResult:  # fmt: skip
    """Build (cached), load the images into ``cluster``'s nodes, run ``preset``; the reports land in
    ``out`` (default ``reports/conformance/<cluster>-<preset>-<time>``)."""
    selection = presets.select(preset, focus, skip, quarantine)  # bad input fails before any build
    if parallel < 1:
        raise UsageError(f"--parallel {parallel}: must be at least 1", fix="use --parallel 4 on 2 cores")
    suite, archive = prepare(version or cluster_version(cluster), progress, source)
    load.load_cluster(cluster, archive, progress)
    out = out or reports_root() / "conformance" / f"{cluster.name}-{preset}-{time.strftime('%Y%m%d-%H%M%S')}"
    result = run_suite(suite, selection, cluster.kubeconfig, out, parallel, progress)
    summary = {**result.summary(), "cluster": cluster.name, "provider": cluster.provider,
               "not_built": archive.skipped,
               "quarantine": [{"spec": s.name, "reason": s.message} for s in result.of("quarantined")],
               "failures": [{"spec": s.name, "message": s.message[:600]} for s in result.of("failed")]}  # fmt: skip
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return result
