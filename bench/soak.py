"""The failover scenario set (``scenarios/test_failover.py``: worker loss, kubelet stopped,
partition from the control plane), run N times in a row, each a fresh pytest session that makes and
removes its own cluster; afterwards, every container, network and volume the harness labelled (or
kind made) that was not there before counts as leaked.

    python -m bench.soak [--runs 20] [--provider kind|kubeadm]   # -> reports/bench/soak.json

Target (issue 6): 20 runs, 0 failures, 0 leaked resources.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from bench.common import write
from harness.exec import Cmd

ROOT = Path(__file__).resolve().parent.parent
FILTERS = ["label=kube-harness.io/cluster", "label=io.x-k8s.kind.cluster"]


def resources() -> set[str]:
    """Labelled Docker objects now: 'container:<name>', 'network:<name>', 'volume:<name>'."""
    out: set[str] = set()
    for kind, extra in (("container", ["ps", "-a"]), ("network", ["network", "ls"]), ("volume", ["volume", "ls"])):
        for f in FILTERS:
            argv = ["docker", *extra, "--filter", f, "--format", "{{.Names}}" if kind == "container" else "{{.Name}}"]
            out |= {f"{kind}:{n}" for n in Cmd(argv).run().stdout.split()}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--provider", default="kind", choices=["kind", "kubeadm"])
    args = parser.parse_args()
    before, failures, durations = resources(), 0, []
    for i in range(args.runs):
        start = time.monotonic()
        argv = [sys.executable, "-m", "pytest", "scenarios/test_failover.py", "-q", "-p", "no:cacheprovider",
                "--kh-provider", args.provider]  # fmt: skip
        rc = subprocess.run(argv, cwd=ROOT).returncode
        durations.append(time.monotonic() - start)
        failures += rc != 0
        print(f"run {i + 1}/{args.runs}: {'ok' if rc == 0 else f'FAILED (exit {rc})'} in {durations[-1]:.0f}s",
              flush=True)  # fmt: skip
    leaked = sorted(resources() - before)
    if leaked:
        print("leaked:", *leaked, sep="\n  ")
    result: dict[str, float | int | str] = {
        "runs": args.runs, "failures": failures, "leaked": len(leaked), "provider": args.provider,
        "mean_run_s": round(sum(durations) / len(durations), 1),
    }  # fmt: skip
    print(write("soak", result).read_text())


if __name__ == "__main__":
    main()
