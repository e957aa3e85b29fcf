"""Reads of the Kubernetes API as plain JSON dicts (what ``kubectl get -o json`` prints), through the
kubernetes client's authenticated connection pool: no models, no ``kubectl`` process per read.

``get("pods", namespace="kube-system", labels="k8s-app=kube-dns")`` lists (items carry their
``kind``, as kubectl's do); ``get("node", "kh-worker")`` reads one; ``watch(...)`` yields watch events
as they arrive, each with the time it was received.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from harness.errors import HarnessError

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

CORE, APPS = "/api/v1", "/apis/apps/v1"
# resource -> (group-version path, namespaced, kind)
RESOURCES: dict[str, tuple[str, bool, str]] = {
    "nodes": (CORE, False, "Node"),
    "namespaces": (CORE, False, "Namespace"),
    "pods": (CORE, True, "Pod"),
    "services": (CORE, True, "Service"),
    "endpoints": (CORE, True, "Endpoints"),
    "configmaps": (CORE, True, "ConfigMap"),
    "secrets": (CORE, True, "Secret"),
    "events": (CORE, True, "Event"),
    "serviceaccounts": (CORE, True, "ServiceAccount"),
    "deployments": (APPS, True, "Deployment"),
    "daemonsets": (APPS, True, "DaemonSet"),
    "statefulsets": (APPS, True, "StatefulSet"),
    "replicasets": (APPS, True, "ReplicaSet"),
    "endpointslices": ("/apis/discovery.k8s.io/v1", True, "EndpointSlice"),
    "certificatesigningrequests": ("/apis/certificates.k8s.io/v1", False, "CertificateSigningRequest"),
    "clusterrolebindings": ("/apis/rbac.authorization.k8s.io/v1", False, "ClusterRoleBinding"),
    "leases": ("/apis/coordination.k8s.io/v1", True, "Lease"),
}
ALIASES = {
    "node": "nodes", "namespace": "namespaces", "ns": "namespaces", "pod": "pods", "service": "services",
    "svc": "services", "configmap": "configmaps", "cm": "configmaps", "secret": "secrets", "event": "events",
    "deployment": "deployments", "deploy": "deployments", "daemonset": "daemonsets", "ds": "daemonsets",
    "statefulset": "statefulsets", "sts": "statefulsets", "replicaset": "replicasets",
    "endpointslice": "endpointslices", "csr": "certificatesigningrequests", "lease": "leases",
    "clusterrolebinding": "clusterrolebindings", "serviceaccount": "serviceaccounts", "sa": "serviceaccounts",
}  # fmt: skip


class ApiError(HarnessError):
    """The API server answered a read with an error status."""

    def __init__(self, status: int, what: str, body: str) -> None:
        self.status = status
        super().__init__(f"GET {what}: HTTP {status}: {body[:300]}")


@dataclass(frozen=True)
class Event:
    type: str  # ADDED, MODIFIED, DELETED, BOOKMARK
    obj: dict[str, Any]
    at: float  # time.time() when it was received


def resource(name: str) -> tuple[str, str, bool, str]:
    """(plural, group-version path, namespaced, kind) of a resource name or alias."""
    plural = ALIASES.get(name.lower(), name.lower())
    if plural not in RESOURCES:
        raise HarnessError(f"unknown resource {name!r}; known: {', '.join(sorted(RESOURCES))}")
    return (plural, *RESOURCES[plural])


def path_of(name: str, obj: str | None = None, namespace: str | None = None) -> str:
    """The REST path of a resource list (all namespaces when ``namespace`` is None) or one object."""
    plural, base, namespaced, _ = resource(name)
    if namespaced and namespace:
        base = f"{base}/namespaces/{namespace}"
    return f"{base}/{plural}" + (f"/{obj}" if obj else "")


class Rest:
    def __init__(self, api: ApiClient) -> None:
        self.api = api

    def _open(self, path: str, query: dict[str, str], timeout: float | tuple[float, float]) -> Any:
        url = self.api.configuration.host + path + ("?" + urlencode(query) if query else "")
        headers = {"Accept": "application/json"}
        self.api.update_params_for_auth(headers, [], ["BearerToken"], path, "GET", None)
        return self.api.call_api("GET", url, header_params=headers, _request_timeout=timeout).response

    def raw(self, path: str, timeout: float = 15, **query: str) -> str:
        resp = self._open(path, query, timeout)
        body = resp.data.decode(errors="replace")
        if resp.status >= 300:
            raise ApiError(resp.status, path, body)
        return str(body)

    def get(self, kind: str, name: str | None = None, namespace: str | None = None, labels: str = "",
            fields: str = "", timeout: float = 15) -> dict[str, Any]:  # fmt: skip
        """One object, or a list whose items carry ``kind`` and ``apiVersion`` as kubectl's do."""
        query = {k: v for k, v in (("labelSelector", labels), ("fieldSelector", fields)) if v}
        doc: dict[str, Any] = json.loads(self.raw(path_of(kind, name, namespace), timeout, **query))
        _, base, _, kind_name = resource(kind)
        for item in doc.get("items", []):
            item.setdefault("kind", kind_name)
            item.setdefault("apiVersion", base.removeprefix("/api/").removeprefix("/apis/"))
        return doc

    def find(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        """One object, or None when it does not exist."""
        try:
            return self.get(kind, name, namespace)
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    def watch(self, kind: str, namespace: str | None = None, labels: str = "", since: str = "",
              timeout: float = 300) -> Iterator[Event]:  # fmt: skip
        """Watch events from resourceVersion ``since`` (or the current state first, as ADDED events)
        until the server ends the watch after about ``timeout`` seconds."""
        query = {"watch": "true", "allowWatchBookmarks": "true", "timeoutSeconds": str(int(timeout))}
        query.update({k: v for k, v in (("labelSelector", labels), ("resourceVersion", since)) if v})
        resp = self._open(path_of(kind, None, namespace), query, (10, timeout + 30))
        try:
            if resp.status >= 300:
                raise ApiError(resp.status, path_of(kind, None, namespace), resp.data.decode(errors="replace"))
            buf = b""
            for chunk in resp.stream(4096, decode_content=True):
                buf += chunk
                *lines, buf = buf.split(b"\n")
                for line in filter(None, lines):
                    doc = json.loads(line)
                    yield Event(doc["type"], doc["object"], time.time())
        finally:
            resp.release_conn()
