"""Certificates and kubeconfigs read from a control-plane node, checked with ``cryptography``."""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from harness.providers.base import Node

PKI = "/etc/kubernetes/pki"
# leaf certificate -> the CA that must have signed it (kubeadm's layout)
LEAVES = {
    "apiserver.crt": "ca.crt",
    "apiserver-kubelet-client.crt": "ca.crt",
    "front-proxy-client.crt": "front-proxy-ca.crt",
    "etcd/server.crt": "etcd/ca.crt",
    "etcd/peer.crt": "etcd/ca.crt",
    "etcd/healthcheck-client.crt": "etcd/ca.crt",
    "apiserver-etcd-client.crt": "etcd/ca.crt",
}
CAS = ("ca.crt", "front-proxy-ca.crt", "etcd/ca.crt")
KUBECONFIGS = ("admin.conf", "super-admin.conf", "kubelet.conf", "controller-manager.conf", "scheduler.conf")


def read_files(node: Node, paths: list[str]) -> dict[str, str]:
    """Several files in one exec: path -> content ('' when missing)."""
    script = "; ".join(f"echo '=== {p}'; cat {p} 2>/dev/null" for p in paths)
    out, current, files = node.exec("sh", "-c", script).stdout, "", {p: "" for p in paths}
    for line in out.splitlines(keepends=True):
        if line.startswith("=== "):
            current = line[4:].strip()
        elif current:
            files[current] += line
    return files


def load_certs(node: Node) -> dict[str, x509.Certificate]:
    files = read_files(node, [f"{PKI}/{name}" for name in (*CAS, *LEAVES)])
    missing = [p for p, text in files.items() if not text.strip()]
    assert not missing, f"certificates missing on {node.name}: {missing}"
    return {p.removeprefix(f"{PKI}/"): x509.load_pem_x509_certificate(text.encode()) for p, text in files.items()}


def problems_with_chain(certs: dict[str, x509.Certificate], now: dt.datetime | None = None) -> list[str]:
    """Every certificate valid now; every leaf directly issued by its CA; CAs self-signed CA certs."""
    now = now or dt.datetime.now(dt.UTC)
    out = []
    for name, cert in certs.items():
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            out.append(f"{name} is not valid now ({cert.not_valid_before_utc} .. {cert.not_valid_after_utc})")
    for name in CAS:
        if not certs[name].extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
            out.append(f"{name} is not a CA certificate")
        out += issued_by(name, certs[name], name, certs[name])
    for leaf, ca_name in LEAVES.items():
        out += issued_by(leaf, certs[leaf], ca_name, certs[ca_name])
    return out


def issued_by(name: str, cert: x509.Certificate, ca_name: str, ca: x509.Certificate) -> list[str]:
    try:
        cert.verify_directly_issued_by(ca)
    except Exception as exc:  # ValueError, InvalidSignature, TypeError
        return [f"{name} is not signed by {ca_name}: {type(exc).__name__} {exc}"]
    return []


def san(cert: x509.Certificate) -> tuple[set[str], set[str]]:
    ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return set(ext.get_values_for_type(x509.DNSName)), {str(i) for i in ext.get_values_for_type(x509.IPAddress)}


def first_service_ip(service_subnet: str) -> str:
    return str(next(ipaddress.ip_network(service_subnet.split(",")[0]).hosts()))


def apiserver_san_problems(cert: x509.Certificate, node: str, advertise: str, service_subnet: str,
                           domain: str) -> list[str]:  # fmt: skip
    dns, ips = san(cert)
    want_dns = {node, "kubernetes", "kubernetes.default", "kubernetes.default.svc", f"kubernetes.default.svc.{domain}"}
    want_ips = {advertise, first_service_ip(service_subnet)}
    return [f"apiserver.crt lacks SAN {w}" for w in sorted(want_dns - dns)] + [
        f"apiserver.crt lacks IP SAN {w}" for w in sorted(want_ips - ips)
    ]


def kubeconfig_facts(text: str, ca: x509.Certificate) -> dict[str, str]:
    """server, client identity (CN / O) and whether the embedded CA is the cluster CA."""
    doc = yaml.safe_load(text)
    cluster = doc["clusters"][0]["cluster"]
    user = doc["users"][0]["user"]
    facts = {"server": cluster["server"]}
    embedded_ca = x509.load_pem_x509_certificate(base64.b64decode(cluster["certificate-authority-data"]))
    facts["ca_matches"] = str(embedded_ca == ca)
    if "client-certificate-data" in user:
        client = x509.load_pem_x509_certificate(base64.b64decode(user["client-certificate-data"]))
        facts["cn"] = client.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
        facts["o"] = ",".join(str(a.value) for a in client.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME))
        eku = client.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        facts["client_auth"] = str(ExtendedKeyUsageOID.CLIENT_AUTH in eku)
        facts["signed_by_ca"] = str(not issued_by("client", client, "ca", ca))
    else:
        facts["client_file"] = user.get("client-certificate", "")
    return facts


CAKey = ec.EllipticCurvePrivateKey


def self_signed_ca(name: str, days: float = 30, ip: str | None = None) -> tuple[x509.Certificate, CAKey]:
    """A self-signed ECDSA P-256 CA certificate (with ``ip`` as its IP SAN, to serve TLS too) and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    usage = x509.KeyUsage(digital_signature=True, key_encipherment=True, key_cert_sign=True, crl_sign=True,
                          content_commitment=False, data_encipherment=False, key_agreement=False,
                          encipher_only=False, decipher_only=False)  # fmt: skip
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
               .not_valid_after(now + dt.timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
               .add_extension(usage, critical=True))  # fmt: skip
    if ip:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]), False)
    return builder.sign(key, hashes.SHA256()), key


def pem(cert: x509.Certificate, key: CAKey) -> tuple[bytes, bytes]:
    return cert.public_bytes(serialization.Encoding.PEM), key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())  # fmt: skip


def make_ca(folder: Path, name: str = "kube-harness test CA") -> tuple[Path, Path]:
    """A CA of one's own, as an operator makes one for ``spec.ca``: (ca.crt, ca.key 0600) in ``folder``."""
    cert_pem, key_pem = pem(*self_signed_ca(name))
    folder.mkdir(parents=True, exist_ok=True)
    crt, key = folder / "ca.crt", folder / "ca.key"
    crt.write_bytes(cert_pem)
    key.touch(mode=0o600)
    key.write_bytes(key_pem)
    return crt, key
