"""One VM cluster's Vagrant project: the static Vagrantfile plus ``kube-harness.json``, ``vagrant
up`` and ``destroy`` (run as commands: logged, timed out, interruptible), and the nodes it made
(their SSH details from python-vagrant's ``ssh_config``)."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path
from typing import Any

from harness.cluster import Cluster, NodeInfo
from harness.exec import Cmd
from harness.paths import private_dir
from harness.phases.engine import Context
from harness.providers.vms import guest, layout, virsh
from harness.providers.vms.node import VMNode

VAGRANTFILE = resources.files("harness.providers.vms") / "files" / "Vagrantfile"
BOOT_S = 300  # vagrant's wait for SSH at scale 1


class VagrantRun:
    def __init__(self, folder: Path, log: Path | None, scale: float) -> None:
        self.folder, self.log, self.scale = folder, log, scale

    def _cmd(self, *argv: str, timeout: float) -> Cmd:
        env = {"VAGRANT_DEFAULT_PROVIDER": "libvirt", "VAGRANT_CHECKPOINT_DISABLE": "1", "VAGRANT_NO_COLOR": "1"}
        return Cmd(["vagrant", *argv], env=env, cwd=str(self.folder), timeout=timeout)

    def write(self, cluster: Cluster, plan: layout.Layout, box: str, vm: Any, driver: str) -> None:
        private_dir(self.folder.parent)
        private_dir(self.folder)
        (self.folder / "console").mkdir(exist_ok=True)
        shutil.copyfile(str(VAGRANTFILE), self.folder / "Vagrantfile")
        descriptions = {n.name: virsh.description(cluster.labels(n.role)) for n in plan.vms}
        text = layout.vagrant_config(cluster.name, plan, box, vm, driver, descriptions,
                                     str(self.folder / "console"), int(BOOT_S * self.scale))  # fmt: skip
        (self.folder / "kube-harness.json").write_text(text)

    def up(self, ctx: Context) -> None:
        ctx.check()
        self._cmd("up", "--provider", "libvirt", timeout=900 * self.scale).run(log=ctx.log)

    def destroy(self) -> list[str]:
        res = self._cmd("destroy", "-f", timeout=600).run(check=False, log=self.log)
        return [f"vagrant project {self.folder}" + ("" if res.ok else f" (vagrant destroy: exit {res.rc})")]

    def ssh_config(self, name: str) -> dict[str, str]:
        import vagrant

        conf = vagrant.Vagrant(root=str(self.folder), quiet_stdout=True, quiet_stderr=True).conf(vm_name=name)
        return {"host": conf["HostName"], "port": str(conf.get("Port", "22")), "user": conf.get("User", "vagrant"),
                "key": str(conf["IdentityFile"]).strip('"')}  # fmt: skip

    def nodes(self, cluster: Cluster, plan: layout.Layout) -> list[NodeInfo]:
        """Each VM set up on the cluster network (concurrently); their records."""
        hosts = [(n.name, n.address) for n in plan.vms]
        hosts += [(n.name, n.ip) for n in cluster.nodes]

        def one(p: layout.VMPlan) -> NodeInfo:
            meta = {**self.ssh_config(p.name), "address": p.address, "control_dir": str(self.folder),
                    "console": str(self.folder / "console" / f"{p.name}.log")}  # fmt: skip
            meta["interface"] = guest.configure(VMNode(p.name, p.role, meta), p, plan.network, hosts)
            return NodeInfo(p.name, p.role, p.address, meta)

        with ThreadPoolExecutor(max_workers=max(1, len(plan.vms))) as pool:
            return list(pool.map(one, plan.vms))
