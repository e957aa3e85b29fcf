"""Benchmark the node image build: cold (empty caches), warm (unchanged), re-assembly, and size.

    python -m bench.image_build            # -> reports/bench/image-build.json

Cold uses a fresh cache directory, Go build cache and Go module cache, and a tag of its own, so
nothing the machine already built is reused (Debian packages and Go modules are fetched again).
warm_s rebuilds the unchanged image (found up to date); reassemble_s removes the Docker image and
rebuilds it from the cached pieces. Targets (issue 2): cold <= 2400 s, warm <= 60 s, image <= 1.5 GB.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import write

TAG = "kube-harness/node:bench"


def timed_build(env: dict[str, str]) -> float:
    start = time.monotonic()
    subprocess.run([sys.executable, "-m", "harness.cli.main", "image", "build", "--tag", TAG], env=env, check=True)
    return round(time.monotonic() - start, 1)


def image_bytes() -> int:
    out = subprocess.run(["docker", "image", "inspect", "--format", "{{.Size}}", TAG], capture_output=True, text=True)
    return int(out.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep-cache", action="store_true", help="keep the cold cache directory afterwards")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="kh-bench-cold-", dir=os.environ.get("KUBE_HARNESS_BENCH_DIR", "/var/tmp")))
    env = {**os.environ, "KUBE_HARNESS_CACHE": str(root / "cache"), "GOMODCACHE": str(root / "gomod"),
           "KUBE_HARNESS_REPORTS": str(root / "reports")}  # fmt: skip
    subprocess.run(["docker", "rmi", TAG], capture_output=True)
    try:
        cold = timed_build(env)
        warm = timed_build(env)
        size = image_bytes()
        subprocess.run(["docker", "rmi", TAG], capture_output=True, check=True)
        reassemble = timed_build(env)
    finally:
        subprocess.run(["docker", "rmi", TAG], capture_output=True)
        subprocess.run(["go", "clean", "-modcache"], env=env, capture_output=True)
        if not args.keep_cache:
            shutil.rmtree(root, ignore_errors=True)
    results = {"cold_s": cold, "warm_s": warm, "reassemble_s": reassemble, "image_bytes": size}
    targets = {"target_cold_s": 2400, "target_warm_s": 60, "target_image_bytes": 1_500_000_000}
    out = write("image-build", {**results, **targets})
    print(out.read_text())


if __name__ == "__main__":
    main()
