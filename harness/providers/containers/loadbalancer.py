"""The external load balancer of HA clusters: haproxy in TCP mode over the control planes' :6443."""

from __future__ import annotations

import io
import tarfile

from harness.cluster import Cluster, NodeInfo
from harness.images import haproxy
from harness.progress import Progress
from harness.providers.base import LABEL_ROLE, LOAD_BALANCER
from harness.providers.containers import dockerapi
from harness.providers.containers.node import ContainerNode
from harness.providers.containers.nodes import lb_name, network_name


def haproxy_config(backends: list[NodeInfo]) -> str:
    servers = "\n".join(
        f"  server {n.name} {n.ip}:6443 check check-ssl verify none inter 1s fall 2 rise 1" for n in backends
    )
    return f"""global
  log stdout format raw local0
defaults
  mode tcp
  log global
  option dontlognull
  timeout connect 5s
  timeout client 1h
  timeout server 1h
frontend kube-apiserver
  bind *:6443
  default_backend control-planes
backend control-planes
  option httpchk GET /readyz
  http-check expect status 200
{servers}
"""


def _config_tar(text: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        data = text.encode()
        info = tarfile.TarInfo("haproxy.cfg")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def create(cluster: Cluster, control_planes: list[NodeInfo]) -> NodeInfo:
    """Start the load balancer container with a config listing ``control_planes``."""
    image = haproxy.ensure(Progress())
    name = lb_name(cluster.name)
    container = dockerapi.client().containers.create(
        image, name=name, hostname=name, detach=True, network=network_name(cluster.name),
        labels={**cluster.labels(), LABEL_ROLE: LOAD_BALANCER},
    )  # fmt: skip
    container.put_archive(haproxy.CONFIG_DIR, _config_tar(haproxy_config(control_planes)))
    container.start()
    return NodeInfo(name, LOAD_BALANCER, ContainerNode(name, LOAD_BALANCER).ip())
