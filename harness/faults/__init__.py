"""Fault injection: context managers that break one thing on a node and always put it back.

    with faults.stop_node(cluster, "demo-worker2") as f:   # docker stop ... docker start
        ...
    f.injected_at, f.reverted_at                            # wall-clock times, also in f.record()

Node power faults go through the node's provider (``Node.stop/kill/pause/resume/start/reboot``:
the container engine, or libvirt for a VM); service and network faults run inside the node
(systemctl, iptables in the node's network namespace), so they work on any provider with node access.
"""

from harness.faults.base import Fault
from harness.faults.network import block_port, partition
from harness.faults.node import kill_node, pause_node, restart_node, stop_node, stop_service

__all__ = ["Fault", "block_port", "kill_node", "partition", "pause_node", "restart_node", "stop_node", "stop_service"]
