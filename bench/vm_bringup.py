"""VM bring-up on this host, in one run so the figures sit side by side:

- ``box_build_s``: the box from the cached node image (into a scratch boxes folder: nothing cached is reused);
- the ``vm`` tier's topology (``vms.nodes: workers``: a container control plane + 1 VM worker):
  ``boot_s`` (the provision phase: `vagrant up` to SSH and the guest set up), ``init_s``,
  ``join_s``, ``total_s`` (create until every node is Ready and CoreDNS rolled out);
- ``all_vm_total_s``: 1 control-plane VM + 1 worker VM (``vms.nodes: all``), or ``all_vm_reason``;
- ``container_total_s``: the same spec on the kubeadm provider.

    python -m bench.vm_bringup [--no-all-vm]     # -> reports/bench/vm-bringup.json
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import time
from pathlib import Path
from unittest import mock

from bench.common import write
from harness.errors import HarnessError, UsageError
from harness.host.vms import accelerator
from harness.images import vmbox
from harness.images.build import BuildOptions, build_node_image
from harness.lifecycle import create_cluster, delete_cluster
from harness.progress import Progress
from harness.reporting.record import RunRecord
from harness.spec import spec_from_dict


def box_build() -> float:
    scratch = Path(tempfile.mkdtemp(prefix="kh-bench-boxes-"))
    start = time.monotonic()
    with mock.patch.object(vmbox, "boxes_root", lambda: scratch):
        vmbox.build_box(BuildOptions(), Progress(quiet=True))
    elapsed = time.monotonic() - start
    import shutil

    shutil.rmtree(scratch, ignore_errors=True)
    return elapsed


def bringup(provider: str, name: str, image: str, vms: dict[str, object]) -> tuple[float, dict[str, float]]:
    """Wall time of the create, and its phases' durations."""
    spec = spec_from_dict({"name": name, "control_planes": 1, "workers": 1, "node_image": image, "vms": vms})
    start = time.monotonic()
    try:
        cluster = create_cluster(spec, provider=provider, progress=Progress(quiet=True))
        elapsed = time.monotonic() - start
        record = RunRecord.load(Path(cluster.kubeconfig).parent / "run.json")
        return elapsed, {p.name: p.duration for p in record.phases}
    finally:
        with contextlib.suppress(UsageError):
            delete_cluster(name)


def reason(exc: HarnessError) -> str:
    """The failed phase and what the failing command said (its own ``said:`` line), not its argv."""
    text = str(exc)
    said = next((ln.split("said:", 1)[1].strip() for ln in text.splitlines() if "said:" in ln), "")
    return (f"{text.split(':', 1)[0]}: {said}" if said else text)[:400]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-all-vm", action="store_true", help="skip the all-VM topology")
    args = parser.parse_args()
    image = build_node_image(BuildOptions(), Progress(quiet=True))
    vmbox.add_box(vmbox.build_box(BuildOptions(), Progress(quiet=True)))  # the cached box, for the clusters
    result: dict[str, float | int | str] = {"accelerator": accelerator(), "box_build_s": round(box_build(), 1)}
    total, phases = bringup("vagrant", "khb-vm", image, {"nodes": "workers"})
    result.update(boot_s=round(phases["provision"], 1), init_s=round(phases["init"], 1),
                  join_s=round(phases["join-workers"], 1), ready_s=round(phases["ready"], 1),
                  total_s=round(total, 1))  # fmt: skip
    container, _ = bringup("kubeadm", "khb-vmc", image, {})
    result["container_total_s"] = round(container, 1)
    result["vm_to_container_ratio"] = round(total / container, 2)
    if not args.no_all_vm:
        try:
            all_vm, all_phases = bringup("vagrant", "khb-allvm", image, {"nodes": "all", "cpus": 1})
            result["all_vm_total_s"] = round(all_vm, 1)
            result["all_vm_init_s"] = round(all_phases["init"], 1)
        except HarnessError as exc:
            result["all_vm_reason"] = reason(exc)
    print(write("vm-bringup", result).read_text())


if __name__ == "__main__":
    main()
