"""Bring-up time of a 3-node cluster (1 control plane + 2 workers) on the same node image, until
every node is Ready and CoreDNS is ready: raw ``kind create cluster``, our kind provider, and our
kubeadm provider, interleaved round by round so machine noise hits all three alike.

    python -m bench.bringup [--rounds N]     # -> reports/bench/bringup.json (medians and best rounds)

Targets (issue 3): kubeadm provider <= 0.8 x raw kind; kind provider <= 1.05 x raw kind.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
import time
from pathlib import Path

from bench.common import write
from harness.errors import UsageError
from harness.exec import Cmd
from harness.images import tools
from harness.images.build import BuildOptions, build_node_image
from harness.k8s import checks
from harness.lifecycle import create_cluster, delete_cluster
from harness.progress import Progress
from harness.providers.containers import kindconfig
from harness.spec import spec_from_kwargs


class RawKind:
    """Plain kind with the harness's kind config, waited for as the providers wait (the API client)."""

    def __init__(self, image: str, workdir: Path) -> None:
        self.image, self.workdir = image, workdir
        self.kind = str(tools.ensure_kind(Progress(quiet=True)))
        self.kubectl_bin = str(tools.ensure_kubectl(Progress(quiet=True)))

    def kubectl(self, *args: str, input: str | None = None, check: bool = True) -> str:
        argv = [self.kubectl_bin, "--kubeconfig", str(self.workdir / "kubeconfig"), *args]
        return Cmd(argv, input=input, timeout=60).run(check=check).stdout

    def get(self, kind: str, name: str | None = None, namespace: str | None = None, labels: str = "",
            fields: str = "") -> dict:  # fmt: skip
        from harness.k8s.client import client_for

        return client_for(str(self.workdir / "kubeconfig")).rest.get(kind, name, namespace, labels, fields)

    def bringup(self, name: str) -> float:
        config = self.workdir / "kind.yaml"
        config.write_text(kindconfig.render(1, 2))
        start = time.monotonic()
        network = {"KIND_EXPERIMENTAL_DOCKER_NETWORK": f"kh-bench-{name}"}  # as our kind provider: a network each
        try:
            Cmd([self.kind, "create", "cluster", "--name", name, "--image", self.image, "--config", str(config),
                 "--kubeconfig", str(self.workdir / "kubeconfig")], env=network, timeout=900).run()  # fmt: skip
            checks.wait_nodes_ready(self, 3, timeout=300)  # the same waits the providers use
            checks.wait_rollout(self, "deployment", "coredns", "kube-system", timeout=300)
            elapsed = time.monotonic() - start
        finally:
            Cmd([self.kind, "delete", "cluster", "--name", name], timeout=300).run(check=False)
            Cmd(["docker", "network", "rm", network["KIND_EXPERIMENTAL_DOCKER_NETWORK"]]).run(check=False)
        return elapsed


def provider_bringup(provider: str, name: str, image: str) -> float:
    spec = spec_from_kwargs(name=name, control_planes=1, workers=2, node_image=image)
    start = time.monotonic()
    try:
        create_cluster(spec, provider=provider, progress=Progress(quiet=True))
        return time.monotonic() - start
    finally:
        with contextlib.suppress(UsageError):  # a failed create has already removed everything
            delete_cluster(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    image = build_node_image(BuildOptions(), Progress(quiet=True))
    raw = RawKind(image, Path(tempfile.mkdtemp(prefix="kh-bench-bringup-")))
    times: dict[str, list[float]] = {"kind": [], "kind_provider": [], "kubeadm": []}
    for r in range(args.rounds):
        times["kind"].append(raw.bringup(f"khb-raw-{r}"))
        times["kind_provider"].append(provider_bringup("kind", f"khb-kind-{r}", image))
        times["kubeadm"].append(provider_bringup("kubeadm", f"khb-kadm-{r}", image))
        print(f"round {r}: " + ", ".join(f"{k} {v[-1]:.1f}s" for k, v in times.items()), flush=True)
    med = {k: round(statistics.median(v), 1) for k, v in times.items()}
    best = {k: round(min(v), 1) for k, v in times.items()}  # the targets must hold without raw kind's bad luck
    result = {
        "kind_s": med["kind"], "kind_provider_s": med["kind_provider"], "kubeadm_s": med["kubeadm"],
        "kubeadm_ratio": round(med["kubeadm"] / med["kind"], 3),
        "kind_provider_ratio": round(med["kind_provider"] / med["kind"], 3),
        "kind_best_s": best["kind"], "kind_provider_best_s": best["kind_provider"], "kubeadm_best_s": best["kubeadm"],
        "kubeadm_best_ratio": round(best["kubeadm"] / best["kind"], 3),
        "kind_provider_best_ratio": round(best["kind_provider"] / best["kind"], 3),
        "rounds": args.rounds, "target_kubeadm_ratio": 0.8, "target_kind_provider_ratio": 1.05,
    }  # fmt: skip
    print(write("bringup", result).read_text())


if __name__ == "__main__":
    main()
