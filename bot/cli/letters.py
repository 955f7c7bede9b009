"""`pulih letters ...`: the office's documents from a terminal."""

from __future__ import annotations

import argparse
from typing import TextIO

from jinja2 import TemplateError

from bot.bootstrap import Container
from bot.db.migrate import current_revision, head_revision
from bot.errors import ConfigError, PulihError
from bot.inventory.loader import load_inventory
from bot.inventory.model import LetterSettings, Office
from bot.render import render_text
from bot.services.documents.letters import (
    authenticity,
    configured_signer,
    issue_letter,
)
from bot.services.documents.registry import verify_bytes, verify_code
from bot.services.documents.stationery import Stationery
from bot.workflow.refusals import NotFound
from letters.kinds import ALL_KINDS, KINDS
from letters.markup import MarkupError
from letters.render import Sender, render_pdf
from letters.samples import sample_case, sample_issue
from letters.signing import SigningError, make_dev_certificate

SAMPLE_CODE = "CONT-OHXX-00"
SAMPLE_NOTICE = "CONTOH - bukan dokumen resmi; data di dalamnya rekaan."


def letters_commands(args: argparse.Namespace, c: Container, out: TextIO, err: TextIO) -> int:
    if args.letters_command == "dev-cert":
        return _dev_cert(args, c, out, err)
    if args.letters_command == "render" and args.sample:
        return _render_samples(args, c, out)
    if current_revision(c.engine) != head_revision():
        raise PulihError("Skema basis data belum mutakhir; jalankan: pulih db upgrade")
    if args.letters_command == "render":
        return _render_request(args, c, out, err)
    return _verify(args, c, out, err)


def _kinds(kind: str) -> list[str]:
    return list(KINDS) if kind == "semua" else [kind]


def _render_request(args: argparse.Namespace, c: Container, out: TextIO, err: TextIO) -> int:
    stationery = Stationery.from_inventory(load_inventory(c.settings.inventory_path))
    signer = configured_signer(c)
    args.out.mkdir(parents=True, exist_ok=True)
    for kind in _kinds(args.kind):
        try:
            issued = issue_letter(c, kind, args.request, stationery_=stationery, signer=signer)
        except NotFound as exc:
            print(exc.message, file=err)
            return 1
        except SigningError as exc:
            print(f"{KINDS[kind]}: {exc}", file=err)
            return 1
        except (MarkupError, TemplateError) as exc:
            # A template error names its file and line itself.
            where = "" if isinstance(exc, TemplateError) else f" {kind}.xml.j2"
            print(f"Templat{where} tidak dapat dipakai: {exc}. Nomor yang sempat diambil "
                  "dicatat batal.", file=err)
            return 1
        target = args.out / f"{kind}-{issued.code}.pdf"
        target.write_bytes(issued.content)
        signed = ", ditandatangani secara elektronik" if issued.signed else ""
        print(f"{KINDS[kind]}: {target} (nomor {issued.number or '-'}, kode {issued.code}"
              f"{signed})", file=out)
    return 0


def _sample_stationery(c: Container) -> Stationery:
    """The office's own settings when its inventory reads, the example office otherwise."""
    try:
        return Stationery.from_inventory(load_inventory(c.settings.inventory_path))
    except ConfigError:
        return Stationery(Office(
            code="DISKOMINFO", name="Dinas Komunikasi dan Informatika",
            address=("Jalan Wolter Monginsidi No. 1", "Tenggarong, Kalimantan Timur 75512"),
            is_office=True, website="diskominfo.kukarkab.go.id"), LetterSettings())


def _render_samples(args: argparse.Namespace, c: Container, out: TextIO) -> int:
    st = _sample_stationery(c)
    case = sample_case()
    args.out.mkdir(parents=True, exist_ok=True)
    for kind in _kinds(args.kind):
        sender = Sender(st.agency_letterhead(case) if kind == "surat_permohonan"
                        else st.letterhead, st.office.city)
        pdf = render_pdf(kind, case=case, issue=sample_issue(kind), sender=sender,
                         office=st.info, setup=st.setup,
                         authenticity=authenticity(c, SAMPLE_CODE, SAMPLE_NOTICE),
                         zone=c.settings.timezone, template_dir=st.letters.templates)
        target = args.out / f"contoh-{kind}.pdf"
        target.write_bytes(pdf)
        print(f"{KINDS[kind]} (contoh): {target}", file=out)
    return 0


def _dev_cert(args: argparse.Namespace, c: Container, out: TextIO, err: TextIO) -> int:
    folder = args.out or c.settings.data_dir / "signing"
    p12, passfile = folder / "dev.p12", folder / "dev.p12.pass"
    if p12.exists() or passfile.exists():
        print(f"{p12} sudah ada; tidak ditimpa. Hapus dulu bila ingin membuat yang baru.",
              file=err)
        return 1
    make_dev_certificate(p12, passfile, args.name, "Pulih (uji coba, bukan BSrE)")
    print(f"Sertifikat uji coba dibuat: {p12}\n"
          f"Kata sandinya di {passfile} (hanya dapat dibaca pemiliknya).\n"
          "Aktifkan dengan menambahkan ke .env:\n"
          f"  PULIH_SIGNING_P12={p12}\n"
          f"  PULIH_SIGNING_PASSPHRASE_FILE={passfile}\n"
          "Sertifikat ini swa-tanda tangan: sah untuk mencoba, bukan pengganti TTE BSrE.",
          file=out)
    return 0


RECEIVED_EXIT = 3  # `letters verify`: a file an agency uploaded, known but not issued


def _verify(args: argparse.Namespace, c: Container, out: TextIO, err: TextIO) -> int:
    if (args.file is None) == (args.code is None):
        print("Sebutkan berkas PDF atau --code KODE (salah satu).", file=err)
        return 2
    with c.sessions() as session:
        if args.file is not None:
            try:
                content = args.file.read_bytes()
            except OSError as exc:
                print(f"{args.file}: tidak dapat dibaca ({exc.strerror}).", file=err)
                return 1
            result = verify_bytes(session, content)
        else:
            result = verify_code(session, args.code)
        text = render_text("cli/letters_verify.txt.j2", c.settings.timezone, result=result,
                           kinds=ALL_KINDS, source=str(args.file or args.code),
                           by_code=args.file is None)
    if result.received:
        out.write(text)
        return RECEIVED_EXIT
    (out if result.genuine else err).write(text)
    return 0 if result.genuine else 1
