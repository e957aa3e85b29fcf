"""CPU priority of a cluster's node containers while it comes up (cgroup ``cpu.shares``).

A cluster made ahead of need (the pytest plugin makes the session's other shared clusters while
the first one comes up) is made in the background: its node containers get a small CPU share, so
the cluster tests are waiting for gets the CPU first and the background one takes what is left.
Shares only matter while the CPU is contended; nothing is slowed on an idle machine. The nodes
get Docker's default share back when the cluster is ready, or as soon as ``urgent()`` says a test
is waiting for it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

from docker.errors import APIError, DockerException, NotFound

from harness.providers.base import KIND_CLUSTER_LABEL, LABEL_CLUSTER
from harness.providers.containers import dockerapi

# The smallest share cgroup v1 takes (Docker maps it to cpu.weight 1 on cgroup v2). With 128 (1/8 of
# the default) the background cluster still slowed the one tests wait for: -n 2 over the scenario
# set, 3 alternated pairs on 2 cores, took 97.2 s with 128 and 89.5 s with 2 (each pair 7-8 s
# apart; the default cluster up after 31.7 s instead of 33.5 s), and the background cluster was ready
# as soon (46.0 s, 46.4 s): it lives on idle CPU, which a bring-up leaves plenty of while it waits on
# its own steps, and gets the default share once a test waits for it.
BACKGROUND_SHARES = 2
DEFAULT_SHARES = 1024  # Docker's default


def node_containers(cluster: str) -> list[str]:
    """Ids of the cluster's node containers, made by the harness or by kind."""
    api = dockerapi.client().api
    return sorted({c["Id"] for label in (LABEL_CLUSTER, KIND_CLUSTER_LABEL)
                   for c in api.containers(all=True, filters={"label": f"{label}={cluster}"})})  # fmt: skip


def set_shares(containers: list[str], shares: int) -> list[str]:
    """The containers updated (a container just being made is listed before it can be updated)."""
    done = []
    for cid in containers:
        with suppress(NotFound, APIError):
            dockerapi.client().api.update_container(cid, cpu_shares=shares)
            done.append(cid)
    return done


@contextmanager
def background(cluster: str, urgent: Callable[[], bool] = lambda: False, interval: float = 0.5) -> Iterator[None]:
    """Inside, every node container of ``cluster`` (also those made meanwhile) runs with
    BACKGROUND_SHARES until ``urgent()``; on exit, or once urgent, all get DEFAULT_SHARES."""
    stop = threading.Event()

    def lower() -> None:
        seen: set[str] = set()
        while not urgent():
            with suppress(DockerException):  # a hiccup only delays lowering the next node
                seen.update(set_shares([c for c in node_containers(cluster) if c not in seen], BACKGROUND_SHARES))
            if stop.wait(interval):
                break
        with suppress(DockerException):
            set_shares(node_containers(cluster), DEFAULT_SHARES)

    thread = threading.Thread(target=lower, name=f"kube-harness-background-{cluster}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
