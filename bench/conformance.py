"""The offline conformance suite: how long it takes to build, and the ``conformance`` preset on a
default 3-node kind-provider cluster, in one run.

- ``build_cold_s``: e2e.test, ginkgo, kubectl, the test programs and images with an empty Go build
  cache and none of the suite's artifacts (the node image's pieces stay cached: a user runs
  ``conformance build`` after setup); ``build_warm_s``: the same call again (all cached);
- ``specs``, ``passed``, ``failed``, ``quarantined``, ``duration_s``: the preset at ``--parallel 4``.

    python -m bench.conformance [--preset conformance] [--parallel 4]   # -> reports/bench/conformance.json

Targets (issue 19): failed = 0, quarantined <= 5 % of specs, duration_s <= 1800 on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from bench.common import write
from harness.conformance.api import conformance, prepare
from harness.images.build import DEFAULT_VERSION, BuildOptions, build_node_image
from harness.lifecycle import managed_cluster
from harness.paths import cache_root
from harness.progress import Progress
from harness.spec import spec_from_kwargs

SUITE_KINDS = ("e2e-suite", "e2e-images", "rootfs-e2e", "busybox")


def timed_build(cold: bool) -> float:
    """``prepare`` once; cold: in a scratch Go build cache with the suite's artifacts set aside."""
    aside = Path(tempfile.mkdtemp(prefix="kh-bench-conformance-"))
    env_before = os.environ.get("KUBE_HARNESS_GOCACHE")
    if cold:
        for kind in SUITE_KINDS:
            if (cache_root() / "artifacts" / kind).exists():
                shutil.move(str(cache_root() / "artifacts" / kind), aside / kind)
        os.environ["KUBE_HARNESS_GOCACHE"] = str(aside / "gocache")
    start = time.monotonic()
    try:
        prepare(DEFAULT_VERSION, Progress(tick=120))
        return time.monotonic() - start
    finally:
        if env_before is None:
            os.environ.pop("KUBE_HARNESS_GOCACHE", None)
        else:
            os.environ["KUBE_HARNESS_GOCACHE"] = env_before
        shutil.rmtree(aside, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="conformance")
    parser.add_argument("--parallel", type=int, default=4)
    args = parser.parse_args()
    image = build_node_image(BuildOptions(), Progress(quiet=True))
    result: dict[str, float | int | str] = {"build_cold_s": round(timed_build(cold=True), 1)}
    result["build_warm_s"] = round(timed_build(cold=False), 1)
    spec = spec_from_kwargs(name="khb-conf", node_image=image, workers=2)
    with managed_cluster(spec, provider="kind") as cluster:
        run = conformance(cluster, args.preset, Progress(tick=120), parallel=args.parallel)
    summary = run.summary()
    result.update({k: v for k, v in summary.items() if isinstance(v, int | float)})
    result.update(preset=args.preset, parallel=args.parallel, report=str(run.out),
                  quarantined_share=round(run.count("quarantined") / max(1, len(run.specs)), 3),
                  target_failed=0, target_quarantined_share=0.05, target_duration_s=1800)  # fmt: skip
    print(write("conformance", result).read_text())


if __name__ == "__main__":
    main()
