"""`pulih letters verify`: an issued PDF is recognised; one changed byte is not."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from fpdf import FPDF
from sqlalchemy import select

from bot.bootstrap import bootstrap
from bot.db.migrate import upgrade
from bot.db.models import AuditEvent
from bot.inventory.loader import load_inventory
from bot.services.documents.registry import issue_document, new_code
from bot.services.office.inventory_sync import sync_inventory
from bot.services.people.actors import actor_by_nip
from bot.services.requests.records import NewRequest, Scope, submit_request
from bot.settings import load_settings
from tests.support.cli import office_env, pulih
from tests.support.clock import WITA, month_year, running, ticket, wita
from tests.support.office import NIPS, NOW


def a_pdf() -> bytes:
    pdf = FPDF(format=(215, 330))
    pdf.set_creation_date(NOW)
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="Surat Pemberitahuan Restore VPS/VM")
    return bytes(pdf.output())


@pytest.fixture
def issued(tmp_path: Path) -> tuple[dict[str, str], Path, str]:
    env = office_env(tmp_path)
    container = bootstrap(load_settings(environ=env), running())
    upgrade(container.engine)
    content = a_pdf()
    with container.unit_of_work() as session:
        sync_inventory(session, load_inventory(container.settings.inventory_path), NOW)
        request = submit_request(session, actor_by_nip(session, NIPS["requester"]),
                                 NewRequest("portal-pendidikan", Scope.DATABASE, "Rusak"), NOW,
                                 WITA)
        document = issue_document(session, kind="surat_pemberitahuan", content=content,
                                  folder=tmp_path / "data" / "documents", now=NOW,
                                  number=f"B-7/Diskominfo/000.6/{month_year()}",
                                  request_id=request.id)
        code, stored = document.verification_code, Path(document.file_path)
    container.close()
    copy = tmp_path / "kiriman.pdf"
    copy.write_bytes(content)
    assert stored.read_bytes() == content
    return env, copy, code




@pytest.mark.dates
def test_an_issued_document_is_recognised_with_its_record(
        issued: tuple[dict[str, str], Path, str]) -> None:
    env, copy, code = issued
    result = pulih(env, "letters", "verify", str(copy))
    assert result.returncode == 0, result.stderr
    assert "ASLI" in result.stdout and "Surat Pemberitahuan" in result.stdout
    assert f"B-7/Diskominfo/000.6/{month_year()}" in result.stdout
    assert wita(NOW) in result.stdout
    assert ticket() in result.stdout and code in result.stdout


def test_one_changed_byte_is_not_recognised(issued: tuple[dict[str, str], Path, str]) -> None:
    env, copy, _ = issued
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0x01
    copy.write_bytes(bytes(data))
    result = pulih(env, "letters", "verify", str(copy))
    assert result.returncode == 1
    assert "TIDAK DIKENAL" in result.stderr and "ASLI" not in result.stdout


def test_a_printout_is_checked_by_its_code(issued: tuple[dict[str, str], Path, str]) -> None:
    env, _, code = issued
    result = pulih(env, "letters", "verify", "--code", code.lower())
    assert result.returncode == 0 and result.stdout.startswith(
        f"TERCATAT: kode {code.lower()} milik dokumen terbitan Pulih.")
    # A code proves the document was issued, not that the paper in hand says the same.
    assert "ASLI" not in result.stdout and "bukan bahwa isi cetakan" in result.stdout
    result = pulih(env, "letters", "verify", "--code", new_code())
    assert result.returncode == 1 and "TIDAK DIKENAL" in result.stderr


def test_the_document_hash_is_in_the_activity_record(
        issued: tuple[dict[str, str], Path, str]) -> None:
    env, copy, _ = issued
    container = bootstrap(load_settings(environ=env), running())
    with container.sessions() as session:
        event = session.execute(select(AuditEvent).where(
            AuditEvent.action == "document_issued")).scalar_one()
        refs = json.loads(event.documents)
        assert refs == [{"kind": "surat_pemberitahuan",
                         "number": f"B-7/Diskominfo/000.6/{month_year()}",
                         "sha256": hashlib.sha256(copy.read_bytes()).hexdigest()}]
    container.close()
    assert pulih(env, "audit", "verify").returncode == 0
