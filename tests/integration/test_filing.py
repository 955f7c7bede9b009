"""Step 1 is one transaction: the request, the Kepala Dinas's card, the requester's ticket
and the order for the request letter are stored together, or (refused) nothing is, not
even the uploaded letter's file; the letter is then made by the documents job and reaches
the Kepala Dinas and its author, once."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.bootstrap import Container
from bot.db.models import AuditEvent, Document, DocumentJob, OutboxMessage, Request
from bot.demo.standin import fake_telegram
from bot.services.chats.conversations import FORM, Pending, remember
from bot.services.documents.paperwork import make_documents
from bot.services.people.actors import actor_by_nip
from bot.services.requests.filing import file_request, keep_upload, prune_uploads
from bot.services.requests.records import NewRequest, Scope
from bot.workflow.refusals import Refusal
from tests.support.documents import render
from tests.support.office import NIPS
from tests.support.running_bot import linked_office

REQUESTER, KADIS = 8101, 8102


@pytest.fixture
def office(tmp_path: Path) -> Iterator[Container]:
    with fake_telegram() as fake:
        container = linked_office(tmp_path, fake, {"requester": REQUESTER, "kadis": KADIS})
        yield container
        container.close()


def filed_by_requester(container: Container, system: str = "portal-pendidikan",
                       upload: bytes | Path | None = None) -> str:
    with container.sessions() as session:
        actor = actor_by_nip(session, NIPS["requester"])
    return file_request(container, actor, NewRequest(system, Scope.DATABASE, "Tabel rusak"),
                        upload).ticket


def rows(container: Container) -> dict[str, int]:
    with container.sessions() as session:
        return {model.__name__: session.execute(select(func.count()).select_from(model))
                .scalar_one() for model in (Request, OutboxMessage, DocumentJob, Document,
                                            AuditEvent)}


def outbox(container: Container) -> list[tuple[int, str, str]]:
    with container.sessions() as session:
        return [(m.chat_id, m.kind, json.loads(m.payload)["text"]) for m in session.execute(
            select(OutboxMessage).order_by(OutboxMessage.id)).scalars()]


def test_a_filed_request_holds_its_card_its_ticket_and_its_letter_order_together(
        office: Container) -> None:
    ticket = filed_by_requester(office)
    queued = outbox(office)
    assert [(chat, kind) for chat, kind, _ in queued] == [(KADIS, "card_kadis"),
                                                         (REQUESTER, "notice")]
    assert f"Nomor tiket: {ticket}" in queued[1][2] and "sedang dibuat" in queued[1][2]
    with office.sessions() as session:
        job = session.execute(select(DocumentJob)).scalar_one()
        assert (job.kind, json.loads(job.recipients), job.status) == (
            "surat_permohonan", [KADIS, REQUESTER], "pending")
    assert rows(office)["Document"] == 0  # made by the job, not while the person waits
    assert make_documents(office) == 1
    assert make_documents(office) == 0  # once
    with office.sessions() as session:
        letter = session.execute(select(Document)).scalar_one()
        sent = session.execute(select(OutboxMessage.chat_id).where(
            OutboxMessage.kind == "document")).scalars().all()
    assert letter.kind == "surat_permohonan" and sorted(sent) == sorted([KADIS, REQUESTER])


def test_an_uploaded_letter_is_recorded_as_uploaded_and_its_file_kept_only_until_then(
        office: Container) -> None:
    signed = render("surat_permohonan")
    filed_by_requester(office, upload=signed)
    uploads = office.settings.data_dir / "uploads"
    [kept] = list(uploads.iterdir())
    assert kept.read_bytes() == signed and kept.stat().st_mode & 0o077 == 0
    assert "yang Anda unggah dicatat" in outbox(office)[1][2]
    assert make_documents(office) == 1
    with office.sessions() as session:
        letter = session.execute(select(Document)).scalar_one()
    assert Path(letter.file_path).read_bytes() == signed
    assert not list(uploads.iterdir())


@pytest.mark.parametrize("upload", [None, b"%PDF-1.4 bukan pdf", "signed"])
def test_a_refused_filing_stores_nothing_not_even_the_uploaded_file(
        office: Container, upload: bytes | str | None) -> None:
    before = rows(office)
    content = render("surat_permohonan") if upload == "signed" else upload
    assert not isinstance(content, str)
    with pytest.raises(Refusal) as refused:
        # simpeg belongs to another agency: refused inside the transaction, after the
        # upload was kept on disk (a bad PDF is refused before)
        filed_by_requester(office, system="simpeg", upload=content)
    assert "OPD Anda sendiri" in refused.value.message or "bukan PDF" in refused.value.message
    assert rows(office) == before
    uploads = office.settings.data_dir / "uploads"
    assert not uploads.exists() or not list(uploads.iterdir())


def test_a_letter_uploaded_in_an_abandoned_form_goes_after_a_day_and_no_other_does(
        office: Container) -> None:
    """Three uploaded letters a day old: one from a form given up (removed), one a form
    still holds and one a documents job still has to record (both kept); a fresh one
    is kept too."""
    container = office
    pdf = render("surat_permohonan")
    abandoned, open_form, waiting, fresh = (keep_upload(container, pdf) for _ in range(4))
    now = container.clock()
    with container.unit_of_work() as session:
        remember(session, REQUESTER, REQUESTER, Pending(FORM, {"upload": str(open_form)}), now)
    ticket = filed_by_requester(container, upload=waiting)  # its job not yet run
    assert ticket.startswith("PLH-")
    with container.sessions() as session:
        [kept] = session.execute(select(DocumentJob.source_path)).scalars().all()
    day_old = time.time() - 25 * 3600
    for path in (abandoned, open_form, Path(str(kept))):
        os.utime(path, (day_old, day_old))
    assert prune_uploads(container) == 1
    left = sorted(p.name for p in (container.settings.data_dir / "uploads").iterdir())
    assert left == sorted(p.name for p in (open_form, Path(str(kept)), fresh))
    assert not abandoned.exists()
