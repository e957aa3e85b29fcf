"""harness.redact: every shape of secret the harness meets is replaced; what is public stays."""

from __future__ import annotations

import base64
import io
import json
import sys
from pathlib import Path

import pytest

from harness import redact as redaction
from harness.errors import CommandError
from harness.exec import Cmd
from harness.phases.engine import Context, Engine, Phase, PhaseFailed
from harness.redact import MARK, Stream, redact
from harness.reporting.record import RunRecord

pytestmark = pytest.mark.unit

TOKEN = "k3x9qz.0123456789abcdef"
CERT_KEY = "9f" * 32
KEY_B64 = base64.b64encode(
    b"-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIIt0psecret\n-----END EC PRIVATE KEY-----\n"
).decode()
PEM = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIIt0psecretline1\nAwEHoUQDQgAEsecretline2\n-----END EC PRIVATE KEY-----"
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW0ifQ.c2lnbmF0dXJlc2lnbmF0dXJl"
CA_HASH = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("text", "secret", "kept"),
    [
        (f"kubeadm join cp:6443 --token {TOKEN} --discovery-token-ca-cert-hash {CA_HASH}", TOKEN[7:], CA_HASH),
        (f"[bootstrap-token] Using token: {TOKEN}", TOKEN[7:], "k3x9qz."),
        (f"--certificate-key={CERT_KEY} --v=1", CERT_KEY, "--v=1"),
        (f"certificateKey: {CERT_KEY}", CERT_KEY, "certificateKey: "),
        (f"    client-key-data: {KEY_B64}", KEY_B64, "client-key-data: "),
        (f'{{"client-key-data": "{KEY_B64}"}}', KEY_B64, '"client-key-data": "'),
        (f"  tls.key: {KEY_B64}", KEY_B64, "tls.key: "),
        (f"    token: {JWT}", JWT, "token: "),
        (f"Authorization: Bearer {JWT}", JWT, "Bearer "),
        ("  jws-kubeconfig-k3x9qz: eyJhbGciOiJIUzI1NiIsImtpZCI6ImszeDlxeiJ9..c2lnbmF0dXJl", "..c2lnbmF0dXJl",
         "jws-kubeconfig-k3x9qz: "),
        (f"  token-secret: {base64.b64encode(b'0123456789abcdef').decode()}", "MDEyMzQ1Njc4OWFiY2RlZg==",
         "token-secret: "),
    ],
    ids=["join-argv", "kubeadm-token-line", "cert-key-flag", "cert-key-yaml", "client-key-data", "json-key",
         "tls-key", "kubeconfig-token", "bearer", "jws", "token-secret"],  # ids, not the sample secrets (JUnit)
)  # fmt: skip
def test_secret_shapes_are_redacted(text: str, secret: str, kept: str) -> None:
    out = redact(text)
    assert secret not in out and MARK in out
    assert kept in out


@pytest.mark.parametrize(
    "text",
    [
        f"--discovery-token-ca-cert-hash {CA_HASH}",
        "--key=/etc/kubernetes/pki/etcd/healthcheck-client.key",
        "--tls-private-key-file=/etc/kubernetes/pki/apiserver.key",
        "image: registry.k8s.io/pause:3.10.2@sha256:" + "0a" * 32,
        "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIIJ5\n-----END CERTIFICATE-----",
        "node kh-abc123-control-plane Ready",
    ],
)
def test_public_values_stay(text: str) -> None:
    assert redact(text) == text


def test_pem_private_key_block_keeps_its_frame_only() -> None:
    out = redact(f"before\n{PEM}\nafter\n")
    assert "secretline" not in out
    assert out.startswith("before\n-----BEGIN EC PRIVATE KEY-----\n")
    assert out.endswith("-----END EC PRIVATE KEY-----\nafter\n")


def test_pem_block_escaped_on_one_line_in_json() -> None:
    line = json.dumps({"error": PEM})
    out = redact(line)
    assert "secretline" not in out and json.loads(out)["error"].startswith("-----BEGIN EC PRIVATE KEY-----")


def test_certificate_key_printed_on_the_next_line() -> None:
    out = redact(f"[upload-certs] Using certificate key:\n{CERT_KEY}\n[mark-control-plane] done\n")
    assert CERT_KEY not in out and "[mark-control-plane] done" in out


def test_registered_values_and_their_base64_anywhere() -> None:
    secret = "plain-secret-value-42"
    redaction.register(secret)
    encoded = base64.b64encode(secret.encode()).decode()
    out = redact(f"x={secret} y={encoded}")
    assert secret not in out and encoded not in out


def test_a_stream_written_in_pieces_is_redacted_as_the_whole() -> None:
    text = f"one --token {TOKEN}\n{PEM}\nclient-key-data: {KEY_B64}\nlast line without newline"
    sink = io.StringIO()
    stream = Stream(sink)
    for i in range(0, len(text), 7):
        stream.write(text[i : i + 7])
    stream.close()
    assert sink.getvalue() == redact(text)
    assert TOKEN[7:] not in sink.getvalue() and "secretline" not in sink.getvalue()


def test_json_stays_valid_after_redaction() -> None:
    doc = {"error": f"command failed: kubeadm join x --token {TOKEN}\n--certificate-key {CERT_KEY}", "n": 1}
    out = json.loads(redact(json.dumps(doc, indent=2)))
    assert TOKEN[7:] not in out["error"] and CERT_KEY not in out["error"] and out["n"] == 1


# --- the places that write: commands, the engine, the record ------------------------------------


def test_failed_command_error_is_redacted() -> None:
    script = f"echo 'client-key-data: {KEY_B64}'; exit 3"
    with pytest.raises(CommandError) as info:
        Cmd(["sh", "-c", script, "--token", TOKEN]).run()
    text = str(info.value)
    assert KEY_B64 not in text and TOKEN[7:] not in text and "exit 3" in text


@pytest.mark.parametrize("capture", [False, True])
def test_command_logs_are_redacted_but_the_result_is_not(tmp_path: Path, capture: bool) -> None:
    log = tmp_path / "phase.log"
    res = Cmd([sys.executable, "-c", f"print({PEM!r})", "--certificate-key", CERT_KEY]).run(log=log, capture=capture)
    written = log.read_text()
    assert "secretline" not in written and CERT_KEY not in written and "BEGIN EC PRIVATE KEY" in written
    if capture:
        assert "secretline1" in res.stdout  # the caller gets the real output


def test_streamed_command_still_times_out(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="timed out"):
        Cmd(["sleep", "5"], timeout=0.3).run(log=tmp_path / "x.log")


def test_streamed_command_gets_its_input(tmp_path: Path) -> None:
    log = tmp_path / "cat.log"
    Cmd(["cat"], input="hello\n").run(log=log)
    assert "hello" in log.read_text()


def test_engine_logs_errors_and_record_are_redacted(tmp_path: Path) -> None:
    record = RunRecord("r1", "create", dir=str(tmp_path / "run"), spec={"patch": f"token: {JWT}"})

    def leaky(ctx: Context) -> None:
        ctx.say(f"config:\ncertificateKey: {CERT_KEY}")
        raise RuntimeError(f"join failed: --token {TOKEN}")

    with pytest.raises(PhaseFailed) as info:
        Engine([Phase("leaky", leaky)]).run(Context(record))
    assert TOKEN[7:] not in str(info.value)
    files = [p for p in (tmp_path / "run").rglob("*") if p.is_file()]
    assert files
    for path in files:
        text = path.read_text()
        assert CERT_KEY not in text and TOKEN[7:] not in text and JWT not in text, path
    assert (tmp_path / "run").stat().st_mode & 0o777 == 0o700
