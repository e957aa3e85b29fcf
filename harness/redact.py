"""One redaction layer for everything the harness writes or shows: logs, records, JUnit, bundles.

Secrets are replaced by ``[redacted]`` wherever they appear:

- values the harness made and registered (``register``): the bootstrap token, the certificate key,
  with their base64 forms (a Secret's ``data`` holds them so);
- shapes that are secret wherever they come from: bootstrap tokens (``abcdef.0123456789abcdef``:
  the id stays, it is public), ``--token``/``--certificate-key`` arguments, PEM private key blocks,
  ``client-key-data`` and other ``*key*`` fields with base64 values, ``token:`` fields of
  kubeconfigs, service-account JWTs, and the JWS signatures of ``cluster-info``.

Only what is written or displayed passes through here; command results keep the real text for the
code that needs it (an exported kubeconfig must hold its key). Redaction works line by line with a
little state (inside a PEM block), so a stream is redacted as it is written (``Stream``) exactly as a
whole text is (``redact``).
"""

from __future__ import annotations

import base64
import io
import re
import threading
from collections.abc import Iterable
from typing import IO

MARK = "[redacted]"
_B64 = r"[A-Za-z0-9+/]{16,}={0,2}"
_CERT_KEY_FIELD = r"((?:certificateKey|certificate-key|token-secret|Using certificate key)[\"']?\s*[:=]?\s*[\"']?)"
_PATTERNS = [
    # a bootstrap token: the 6-character id is public, the 16-character secret is not
    (re.compile(r"\b([a-z0-9]{6})\.[a-z0-9]{16}\b"), rf"\1.{MARK}"),
    (re.compile(r"(--(?:token|certificate-key|discovery-token|tls-bootstrap-token)[= ]+)([^\s\"'\\,]+)"), rf"\1{MARK}"),
    (re.compile(_CERT_KEY_FIELD + r"([0-9a-fA-F]{32,}|" + _B64 + ")"), rf"\1{MARK}"),
    # kubeconfig and Secret fields: client-key-data, tls.key, ca.key, sa.key, ...; token: fields
    (re.compile(r"([\w.-]*(?:key|Key)(?:-data|Data)?[\"']?\s*[:=]\s*[\"']?)(?!/)(" + _B64 + ")"), rf"\1{MARK}"),
    (re.compile(r"(\btoken[\"']?\s*:\s*[\"']?)([A-Za-z0-9._~+/=-]{16,})"), rf"\1{MARK}"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+"), MARK),  # a JWT
    # cluster-info's detached JWS: "<header>..<signature>"
    (re.compile(r"(jws-kubeconfig-[a-z0-9]+[\"']?\s*[:=]\s*[\"']?)([A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+)"), rf"\1{MARK}"),
]
_PEM_BEGIN = re.compile(r"-----BEGIN ([A-Z0-9 ]*PRIVATE KEY)-----")
_PEM_END = re.compile(r"-----END [A-Z0-9 ]*PRIVATE KEY-----")
_PEM_INLINE = re.compile(r"(-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----).*?(-----END [A-Z0-9 ]*PRIVATE KEY-----)")
_CERT_KEY_NEXT = re.compile(r"Using certificate key:\s*$")  # kubeadm prints the key on the next line
_HEX_LINE = re.compile(r"^\s*[0-9a-f]{64}\s*$")

_lock = threading.Lock()
_values: set[str] = set()


def register(*values: str) -> None:
    """Secrets this process made or read (tokens, keys): redacted wherever they appear, also in base64."""
    with _lock:
        for value in values:
            if value and len(value) >= 8:
                _values.add(value)
                _values.add(base64.b64encode(value.encode()).decode())


def registered() -> frozenset[str]:
    with _lock:
        return frozenset(_values)


def _line(line: str, values: Iterable[str]) -> str:
    for value in values:
        if value in line:
            line = line.replace(value, MARK)
    for pattern, repl in _PATTERNS:
        line = pattern.sub(repl, line)
    return line


class Stream:
    """Redacts text written piece by piece (lines may arrive split); ``close`` flushes the rest."""

    def __init__(self, out: IO[str]) -> None:
        self.out, self.pending, self.in_pem, self.key_next = out, "", False, False

    def write(self, text: str) -> None:
        *lines, self.pending = (self.pending + text).split("\n")
        if lines:
            self.out.write("".join(self._one(line) + "\n" for line in lines))

    def _one(self, line: str) -> str:
        key_next, self.key_next = self.key_next, bool(_CERT_KEY_NEXT.search(line))
        if key_next and _HEX_LINE.match(line):
            return MARK
        if self.in_pem:
            end = _PEM_END.search(line)
            if end:
                self.in_pem = False
                return line[end.start() :]
            return MARK if line.strip() else line
        begin = _PEM_BEGIN.search(line)
        if begin and not _PEM_END.search(line, begin.end()):
            self.in_pem = True
            return _line(line[: begin.end()], registered())
        if begin:  # a whole block on one line (escaped in JSON, say)
            line = _PEM_INLINE.sub(rf"\1{MARK}\2", line)
        return _line(line, registered())

    def close(self) -> None:
        if self.pending:
            self.out.write(self._one(self.pending))
            self.pending = ""


def redact(text: str) -> str:
    """``text`` with every secret replaced by ``[redacted]``."""
    if not text:
        return text
    sink = io.StringIO()
    stream = Stream(sink)
    stream.write(text)
    stream.close()
    return sink.getvalue()
