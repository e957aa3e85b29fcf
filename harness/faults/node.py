"""Node faults: power (stop, kill, pause, restart the node container) and services (kubelet,
containerd) stopped inside the node."""

from __future__ import annotations

from harness.cluster import Cluster
from harness.exec import Cmd
from harness.faults.base import Fault
from harness.providers.kubeadm.nodes import SYSTEMD_UP
from harness.wait import wait_for


def _docker(*argv: str) -> None:
    Cmd(["docker", *argv], timeout=120).run()


def _require_access(cluster: Cluster, node: str) -> None:
    cluster.node(node)  # unknown names raise a UsageError naming the nodes
    if not cluster.node_access:
        raise NotImplementedError(f"cluster {cluster.name} gives no node access: node faults need it")


def _wait_booted(cluster: Cluster, node: str) -> None:
    def up() -> bool:
        res = cluster.node(node).command("systemctl", "is-system-running").run(check=False)
        return res.stdout.strip() in SYSTEMD_UP

    wait_for(up, timeout=120, interval=0.5, describe=f"systemd on {node} after the fault was reverted")


def stop_node(cluster: Cluster, node: str) -> Fault:
    """The node powers off (``docker stop``: SIGRTMIN+3 to systemd, a clean shutdown) and back on."""
    _require_access(cluster, node)
    return _power_off("stop-node", cluster, node, ["stop", "-t", "5", node])


def kill_node(cluster: Cluster, node: str) -> Fault:
    """The node dies at once (``docker kill``), then boots again."""
    _require_access(cluster, node)
    return _power_off("kill-node", cluster, node, ["kill", node])


def _power_off(name: str, cluster: Cluster, node: str, argv: list[str]) -> Fault:
    """Power the node off, pinning its addresses so it boots with the same ones (node IPs are in
    its certificates and kubelet flags; Docker would otherwise hand out the next free one)."""
    addresses: dict[str, str] = {}

    def inject() -> None:
        addresses.update(_addresses(node))
        _docker(*argv)
        for network, ip in addresses.items():
            _docker("network", "disconnect", "-f", network, node)
            _docker("network", "connect", "--ip", ip, network, node)

    return Fault(name, node, inject, lambda: _start(cluster, node))


def _addresses(node: str) -> dict[str, str]:
    import json

    out = Cmd(["docker", "inspect", "-f", "{{json .NetworkSettings.Networks}}", node]).run().stdout
    return {net: v["IPAddress"] for net, v in json.loads(out).items() if v.get("IPAddress")}


def pause_node(cluster: Cluster, node: str) -> Fault:
    """Every process of the node frozen (cgroup freezer), then thawed."""
    _require_access(cluster, node)
    return Fault("pause-node", node, lambda: _docker("pause", node), lambda: _unpause(node))


def restart_node(cluster: Cluster, node: str) -> Fault:
    """A reboot on enter; nothing to revert but waiting for it to come back."""
    _require_access(cluster, node)

    def reboot() -> None:  # stop (addresses pinned) and start, rather than `docker restart`
        _power_off("restart-node", cluster, node, ["stop", "-t", "5", node]).inject()
        _start(cluster, node)

    return Fault("restart-node", node, reboot, lambda: None)


def _start(cluster: Cluster, node: str) -> None:
    state = Cmd(["docker", "inspect", "-f", "{{.State.Running}}", node]).run(check=False).stdout.strip()
    if state != "true":
        _docker("start", node)
    _wait_booted(cluster, node)


def _unpause(node: str) -> None:
    if Cmd(["docker", "inspect", "-f", "{{.State.Paused}}", node]).run(check=False).stdout.strip() == "true":
        _docker("unpause", node)


def stop_service(cluster: Cluster, node: str, unit: str) -> Fault:
    """``systemctl stop UNIT`` on the node (kubelet, containerd), started again on exit."""
    _require_access(cluster, node)
    n = cluster.node(node)

    def systemctl(verb: str) -> None:
        n.exec("systemctl", verb, unit)

    return Fault(f"stop-{unit}", node, lambda: systemctl("stop"), lambda: systemctl("start"))
