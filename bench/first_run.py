"""The first run a newcomer makes: a fresh clone, empty caches, no node image, to the main job's
verdict (`./dev scenarios`), then the same command again with everything cached.

    python -m bench.first_run            # -> reports/bench/first-run.json

The clone goes to a temporary folder and gets a cache, a Go build cache and a Go module cache of its
own (so nothing this machine built is reused: Debian packages and Go modules are fetched again), and
the node image's tag is removed first. The Docker engine stays installed (measured separately:
`host prepare` installs it in under a minute). Figures, from the same run:

- ``setup_s``: the venv and `kube-harness host prepare` (packages, runc shim, kind),
- ``build_s``: `kube-harness image build` (every piece from source, then the image),
- ``scenarios_s``: `./dev scenarios` after that (the scenario library, slow tier out, xdist),
- ``total_s``: the three; ``warm_total_s``: `./dev scenarios` again, everything cached.

Targets (issue 23): total_s <= 900 on 2 cores, warm_total_s <= 240.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from bench.common import write
from harness.images.build import DEFAULT_VERSION

ROOT = Path(__file__).resolve().parent.parent
TAG = f"kube-harness/node:{DEFAULT_VERSION}"


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.monotonic()
    subprocess.run(argv, cwd=cwd, env=env, check=True)
    return round(time.monotonic() - start, 1)


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="kh-first-run-", dir=os.environ.get("KUBE_HARNESS_BENCH_DIR", "/var/tmp")))
    clone = root / "kube-harness"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBE_HARNESS_", "VIRTUAL_ENV", "PYTEST"))}
    env.update(KUBE_HARNESS_CACHE=str(root / "cache"), KUBE_HARNESS_GOCACHE=str(root / "gocache"),
               GOMODCACHE=str(root / "gomod"), KUBE_HARNESS_REPORTS=str(root / "reports"))  # fmt: skip
    subprocess.run(["docker", "rmi", TAG], capture_output=True)
    try:
        venv = timed(["./dev", "pytest", "--version"], clone, env)  # makes the venv, nothing else
        prepare = timed([".venv/bin/kube-harness", "host", "prepare"], clone, env)
        build = timed([".venv/bin/kube-harness", "image", "build"], clone, env)
        scenarios = timed(["./dev", "scenarios"], clone, env)
        warm = timed(["./dev", "scenarios"], clone, env)
    finally:
        subprocess.run([str(clone / ".venv/bin/kube-harness"), "gc"], env=env, capture_output=True)
        subprocess.run(["go", "clean", "-modcache"], env=env, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
    setup = round(venv + prepare, 1)
    out = write("first-run", {"setup_s": setup, "venv_s": venv, "host_prepare_s": prepare, "build_s": build,
                              "scenarios_s": scenarios, "total_s": round(setup + build + scenarios, 1),
                              "warm_total_s": warm, "target_total_s": 900, "target_warm_total_s": 240})  # fmt: skip
    print(out.read_text())


if __name__ == "__main__":
    main()
