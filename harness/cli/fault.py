"""``kube-harness fault``: inject one fault into a cluster's node, hold it, revert it."""

from __future__ import annotations

import contextlib
import time

import click

KINDS = ["stop-node", "kill-node", "pause-node", "restart-node", "stop-kubelet", "stop-containerd",
         "partition", "block-port"]  # fmt: skip


@click.command()
@click.argument("cluster_name", metavar="CLUSTER")
@click.argument("node")
@click.argument("kind", type=click.Choice(KINDS))
@click.option("--for", "duration", type=float, default=0, help="Seconds to hold the fault (default: until Ctrl-C).")
@click.option("--peer", "peers", multiple=True, help="partition: a node to cut off from (repeat; default: all).")
@click.option("--port", type=int, help="block-port: the port to block.")
@click.option("--protocol", type=click.Choice(["tcp", "udp"]), default="tcp", show_default=True)
def fault(cluster_name: str, node: str, kind: str, duration: float, peers: tuple[str, ...], port: int | None,
          protocol: str) -> None:  # fmt: skip
    """Inject KIND into NODE of CLUSTER, hold it, then revert it (also on Ctrl-C).

    \b
    kube-harness fault demo demo-worker2 kill-node --for 60
    kube-harness fault demo demo-worker partition --peer demo-control-plane
    kube-harness fault demo demo-worker block-port --port 10250
    """
    from harness import faults
    from harness.cluster import Cluster
    from harness.errors import UsageError

    cluster = Cluster.load(cluster_name)
    if kind == "block-port" and port is None:
        raise UsageError("block-port needs the port to block", fix="add --port 10250 (for example)")
    made = {
        "stop-node": lambda: faults.stop_node(cluster, node),
        "kill-node": lambda: faults.kill_node(cluster, node),
        "pause-node": lambda: faults.pause_node(cluster, node),
        "restart-node": lambda: faults.restart_node(cluster, node),
        "stop-kubelet": lambda: faults.stop_service(cluster, node, "kubelet"),
        "stop-containerd": lambda: faults.stop_service(cluster, node, "containerd"),
        "partition": lambda: faults.partition(cluster, node, list(peers) or None),
        "block-port": lambda: faults.block_port(cluster, node, port or 0, protocol),
    }[kind]()
    with made as f:
        click.echo(f"{kind} on {node} injected" + (f"; reverting in {duration:g}s" if duration else "; Ctrl-C reverts"))
        with contextlib.suppress(KeyboardInterrupt):
            time.sleep(duration) if duration else _forever()
    click.echo(f"{kind} on {node} reverted after {f.reverted_at - f.injected_at:.1f}s")


def _forever() -> None:
    while True:
        time.sleep(3600)
