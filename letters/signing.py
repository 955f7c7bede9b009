"""Electronic signatures on finished PDFs.

Signing is the last thing done to a document's bytes: the page is assembled, then
signed, then its hash is recorded. `DocumentSigner` is the seam for other services: the
legally valid signature of an official comes from BSrE (BSSN), which finds the anchor
character printed at each signature spot; a BSrE client implements the same protocol.
`Pkcs12Signer` signs PAdES (ETSI.CAdES.detached) with the office's own certificate.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Protocol

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers


class SigningError(Exception):
    """The document could not be signed; the message is for people (Indonesian)."""


@dataclass(frozen=True)
class SignRequest:
    field_name: str  # one field per signer, e.g. "Pengesah"
    signer_name: str
    reason: str
    location: str


class DocumentSigner(Protocol):
    def sign(self, pdf: bytes, request: SignRequest) -> bytes:
        """The signed PDF: `pdf` with a signature appended (incremental update)."""


class Pkcs12Signer:
    """Signs with a PKCS#12 file configured by the office."""

    def __init__(self, path: Path, passphrase: bytes) -> None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SigningError(f"Sertifikat {path} tidak dapat dibaca ({exc.strerror}).") from exc
        try:
            key, cert, _others = pkcs12.load_key_and_certificates(data, passphrase)
        except ValueError as exc:
            raise SigningError(f"Sertifikat {path} tidak dapat dibuka: kata sandi salah "
                               "atau berkas bukan PKCS#12.") from exc
        if key is None or cert is None:
            raise SigningError(f"Sertifikat {path} tidak berisi kunci dan sertifikat.")
        self._signer = signers.SimpleSigner.load_pkcs12(  # type: ignore[no-untyped-call]
            str(path), passphrase=passphrase)
        if self._signer is None:
            raise SigningError(f"Sertifikat {path} tidak dapat dipakai untuk menandatangani.")
        self.certificate = cert

    def sign(self, pdf: bytes, request: SignRequest) -> bytes:
        meta = signers.PdfSignatureMetadata(
            field_name=request.field_name, subfilter=fields.SigSeedSubFilter.PADES,
            reason=request.reason, location=request.location, name=request.signer_name,
            md_algorithm="sha256")
        writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
        out: BytesIO = signers.sign_pdf(writer, meta, signer=self._signer)
        return out.getvalue()


def make_dev_certificate(p12_path: Path, passphrase_path: Path, common_name: str,
                         organization: str, days: int = 365) -> None:
    """A self-signed signing certificate for trying signatures out (not for real use).

    The passphrase is random and goes to its own file (mode 0600), never to the screen.
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    name = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "ID"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=True, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True,
            crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .sign(key, hashes.SHA256())
    )
    passphrase = secrets.token_urlsafe(24)
    blob = pkcs12.serialize_key_and_certificates(
        common_name.encode(), key, cert, None,
        serialization.BestAvailableEncryption(passphrase.encode()))
    for path in (p12_path, passphrase_path):
        path.parent.mkdir(parents=True, exist_ok=True)
    _write_private(passphrase_path, passphrase.encode() + b"\n")
    _write_private(p12_path, blob)


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
