"""Your own image on a cluster with no registry: an image built just now (a marker of this run in it)
is loaded into every node of a kind-provider and a kubeadm-provider cluster (``kube-harness load``'s
logic), a pod runs it with ``imagePullPolicy: Never`` and prints the marker; loading it again costs
nothing (every node has it at that digest)."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import pytest

from harness.cluster import Cluster
from harness.exec import Cmd
from harness.images import haproxy
from harness.progress import Progress
from harness.wait import wait_for

pytestmark = pytest.mark.kh_cluster


@pytest.fixture(scope="module")
def fresh_image() -> Iterator[tuple[str, str]]:
    """A new image on top of a local one (no registry: FROM an image built here), tagged once."""
    base, marker = haproxy.ensure(Progress(quiet=True)), uuid.uuid4().hex
    tag = f"kh-load-test/app:{marker[:8]}"
    dockerfile = f'FROM {base}\nRUN echo {marker} > /marker\nCMD ["sh", "-c", "cat /marker; sleep 3600"]\n'
    Cmd(["docker", "build", "-q", "-t", tag, "-"], input=dockerfile, timeout=300).run()
    yield tag, marker
    Cmd(["docker", "rmi", "-f", tag]).run(check=False)


def run_pod(cluster: Cluster, image: str) -> str:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "kh-loaded", "namespace": "default"},
           "spec": {"containers": [{"name": "app", "image": image, "imagePullPolicy": "Never"}],
                    "terminationGracePeriodSeconds": 0}}  # fmt: skip
    cluster.kubectl("apply", "-f", "-", input=json.dumps(pod))
    try:
        cluster.kubectl("wait", "pod/kh-loaded", "--for=condition=Ready", "--timeout=120s", timeout=150)
        return wait_for(lambda: cluster.kubectl("logs", "kh-loaded").strip() or None, timeout=30,
                        describe="the loaded image's output")  # fmt: skip
    finally:
        cluster.kubectl("delete", "pod", "kh-loaded", "--wait=false", check=False)


@pytest.mark.parametrize("provider", ["kind", "kubeadm"])
def test_a_fresh_image_runs_with_pull_policy_never(provider: str, fresh_image: tuple[str, str],
                                                   request: pytest.FixtureRequest,
                                                   make_cluster: Callable[..., AbstractContextManager[Cluster]],
                                                   ) -> None:  # fmt: skip
    tag, marker = fresh_image
    made = (make_cluster("kubeadm", control_planes=1, workers=1) if provider == "kubeadm"
            else contextlib.nullcontext(request.getfixturevalue("kind_cluster")))  # fmt: skip
    with made as c:
        counts = c.load_image(tag)
        assert set(counts) == {n.name for n in c.all_nodes} and set(counts.values()) == {1}
        assert run_pod(c, tag) == marker
        assert set(c.load_image(tag).values()) == {0}, "a second load found every node already had it"
