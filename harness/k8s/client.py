"""kubernetes Python clients bound to one cluster's kubeconfig (the ``k8s_client`` fixture's object),
and one shared client per kubeconfig per process (``client_for``) for the harness's own reads and
writes: a client call costs ~0.003 CPU-s where a ``kubectl`` process costs ~0.07, which is what
bounds ``-n 2`` on 2 cores."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from functools import cached_property

from kubernetes import client, config

from harness.k8s.rest import Rest


@dataclass
class K8s:
    """``k8s.core`` (CoreV1Api), ``k8s.apps`` (AppsV1Api), ``k8s.api`` (the ApiClient)."""

    kubeconfig: str
    api: client.ApiClient = field(init=False)

    def __post_init__(self) -> None:
        self.api = config.new_client_from_config(config_file=self.kubeconfig)

    @cached_property
    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.api)

    @cached_property
    def apps(self) -> client.AppsV1Api:
        return client.AppsV1Api(self.api)

    @cached_property
    def rest(self) -> Rest:
        """Plain-JSON reads and watches (``harness.k8s.rest``)."""
        return Rest(self.api)

    @cached_property
    def rbac(self) -> client.RbacAuthorizationV1Api:
        return client.RbacAuthorizationV1Api(self.api)

    def close(self) -> None:
        self.api.close()


_lock = threading.Lock()
_clients: dict[tuple[str, float], K8s] = {}


def client_for(kubeconfig: str) -> K8s:
    """The process's client for ``kubeconfig`` (made again when the file changes)."""
    key = (os.path.realpath(kubeconfig), os.stat(kubeconfig).st_mtime)
    with _lock:
        if key not in _clients:
            _clients[key] = K8s(kubeconfig)
        return _clients[key]
