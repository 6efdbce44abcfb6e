"""The channels over real loopback sockets: e-mail through ``smtplib`` to an aiosmtpd server
(plain, STARTTLS with login, implicit TLS) and SMS through the HTTP provider adapter."""

from __future__ import annotations

import datetime as dt
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from email import message_from_bytes
from email.header import decode_header, make_header
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from notify.channels import DeliveryError, Outgoing
from notify.channels.email import EmailSender, SmtpSettings
from notify.channels.sms import HttpSmsProvider, HttpSmsSettings, RecordingSmsProvider, SmsSender


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 / localhost (the test's own CA)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    import ipaddress

    c = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    d = tmp_path_factory.mktemp("tls")
    (d / "cert.pem").write_bytes(c.public_bytes(serialization.Encoding.PEM))
    (d / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return d / "cert.pem", d / "key.pem"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd hook
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def _auth(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"crm", b"s3cret")
    return AuthResult(success=ok)


@pytest.fixture
def smtp(cert: tuple[Path, Path], request: pytest.FixtureRequest) -> Iterator[tuple[Inbox, SmtpSettings]]:
    mode = request.param
    inbox = Inbox()
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(*cert)
    port = _free_port()
    kwargs: dict[str, Any] = {}
    if mode == "starttls":
        kwargs = dict(tls_context=ctx, require_starttls=True, authenticator=_auth, auth_require_tls=True)
    elif mode == "tls":
        kwargs = dict(ssl_context=ctx)
    controller = Controller(inbox, hostname="127.0.0.1", port=port, server_hostname="localhost", **kwargs)
    controller.start()
    settings = SmtpSettings(
        host="127.0.0.1",
        port=port,
        security=mode,
        sender="crm@example.cn",
        timeout=5,
        cafile=str(cert[0]),
        username="crm" if mode == "starttls" else None,
        password="s3cret" if mode == "starttls" else None,
    )
    try:
        yield inbox, settings
    finally:
        controller.stop()


@pytest.mark.parametrize("smtp", ["none", "starttls", "tls"], indirect=True)
def test_email_reaches_a_real_smtp_server(smtp: tuple[Inbox, SmtpSettings]) -> None:
    inbox, settings = smtp
    ref = EmailSender(settings).send(
        Outgoing("m-1", "wang@example.cn", "上门预约确认", "王总,您好!明天10点上门。")
    )
    [(rcpt, raw)] = inbox.messages
    mail = message_from_bytes(raw)
    assert rcpt == ["wang@example.cn"] and ref == mail["Message-ID"]
    assert str(make_header(decode_header(mail["Subject"]))) == "上门预约确认"
    assert mail["X-CRM-Message-Id"] == "m-1"
    assert "王总,您好!" in mail.get_payload(decode=True).decode("utf-8")


@pytest.mark.parametrize("smtp", ["starttls"], indirect=True)
def test_wrong_smtp_password_and_dead_server_are_delivery_errors(smtp: tuple[Inbox, SmtpSettings]) -> None:
    inbox, settings = smtp
    import dataclasses

    with pytest.raises(DeliveryError) as bad_login:
        EmailSender(dataclasses.replace(settings, password="wrong")).send(Outgoing("m", "a@b.cn", "s", "b"))
    assert not bad_login.value.permanent and not inbox.messages
    with pytest.raises(DeliveryError):
        EmailSender(dataclasses.replace(settings, port=_free_port())).send(Outgoing("m", "a@b.cn", "s", "b"))


class _SmsGateway(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], dict[str, Any]]] = []
    status = 200

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).received.append((dict(self.headers), body))
        answer = json.dumps({"id": "prov-42"}).encode()
        self.send_response(type(self).status)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def gateway() -> Iterator[tuple[str, type[_SmsGateway]]]:
    handler = type("Gateway", (_SmsGateway,), {"received": [], "status": 200})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/sms", handler
    finally:
        server.shutdown()
        server.server_close()


def test_http_sms_provider_posts_one_message_with_token_and_idempotency_key(gateway: Any) -> None:
    url, handler = gateway
    sender = SmsSender(
        HttpSmsProvider(HttpSmsSettings(url=url, token="tok", sign_name="建州公司", timeout=5))
    )
    assert sender.send(Outgoing("m-7", "+8613800138000", "s", "王总,您好!")) == "prov-42"
    [(headers, body)] = handler.received
    assert headers["Authorization"] == "Bearer tok" and headers["Idempotency-Key"] == "m-7"
    assert body == {
        "to": "+8613800138000",
        "text": "王总,您好!",
        "sign_name": "建州公司",
        "client_ref": "m-7",
    }


@pytest.mark.parametrize(("status", "permanent"), [(400, True), (429, False), (503, False)])
def test_http_sms_provider_failures(gateway: Any, status: int, permanent: bool) -> None:
    url, handler = gateway
    handler.status = status
    with pytest.raises(DeliveryError) as exc:
        HttpSmsProvider(HttpSmsSettings(url=url, timeout=5)).send_sms("+86138", "x", "m")
    assert exc.value.permanent is permanent


def test_recording_provider_keeps_what_it_was_given() -> None:
    provider = RecordingSmsProvider()
    assert SmsSender(provider).send(Outgoing("m-1", "+86138", "s", "text")) == "dev-m-1"
    assert provider.sent == [("+86138", "text", "m-1")]
