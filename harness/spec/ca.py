"""The ``ca`` section of a ClusterSpec: a certificate authority of your own for the cluster.

``ca: {cert: ca.crt, key: ca.key}``: both files are placed as ``/etc/kubernetes/pki/ca.{crt,key}``
on the first control plane before ``kubeadm init``, which then signs every cluster certificate
(API server, kubelet clients, admin and component kubeconfigs) with it instead of making its own
(kubeadm's "custom certificates"). etcd and the front proxy keep CAs of their own, as kubeadm makes
them. ``check()`` runs before anything is created (the create's validation; not when a stored spec
is read again, when the files may be gone): PEM, a CA, valid now and for the next hour, the key
matching the certificate and private to its owner (0600).

kubeadm's external-CA mode (the certificate without its key) needs every certificate and kubeconfig
made outside kubeadm beforehand; kube-harness does not make them, so a ``cert`` without ``key`` is
refused, saying so.
"""

from __future__ import annotations

import datetime
import stat
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator, model_validator

from harness.errors import UsageError

CA_CERT, CA_KEY = "/etc/kubernetes/pki/ca.crt", "/etc/kubernetes/pki/ca.key"


class OwnCA(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    cert: Path
    key: Path | None = None

    @field_validator("cert", "key")
    @classmethod
    def _anchor(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        """Relative to the spec file, absolute after (valid from any working directory)."""
        base = (info.context or {}).get("base_dir")
        return None if value is None else (Path(base) / value if base is not None else value).absolute()

    @model_validator(mode="after")
    def _usable(self) -> OwnCA:
        if self.key is None:
            raise ValueError(
                f"ca.cert {self.cert} without ca.key is kubeadm's external-CA mode, which needs every certificate "
                "and kubeconfig made outside kubeadm before init; kube-harness does not make them: give ca.key too "
                "(it goes, 0600, to the control planes only)"
            )
        return self

    def check(self) -> None:
        """The files are usable: raises UsageError naming the problem and the fix."""
        assert self.key is not None
        try:
            _check_key(self.key, _load_cert(self.cert))
        except ValueError as exc:
            fix = "give a PEM CA certificate and its unencrypted key, mode 0600"
            raise UsageError(f"spec ca: {exc}", fix=fix) from None

    def read(self) -> tuple[str, str]:
        """The certificate and key PEM text (the key goes only to a 0600 file on a control plane)."""
        assert self.key is not None
        return self.cert.read_text(), self.key.read_text()


def _load_cert(path: Path) -> x509.Certificate:
    try:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise ValueError(f"ca.cert {path}: not a readable PEM certificate ({exc})") from None
    try:
        is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    if not is_ca:
        raise ValueError(f"ca.cert {path}: not a CA certificate (basicConstraints CA:TRUE missing)")
    now = datetime.datetime.now(datetime.UTC)
    if not cert.not_valid_before_utc <= now <= now + datetime.timedelta(hours=1) <= cert.not_valid_after_utc:
        raise ValueError(f"ca.cert {path}: valid {cert.not_valid_before_utc:%Y-%m-%d %H:%M} to "
                         f"{cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC, not for the next hour")  # fmt: skip
    return cert


def _check_key(path: Path, cert: x509.Certificate) -> None:
    try:
        mode = path.stat().st_mode
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise ValueError(f"ca.key {path}: not a readable, unencrypted PEM private key ({exc})") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ValueError(f"ca.key {path}: readable by others (mode {stat.S_IMODE(mode):04o}); chmod 600 {path}")
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    mine = key.public_key().public_bytes(serialization.Encoding.DER, public)
    if mine != cert.public_key().public_bytes(serialization.Encoding.DER, public):
        raise ValueError(f"ca.key {path} is not the key of ca.cert (their public keys differ)")
