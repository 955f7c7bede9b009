"""All eight steps of the SOP in Telegram, with nothing faked but Telegram itself: the bot
on PostgreSQL, the backup server and the agency's VPS reached over real SSH, SIMPEG's
live database in a real MariaDB. The damaged database comes back, the four documents
reach the right chats and verify, the activity record verifies, the timeline is whole."""

from __future__ import annotations

import asyncio
from io import BytesIO
from pathlib import Path

from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from sqlalchemy import select

from bot.db.models import AuditEvent, Document, Request
from bot.demo.lab.mariadb import MariaDB
from bot.demo.lab.simpeg import snapshot
from bot.services.requests.timeline import timeline
from tests.support.people import documents, shown, text_of
from tests.support.running_bot import TEAM_CHAT, running_bot
from tests.support.sop_flow import Office, check_and_restore, file_and_assign, pulih


def test_one_request_travels_all_eight_steps_in_telegram(office: Office,
                                                         mariadb: MariaDB) -> None:
    fake, p = office.fake, office.people
    opd, kabid = p["opd_other"], p["kabid_a"]

    async def scenario() -> None:
        async with running_bot(office.container):
            await file_and_assign(office)
            result = await check_and_restore(office)
            assert "Dijalankan oleh: Dimas Pratama" in text_of(result)
            assert "Salinan sementara: tabel dan baris: Sesuai: 1 tabel, 3 baris" \
                in text_of(result)
            assert "Data live: tabel: Sesuai: 1 tabel" in text_of(result)
            await shown(fake, kabid.user_id, "LANGKAH 6")
            await shown(fake, kabid.user_id, "KONSEP")  # the draft report, before deciding
            assert await kabid.taps("Sahkan") == "Tersimpan."
            await shown(fake, opd.user_id, "LANGKAH 8")
            await shown(fake, opd.user_id, "Surat Pemberitahuan")
            await shown(fake, opd.user_id, "Laporan Restore")
            assert await opd.taps("Diterima / Sesuai") == "Tersimpan."
            await shown(fake, TEAM_CHAT, "Surat Pemberitahuan")
            with office.container.sessions() as session:
                ticket = session.execute(select(Request.ticket)).scalar_one()
            await opd.says(f"/status {ticket}")
            await shown(fake, opd.user_id, "Waktu per langkah")

    asyncio.run(scenario())
    assert snapshot(mariadb) == office.states["good"]
    # Step 7 as the record has it: sent by the team member who wrote the report, on the
    # Kepala Bidang's ratification; the team group reads the same two names.
    told = next(t for t in fake.chat(TEAM_CHAT).texts() if "pemberitahuan terkirim" in t)
    assert "(oleh Dimas Pratama, setelah laporan disahkan Fajar Setiawan)" in told, told
    with office.container.sessions() as session:
        sent = session.execute(select(AuditEvent).where(AuditEvent.action == "notify")
                               ).scalar_one()
        assert sent.actor_name == "Dimas Pratama"
    with office.container.sessions() as session:
        request = session.execute(select(Request)).scalar_one()
        assert request.state == "acknowledged"
        issued = {d.kind: d for d in session.execute(select(Document)).scalars()}
        steps = timeline(session, request, office.container.clock(),
                         office.container.settings.timezone).steps
    ticket = request.ticket
    # Each document reached the chats it is for, as the file Pulih issued.
    expected = {p["kadis"].user_id: ["surat_permohonan"],
                TEAM_CHAT: ["disposisi", "laporan", "surat_pemberitahuan"],
                opd.user_id: ["laporan", "surat_pemberitahuan"]}
    for chat_id, kinds in expected.items():
        received = documents(fake, chat_id)
        for kind in kinds:
            content = received[f"{kind}-{ticket}.pdf"]
            assert Path(issued[kind].file_path).read_bytes() == content
    assert f"laporan-{ticket}-konsep.pdf" in documents(fake, kabid.user_id)
    # Ratifying signed the report (the office has a certificate); the draft was not signed.
    signed = PdfFileReader(BytesIO(documents(fake, opd.user_id)[f"laporan-{ticket}.pdf"]))
    assert [s.field_name for s in signed.embedded_signatures] == ["TTE-laporan"]
    signature = signed.embedded_signatures[0]
    checked = validate_pdf_signature(
        signature, ValidationContext(trust_roots=[signature.signer_cert]))
    assert checked.intact and checked.bottom_line
    draft = documents(fake, kabid.user_id)[f"laporan-{ticket}-konsep.pdf"]
    assert PdfFileReader(BytesIO(draft)).embedded_signatures == []
    for kind, document in issued.items():
        code, out = pulih(office, "letters", "verify", document.file_path)
        assert code == 0 and "ASLI" in out.upper(), (kind, out)
    code, out = pulih(office, "audit", "verify")
    assert code == 0, out
    # Every step's time against its Mutu Baku, in the record and on /status.
    assert [s.step.number for s in steps if s.spent is not None] == [2, 3, 4, 5, 6, 7, 8]
    assert not any(s.running for s in steps)
    status = text_of(opd.chat()[-1])
    assert "Selesai, diterima OPD" in status
    assert "1. Mengajukan surat permohonan restore: diajukan" in status
    for number in range(2, 9):
        assert f"\n{number}. " in status and f"\n{number}. " + "belum" not in status
