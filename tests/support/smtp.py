"""The office's mail server, as the tests run it: aiosmtpd on 127.0.0.1 that demands
STARTTLS (a throwaway certificate for 127.0.0.1, trusted through PULIH_SMTP_CA_FILE) and a
login, and keeps every message it accepts, as parsed e-mail, for the test to read."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bot.demo.lab.loopback import free_port

USER, PASSWORD = "pulih", "sandi-smtp-uji"


@dataclass
class Mailbox:
    """What the server accepted, in order; `on_data` runs as a message arrives, before the
    server answers it (a test kills the bot there)."""

    messages: list[EmailMessage] = field(default_factory=list)
    on_data: Callable[[EmailMessage], None] | None = None
    refused: set[str] = field(default_factory=set)  # addresses answered 550
    lock: threading.Lock = field(default_factory=threading.Lock)

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address in self.refused:
            return "550 5.1.1 Alamat tidak dikenal"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        if self.on_data is not None:
            self.on_data(message)
        with self.lock:
            self.messages.append(message)
        return "250 OK diterima"


@dataclass(frozen=True)
class MailServer:
    mailbox: Mailbox
    port: int
    ca_file: Path
    password_file: Path

    def env(self) -> dict[str, str]:
        """The bot's settings for this server."""
        return {"PULIH_SMTP_HOST": f"127.0.0.1:{self.port}", "PULIH_SMTP_USER": USER,
                "PULIH_SMTP_PASSWORD_FILE": str(self.password_file),
                "PULIH_SMTP_CA_FILE": str(self.ca_file), "PULIH_SMTP_TLS": "starttls",
                "PULIH_MAIL_FROM": "pulih@diskominfo.kukarkab.go.id"}


def _certificate(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "smtp.crt", folder / "smtp.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def _login(server: Any, session: Any, envelope: Any, mechanism: str,
           data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and data.login.decode() == USER and \
        data.password.decode() == PASSWORD
    return AuthResult(success=ok, handled=False)


@contextmanager
def mail_server(folder: Path) -> Iterator[MailServer]:
    """An SMTP server on 127.0.0.1 for the block: STARTTLS and a login required."""
    folder.mkdir(parents=True, exist_ok=True)
    cert_file, key_file = _certificate(folder)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert_file), str(key_file))
    password = folder / "smtp-password"
    password.write_text(PASSWORD + "\n")
    password.chmod(0o600)
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, tls_context=context,
                            require_starttls=True, auth_required=True,
                            auth_require_tls=True, authenticator=_login)
    controller.start()
    try:
        yield MailServer(mailbox, port, cert_file, password)
    finally:
        controller.stop()
