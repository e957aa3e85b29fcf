"""Wall time of the scenario library, area by area, on one 3-node cluster (1 control plane +
2 workers, the default provider), excluding bring-up: the cluster is made first, then each area's
scenarios run against it with ``--kh-reuse-cluster``; the cluster is deleted at the end.

    python -m bench.scenarios [--provider kind|kubeadm]     # -> reports/bench/scenarios.json

Target (issue 5): total_s <= 300 on 2 cores. ``scenarios/test_variants.py`` (the same DNS and
Services checks on a second cluster: nftables, custom domain) is not part of the timed library.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from bench.common import write
from harness.images.build import BuildOptions, build_node_image
from harness.lifecycle import create_cluster, delete_cluster
from harness.progress import Progress
from harness.spec import spec_from_kwargs

ROOT = Path(__file__).resolve().parent.parent
AREAS = ["init", "join", "cni", "dns", "services"]


def run_area(area: str, cluster: str) -> float:
    argv = [sys.executable, "-m", "pytest", f"scenarios/test_{area}.py", "--kh-reuse-cluster", cluster, "-q",
            "-p", "no:cacheprovider"]  # fmt: skip
    start = time.monotonic()
    subprocess.run(argv, cwd=ROOT, check=True)
    return round(time.monotonic() - start, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--provider", default="kind", choices=["kind", "kubeadm"])
    args = parser.parse_args()
    image = build_node_image(BuildOptions(), Progress(quiet=True))
    name = "khb-scenarios"
    create_cluster(spec_from_kwargs(name=name, control_planes=1, workers=2, node_image=image),
                   provider=args.provider, progress=Progress(quiet=True))  # fmt: skip
    try:
        times = {f"{area}_s": run_area(area, name) for area in AREAS}
    finally:
        delete_cluster(name)
    result: dict[str, float | int | str] = {**times, "total_s": round(sum(times.values()), 1),
                                            "provider": args.provider, "target_total_s": 300}  # fmt: skip
    print(write("scenarios", result).read_text())


if __name__ == "__main__":
    main()
