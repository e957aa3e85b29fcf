"""Node faults: power (stop, kill, pause, reboot the node through its provider) and services
(kubelet, containerd) stopped inside the node."""

from __future__ import annotations

from harness.bootstrap.ready import SYSTEMD_UP
from harness.cluster import Cluster
from harness.faults.base import Fault
from harness.providers.base import Node
from harness.wait import wait_for


def _node(cluster: Cluster, node: str) -> Node:
    found = cluster.node(node)  # unknown names raise a UsageError naming the nodes
    if not cluster.node_access:
        raise NotImplementedError(f"cluster {cluster.name} gives no node access: node faults need it")
    return found


def _wait_booted(node: Node, timeout: float = 120) -> None:
    def up() -> bool:
        return node.command("systemctl", "is-system-running").run(check=False).stdout.strip() in SYSTEMD_UP

    wait_for(up, timeout=timeout, interval=0.5, describe=f"systemd on {node.name} after the fault was reverted")


def _power_on(node: Node) -> None:
    node.start()
    _wait_booted(node)


def stop_node(cluster: Cluster, node: str) -> Fault:
    """The node powers off cleanly (a container: ``docker stop``; a VM: ACPI shutdown) and back on."""
    n = _node(cluster, node)
    return Fault("stop-node", node, n.stop, lambda: _power_on(n))


def kill_node(cluster: Cluster, node: str) -> Fault:
    """The node dies at once (``docker kill``, ``virsh destroy``), then boots again."""
    n = _node(cluster, node)
    return Fault("kill-node", node, n.kill, lambda: _power_on(n))


def pause_node(cluster: Cluster, node: str) -> Fault:
    """Every process of the node frozen (cgroup freezer; a VM suspended), then thawed."""
    n = _node(cluster, node)
    return Fault("pause-node", node, n.pause, n.resume)


def restart_node(cluster: Cluster, node: str) -> Fault:
    """A reboot on enter; nothing to revert but waiting for it to come back."""
    n = _node(cluster, node)

    def reboot() -> None:
        n.reboot()
        _wait_booted(n)

    return Fault("restart-node", node, reboot, lambda: None)


def stop_service(cluster: Cluster, node: str, unit: str) -> Fault:
    """``systemctl stop UNIT`` on the node (kubelet, containerd), started again on exit."""
    n = _node(cluster, node)

    def systemctl(verb: str) -> None:
        n.exec("systemctl", verb, unit)

    return Fault(f"stop-{unit}", node, lambda: systemctl("stop"), lambda: systemctl("start"))
