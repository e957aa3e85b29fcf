"""The API layer's pure logic: resource paths, the rollout rules, pod waits' messages, watch stream
parsing and the watch mirror (fed events by hand, no API server)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.errors import HarnessError, WaitTimeout
from harness.k8s import checks
from harness.k8s.rest import ApiError, Rest, path_of
from harness.k8s.watch import Mirror

pytestmark = pytest.mark.unit


def test_paths_of_namespaced_cluster_scoped_and_aliased_resources() -> None:
    assert path_of("pods", namespace="kube-system") == "/api/v1/namespaces/kube-system/pods"
    assert path_of("pods") == "/api/v1/pods"  # all namespaces
    assert path_of("node", "w1", namespace="ignored") == "/api/v1/nodes/w1"
    assert path_of("deploy", "coredns", "kube-system") == "/apis/apps/v1/namespaces/kube-system/deployments/coredns"
    assert path_of("csr") == "/apis/certificates.k8s.io/v1/certificatesigningrequests"
    with pytest.raises(HarnessError, match="unknown resource 'widgets'; known: certificatesigningrequests"):
        path_of("widgets")


def _deployment(**status: int) -> dict[str, Any]:
    return {"kind": "Deployment", "metadata": {"generation": 2}, "spec": {"replicas": 2},
            "status": {"observedGeneration": 2, **status}}  # fmt: skip


def test_rollout_rules_follow_kubectl_rollout_status() -> None:
    assert checks.rollout(_deployment(updatedReplicas=2, replicas=2, availableReplicas=2)) == ""
    assert checks.rollout(_deployment(updatedReplicas=2, replicas=3, availableReplicas=2)) == "total 3 of 2"
    assert (
        checks.rollout(_deployment(updatedReplicas=1, replicas=2, availableReplicas=1)) == "updated 1, available 1 of 2"
    )
    stale = _deployment(updatedReplicas=2, replicas=2, availableReplicas=2)
    stale["status"]["observedGeneration"] = 1
    assert checks.rollout(stale) == "the controller has not seen the latest spec"
    ds = {"kind": "DaemonSet", "metadata": {}, "spec": {},
          "status": {"desiredNumberScheduled": 3, "updatedNumberScheduled": 3, "numberAvailable": 2}}  # fmt: skip
    assert checks.rollout(ds) == "available 2 of 3"
    sts = {"kind": "StatefulSet", "metadata": {}, "spec": {"replicas": 1}, "status": {"readyReplicas": 1}}
    assert checks.rollout(sts) == "updated 0 of 1"


class FakeKube:
    def __init__(self, pods: list[dict[str, Any]]) -> None:
        self.pods = pods

    def kubectl(self, *args: str, input: str | None = None, check: bool = True) -> str:
        raise AssertionError("no kubectl in checks")

    def get(self, kind: str, name: str | None = None, namespace: str | None = None, labels: str = "",
            fields: str = "") -> dict[str, Any]:  # fmt: skip
        return {"items": self.pods}


def _pod(name: str, ready: bool, waiting: str = "") -> dict[str, Any]:
    status: dict[str, Any] = {"phase": "Running" if ready else "Pending",
                              "conditions": [{"type": "Ready", "status": str(ready)}]}  # fmt: skip
    if waiting:
        status["containerStatuses"] = [{"state": {"waiting": {"reason": waiting}}}]
    return {"metadata": {"name": name}, "spec": {"nodeName": "w1"}, "status": status}


def test_pod_wait_names_what_it_last_saw() -> None:
    kube = FakeKube([_pod("a", True), _pod("b", False, "ErrImageNeverPull")])
    with pytest.raises(WaitTimeout) as err:
        checks.wait_pods_ready(kube, "ns", names=("a", "b", "c"), timeout=0.3, interval=0.1)
    assert "pods a, b, c in ns Ready" in str(err.value)
    assert "b on w1: Pending (ErrImageNeverPull); c: not created" in str(err.value)
    ready = FakeKube([_pod("a", True)])
    assert [p["metadata"]["name"] for p in checks.wait_pods_ready(ready, "ns", labels="x=y", timeout=1)] == ["a"]


class FakeResponse:
    def __init__(self, chunks: list[bytes], status: int = 200) -> None:
        self.chunks, self.status, self.released = chunks, status, False
        self.data = b"".join(chunks)

    def stream(self, size: int, decode_content: bool = True) -> list[bytes]:
        return self.chunks

    def release_conn(self) -> None:
        self.released = True


class StreamRest(Rest):
    def __init__(self, response: FakeResponse) -> None:
        self.response = response

    def _open(self, path: str, query: dict[str, str], timeout: Any) -> Any:
        return self.response


def test_watch_yields_whole_events_across_chunk_boundaries() -> None:
    lines = [
        json.dumps({"type": t, "object": {"metadata": {"name": n}}}) for t, n in (("ADDED", "a"), ("DELETED", "a"))
    ]
    blob = ("\n".join(lines) + "\n").encode()
    response = FakeResponse([blob[:7], blob[7:50], blob[50:]])
    events = list(StreamRest(response).watch("pods", "ns"))
    assert [(e.type, e.obj["metadata"]["name"]) for e in events] == [("ADDED", "a"), ("DELETED", "a")]
    assert response.released
    with pytest.raises(ApiError, match="HTTP 403"):
        list(StreamRest(FakeResponse([b"forbidden"], status=403)).watch("pods"))


def _obj(kind: str, name: str, rv: str, **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "metadata": {"name": name, "namespace": "ns", "resourceVersion": rv}, **extra}


class ListRest(Rest):
    """Lists what it was given; its watches wait for the mirror to stop."""

    def __init__(self, lists: dict[str, list[dict[str, Any]]]) -> None:
        self.lists = lists
        self.mirror: Mirror | None = None

    def get(self, kind: str, name: str | None = None, namespace: str | None = None, labels: str = "",
            fields: str = "", timeout: float = 15) -> dict[str, Any]:  # fmt: skip
        return {"metadata": {"resourceVersion": "1"}, "items": self.lists[kind]}

    def watch(self, *args: Any, **kwargs: Any) -> Any:
        assert self.mirror is not None
        self.mirror._stop.wait(5)
        return iter(())


def test_mirror_reports_once_every_list_is_in() -> None:
    """A callback checking invariants across lists (a DaemonSet pod per node) never sees nodes
    without the pods listed yet."""
    rest = ListRest({"nodes": [_obj("Node", "w1", "1")], "pods": [_obj("Pod", "ds-1", "1")]})
    seen: list[list[str]] = []
    rest.mirror = Mirror(rest, ("nodes", None, ""), ("pods", "ns", ""),
                         on_event=lambda items, at: seen.append(sorted(i["kind"] for i in items)))  # fmt: skip
    with rest.mirror:
        pass
    assert seen == [["Node", "Pod"]]


def _names(items: list[dict[str, Any]]) -> list[str]:
    return [i["metadata"]["name"] for i in items]


def _synced(mirror: Mirror) -> Mirror:
    mirror._synced = True
    return mirror


def test_mirror_applies_events_and_reports_each_with_its_time() -> None:
    seen: list[tuple[list[str], float]] = []
    mirror = _synced(Mirror(Rest.__new__(Rest), on_event=lambda items, at: seen.append((_names(items), at))))
    assert mirror._apply("pods", "ADDED", _obj("Pod", "a", "5"), 10.0, "1") == "5"
    assert mirror._apply("pods", "ADDED", _obj("Pod", "b", "6"), 11.0, "5") == "6"
    assert mirror._apply("pods", "DELETED", _obj("Pod", "a", "7"), 12.0, "6") == "7"
    assert mirror._apply("pods", "BOOKMARK", {"metadata": {"resourceVersion": "9"}}, 13.0, "7") == "9"
    assert mirror._apply("pods", "ERROR", {"code": 410}, 14.0, "9") == "", "410 Gone: list again"
    assert seen == [(["a"], 10.0), (["a", "b"], 11.0), (["b"], 12.0)]
    assert [i["metadata"]["name"] for i in mirror.items()] == ["b"]


def test_a_failing_callback_stops_the_mirror_reporting_and_is_kept() -> None:
    calls = []

    def broken(items: list[dict[str, Any]], at: float) -> None:
        calls.append(at)
        raise AssertionError("StatefulSet pod started twice")

    mirror = _synced(Mirror(Rest.__new__(Rest), on_event=broken))
    mirror._apply("pods", "ADDED", _obj("Pod", "a", "1"), 1.0, "")
    mirror._apply("pods", "ADDED", _obj("Pod", "b", "2"), 2.0, "1")
    assert calls == [1.0] and isinstance(mirror.failure, AssertionError)


def test_exec_status_gives_the_exit_code_or_why_the_command_never_ran() -> None:
    from harness.k8s.podexec import NOT_RUN, exit_code

    assert exit_code("") == (0, "")
    assert exit_code(json.dumps({"status": "Success"})) == (0, "")
    failed = {"status": "Failure", "reason": "NonZeroExitCode",
              "details": {"causes": [{"reason": "ExitCode", "message": "3"}]}}  # fmt: skip
    assert exit_code(json.dumps(failed)) == (3, "")
    never = {"status": "Failure", "message": 'OCI runtime exec failed: "nosuchbin": executable file not found'}
    assert exit_code(json.dumps(never)) == (NOT_RUN, never["message"])
