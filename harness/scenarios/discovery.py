"""How a joining node learns the cluster CA, in each of kubeadm's discovery modes, and a
man-in-the-middle ``cluster-info`` the CA hash pin must refuse.

- ``token``: the token-authenticated ``cluster-info`` fetch, the CA pinned by ``caCertHashes``.
- ``file``: a kubeconfig holding the cluster's address and CA copied to the node beforehand; the
  token only authenticates the TLS bootstrap (``tlsBootstrapToken``).
- ``unsafe``: the token fetch with ``unsafeSkipCAVerification``: the JWS proves the sender knows
  the token, nothing proves it is the cluster.

``FakeClusterInfo`` is an HTTPS server on the host with a CA of its own that answers the one request
discovery makes with a ``cluster-info`` signed with the real token (the attacker knows the token, the
case the pin exists for).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.server
import json
import ssl
import tempfile
import threading
from pathlib import Path
from typing import Any

import yaml

from harness.bootstrap import config
from harness.cluster import Cluster
from harness.exec import Result
from harness.providers.base import Node
from harness.scenarios import pki

# A spare node joins tainted, so other tests' pods are not scheduled onto a node about to go away.
SPARE_TAINT = "kube-harness.io/spare"
DISCOVERY_FILE = config.DISCOVERY_FILE
JOIN_CONFIG = "/kind/join.yaml"
CLUSTER_INFO = "/api/v1/namespaces/kube-public/configmaps/cluster-info"


def discovery(mode: str, endpoint: str, token: str, ca_hash: str = "") -> dict[str, Any]:
    """The ``discovery`` section of a JoinConfiguration for ``mode`` (token, file or unsafe)."""
    if mode == "file":
        return {"file": {"kubeConfigPath": DISCOVERY_FILE}, "tlsBootstrapToken": token}
    pin = {"unsafeSkipCAVerification": True} if mode == "unsafe" else {"caCertHashes": [ca_hash]}
    return {"bootstrapToken": {"apiServerEndpoint": endpoint, "token": token, **pin}}


def join_config(section: dict[str, Any], timeout: str = "20s", tls_timeout: str = "2m") -> str:
    """A JoinConfiguration with a short discovery timeout; the node registers tainted as a spare."""
    return yaml.safe_dump({
        "apiVersion": "kubeadm.k8s.io/v1beta4", "kind": "JoinConfiguration",
        "discovery": section,
        "nodeRegistration": {"criSocket": "unix:///run/containerd/containerd.sock", "ignorePreflightErrors": ["all"],
                             "taints": [{"key": SPARE_TAINT, "effect": "NoSchedule"}]},
        "timeouts": {"discovery": timeout, "tlsBootstrap": tls_timeout},
    }, sort_keys=False)  # fmt: skip


def discovery_kubeconfig(cluster: Cluster, endpoint: str) -> str:
    """What file discovery reads (``config.discovery_kubeconfig``), with the admin kubeconfig's CA."""
    admin = yaml.safe_load(Path(cluster.kubeconfig).read_text())
    return config.discovery_kubeconfig(endpoint, admin["clusters"][0]["cluster"]["certificate-authority-data"])


def join(node: Node, section: dict[str, Any], timeout: str = "20s", tls_timeout: str = "2m") -> Result:
    """``kubeadm join --config`` on ``node`` (the config holds the token: written 0600)."""
    node.write_file(JOIN_CONFIG, join_config(section, timeout, tls_timeout), mode="0600")
    return node.command("kubeadm", "join", "--config", JOIN_CONFIG, "--v=5", timeout=240).run(check=False)


def sign_jws(content: str, token_id: str, token_secret: str) -> str:
    """The detached JWS the bootstrap signer puts in cluster-info (HS256, ``kid`` the token id)."""
    enc = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()  # noqa: E731
    header = enc(json.dumps({"alg": "HS256", "kid": token_id}, separators=(",", ":")).encode())
    mac = hmac.new(token_secret.encode(), f"{header}.{enc(content.encode())}".encode(), hashlib.sha256).digest()
    return f"{header}..{enc(mac)}"


def host_address(node: Node) -> str:
    """The host as the node reaches it: the node's default gateway (the bridge or libvirt network)."""
    route = node.exec("ip", "-4", "route", "show", "default").stdout.split()
    return route[route.index("via") + 1]


class FakeClusterInfo:
    """``with FakeClusterInfo(address, token) as fake:`` an HTTPS server at ``fake.endpoint`` whose
    ``cluster-info`` names itself, with a CA of its own, signed with ``token``; ``fake.requests``
    lists the paths it was asked for; every other request gets 403."""

    def __init__(self, address: str, token: str) -> None:
        self.address, self.token = address, token
        self.requests: list[str] = []
        self.cert, self._key = pki.pem(*pki.self_signed_ca("kube-harness man in the middle", days=1 / 24, ip=address))

    def __enter__(self) -> FakeClusterInfo:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with tempfile.TemporaryDirectory() as tmp:  # the key exists on disk (0600) only while it loads
            cert, key = Path(tmp) / "tls.crt", Path(tmp) / "tls.key"
            cert.write_bytes(self.cert)
            key.touch(mode=0o600)
            key.write_bytes(self._key)
            ctx.load_cert_chain(cert, key)
        self.server = http.server.ThreadingHTTPServer(("0.0.0.0", 0), self._handler())
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.endpoint = f"{self.address}:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def cluster_info(self) -> dict[str, Any]:
        kubeconfig = yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "clusters": [{"name": "", "cluster": {
            "server": f"https://{self.endpoint}",
            "certificate-authority-data": base64.b64encode(self.cert).decode()}}]})  # fmt: skip
        token_id, secret = self.token.split(".")
        data = {"kubeconfig": kubeconfig, f"jws-kubeconfig-{token_id}": sign_jws(kubeconfig, token_id, secret)}
        meta = {"name": "cluster-info", "namespace": "kube-public"}
        return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data}

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake.requests.append(self.path)
                found = self.path.split("?")[0] == CLUSTER_INFO
                body = json.dumps(fake.cluster_info() if found else {"kind": "Status", "code": 403}).encode()
                self.send_response(200 if found else 403)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET

            def log_message(self, format: str, *args: Any) -> None:  # the token never reaches a log
                pass

        return Handler
