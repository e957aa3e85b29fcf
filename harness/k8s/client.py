"""The ``k8s`` fixture's object: kubernetes Python clients bound to one cluster's kubeconfig."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from kubernetes import client, config


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
    def rbac(self) -> client.RbacAuthorizationV1Api:
        return client.RbacAuthorizationV1Api(self.api)

    def close(self) -> None:
        self.api.close()
