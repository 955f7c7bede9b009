"""Incident mode in the records: a declaration opens one request per system on its
agency's behalf (or nothing, with every problem listed); the officials decide them
together on one card each, a card its requests outgrew is refused, one request can be set
apart onto its own cards; closing issues the summary PDF, once."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.bootstrap import Container
from bot.db.models import AuditEvent, Document, Incident, OutboxMessage, Request
from bot.demo.standin import fake_telegram
from bot.services.incidents.batch import (
    assign_all,
    digest,
    dispose_all,
    items,
    set_apart,
    waiting,
)
from bot.services.incidents.cards import live_cards
from bot.services.incidents.closing import close_incident
from bot.services.incidents.declare import declare
from bot.services.incidents.restore_all import add_detail
from bot.services.people.actors import actor_by_nip
from bot.services.requests.deadline_alerts import sweep
from bot.workflow.refusals import AlreadyDecided, NotAllowed, NotFound, Refusal, WrongAgency
from bot.workflow.rules import Actor
from bot.workflow.sop import State
from tests.support.cli import pulih
from tests.support.office import NIPS
from tests.support.pdf import pdf_text
from tests.support.running_bot import TEAM_CHAT, linked_office

REQUESTER, OTHER_OPD, KADIS, KABID_A, KABID_B, PLH_KADIS = 8201, 8202, 8203, 8204, 8205, 8206
SYSTEMS = ["portal-pendidikan", "simpeg", "web-kominfo"]


@pytest.fixture
def office(tmp_path: Path) -> Iterator[Container]:
    with fake_telegram() as fake:
        container = linked_office(tmp_path, fake, {
            "requester": REQUESTER, "opd_other": OTHER_OPD, "kadis": KADIS,
            "kabid_a": KABID_A, "kabid_b": KABID_B, "plh_kadis": PLH_KADIS})
        yield container
        container.close()


def actor(c: Container, who: str) -> Actor:
    with c.sessions() as session:
        return actor_by_nip(session, NIPS[who])


def declared(c: Container, codes: list[str] | None = None, who: str = "kadis") -> int:
    with c.unit_of_work() as session:
        return declare(session, actor(c, who), "Gangguan pusat data", codes or SYSTEMS,
                       c.clock(), c.settings.timezone).incident_id


def outbox(c: Container) -> list[tuple[int, str, str]]:
    with c.sessions() as session:
        return [(m.chat_id, m.dedupe_key, json.loads(m.payload)["text"]) for m in
                session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars()]


def cards(c: Container) -> dict[str, tuple[int, str, list[str]]]:
    with c.sessions() as session:
        return {card.key.split(":", 1)[1]: (card.chat_id, card.text,
                                            [ch.kind for row in card.choices for ch in row])
                for card in live_cards(session, c.clock(), c.settings.timezone, TEAM_CHAT, 4)}


def test_a_declared_incident_opens_one_request_per_system_on_its_agencys_behalf(
        office: Container) -> None:
    incident_id = declared(office)
    with office.sessions() as session:
        requests = session.execute(select(Request).where(Request.incident_id == incident_id)
                                   .order_by(Request.id)).scalars().all()
        assert [r.system.code for r in requests] == SYSTEMS
        assert {r.state for r in requests} == {State.SUBMITTED.value}
        owners = {r.system.code: r.requester.nip for r in requests}
        submits = session.execute(select(AuditEvent).where(
            AuditEvent.action == "submit")).scalars().all()
    # Each belongs to its agency's own person (who confirms at step 8); the record says
    # the Kepala Dinas opened it, and for whom.
    assert owners["portal-pendidikan"] == NIPS["requester"]
    assert owners["simpeg"] == NIPS["opd_other"]
    assert {e.actor_name for e in submits} == {"Ahmad Rizali"}
    assert all(json.loads(e.data)["atas_nama"] for e in submits)
    sent = outbox(office)
    # The agencies hear of it; the Kepala Dinas gets no card per request...
    assert any(chat == REQUESTER and "atas nama instansi Anda" in words
               for chat, _, words in sent)
    assert any(chat == OTHER_OPD and "simpeg" in words.lower() for chat, _, words in sent)
    assert not [key for _, key, _ in sent if key.endswith(f":kadis:{_kadis_id(office)}")]
    # ...but one card listing all three, with "Disposisi semua ke" each Kepala Bidang.
    shown = cards(office)
    chat, words, kinds = shown[f"kadis:{_kadis_id(office)}"]
    assert chat == KADIS
    assert all(code in words for code in SYSTEMS)
    assert kinds.count("ia") >= 2 and kinds.count("ip") == 3
    assert "menunggu disposisi Kepala Dinas" in shown["board"][1]


def _kadis_id(c: Container) -> int:
    return actor(c, "kadis").person_id


def test_a_declaration_with_any_wrong_code_changes_nothing_and_lists_every_problem(
        office: Container) -> None:
    with office.sessions() as session:
        before = session.execute(select(func.count()).select_from(Request)).scalar_one()
    with pytest.raises(NotFound) as refused:
        declared(office, ["simpeg", "tidak-ada", "juga-tidak"])
    assert "TIDAK-ADA" in refused.value.message and "JUGA-TIDAK" in refused.value.message
    with pytest.raises(NotAllowed):
        declared(office, who="requester")  # an agency's person cannot declare
    with office.sessions() as session:
        assert session.execute(select(func.count()).select_from(Request)).scalar_one() == before
        assert session.execute(select(func.count()).select_from(Incident)).scalar_one() == 0


def test_the_officials_decide_all_at_once_and_a_stale_card_changes_nothing(
        office: Container) -> None:
    incident_id = declared(office)
    now, zone = office.clock(), office.settings.timezone
    kabid = actor(office, "kabid_a")
    with office.sessions() as session:
        listed = waiting(items(session, incident_id), State.SUBMITTED)
    seen = digest(listed)
    with office.unit_of_work() as session:  # one request set apart first: the card changed
        set_apart(session, listed[0].request_id, actor(office, "kadis"), now, zone, TEAM_CHAT)
    with pytest.raises(AlreadyDecided), office.unit_of_work() as session:
        dispose_all(session, incident_id, actor(office, "kadis"), kabid.person_id, seen, now,
                    zone, TEAM_CHAT)
    with office.sessions() as session:
        found = items(session, incident_id)
        assert {i.state for i in found} == {State.SUBMITTED}
        rest = waiting(found, State.SUBMITTED)
    # The one set apart got its own card, as any request does.
    assert any(chat == KADIS and key.endswith(":kadis:" + str(_kadis_id(office)))
               for chat, key, _ in outbox(office))
    with office.unit_of_work() as session:
        tickets = dispose_all(session, incident_id, actor(office, "kadis"), kabid.person_id,
                              digest(rest), now, zone, TEAM_CHAT)
    assert len(tickets) == 2
    shown = cards(office)
    assert "tidak ada yang menunggu disposisi Anda" in shown[f"kadis:{_kadis_id(office)}"][1]
    chat, words, kinds = shown[f"kabid:{kabid.person_id}:{kabid.person_id}"]
    assert chat == KABID_A and "LANGKAH 3" in words and kinds[0] == "it"
    with office.sessions() as session:
        disposed = waiting(items(session, incident_id), State.DISPOSED_TO_KABID)
    with pytest.raises(Refusal), office.unit_of_work() as session:  # another Kepala Bidang
        assign_all(session, incident_id, actor(office, "kabid_b"), kabid.person_id,
                   digest(disposed), now, zone, TEAM_CHAT)
    with office.unit_of_work() as session:
        assign_all(session, incident_id, kabid, kabid.person_id, digest(disposed), now, zone,
                   TEAM_CHAT)
    board = cards(office)["board"]
    assert board[1].count("siap diperiksa dan dipulihkan") == 2 and board[2] == ["ir"]
    # No team card per request: the board is the team's one message.
    assert not [key for chat, key, _ in outbox(office) if chat == TEAM_CHAT]


def test_closing_issues_the_summary_once(office: Container, tmp_path: Path) -> None:
    incident_id = declared(office)
    closed = close_incident(office, str(incident_id), actor(office, "kadis"))
    text = pdf_text(closed.path.read_bytes(), tmp_path)
    assert "RINGKASAN PENANGANAN INSIDEN" in text and closed.code in text
    for code in ("portal-pendidikan", "simpeg", "web-kominfo"):
        assert code in text
    assert "Belum/tidak berhasil" in text
    with office.sessions() as session:
        document = session.get(Document, closed.document_id)
        assert document is not None and document.kind == "ringkasan_insiden"
        row = session.get(Incident, incident_id)
        assert row is not None and row.summary_id == document.id
    assert any(chat == KADIS and key.startswith(f"document:{closed.document_id}:")
               for chat, key, _ in outbox(office))
    with pytest.raises(AlreadyDecided):
        close_incident(office, closed.code, actor(office, "admin"))
    assert not [c for c in cards(office).values() if c[2]]  # no buttons left


@pytest.mark.slow
def test_the_cli_opens_shows_and_closes_an_incident(office: Container,
                                                     tmp_path: Path) -> None:
    s = office.settings
    env = {**os.environ, "PULIH_DATABASE_URL": s.database_url,
           "PULIH_DATA_DIR": str(s.data_dir), "PULIH_INVENTORY": str(s.inventory_path),
           "PULIH_ENV_FILE": str(tmp_path / "absent.env")}
    opened = pulih(env, "incident", "open", "--title", "Gangguan DC1", "--nip", NIPS["admin"],
                   "simpeg", "web-kominfo")
    assert opened.returncode == 0, opened.stderr
    assert "INS-" in opened.stdout and "PLH-" in opened.stdout
    incident = opened.stdout.split("Insiden ", 1)[1].split(" ", 1)[0]
    shown = pulih(env, "incident", "show", incident)
    assert shown.returncode == 0 and "simpeg" in shown.stdout
    assert "menunggu disposisi Kepala Dinas" in shown.stdout
    refused = pulih(env, "incident", "close", incident, "--nip", NIPS["requester"])
    assert refused.returncode == 1 and "Admin atau Kepala Dinas" in refused.stderr
    closed = pulih(env, "incident", "close", incident, "--nip", NIPS["admin"])
    assert closed.returncode == 0, closed.stderr
    assert "ditutup" in closed.stdout and "kode verifikasi" in closed.stdout


def test_the_agency_adds_details_to_its_own_request_and_no_other_agency_can(
        office: Container) -> None:
    incident_id = declared(office)
    now, zone = office.clock(), office.settings.timezone
    with office.sessions() as session:
        simpeg = next(i for i in items(session, incident_id) if i.code == "simpeg")
    with pytest.raises(WrongAgency), office.unit_of_work() as session:
        add_detail(session, simpeg.request_id, actor(office, "requester"), "Bukan urusan",
                   now, zone)
    with office.unit_of_work() as session:
        add_detail(session, simpeg.request_id, actor(office, "opd_other"),
                   "Tabel gaji paling penting; kontak 0812-1111", now, zone)
    with office.sessions() as session:
        request = session.get(Request, simpeg.request_id)
        assert request is not None
        assert "Nur Aisyah" in request.impact and "Tabel gaji paling penting" in request.impact
        assert "Bukan urusan" not in request.impact
        recorded = session.execute(select(AuditEvent).where(
            AuditEvent.action == "detail_added")).scalars().all()
        assert [e.note for e in recorded] == ["Tabel gaji paling penting; kontak 0812-1111"]


def test_an_incidents_late_step_is_one_reminder_and_one_escalation_not_one_per_request(
        office: Container) -> None:
    declared(office)
    late = office.clock() + timedelta(hours=2)  # step 2 (30 min) due, and well past it
    with office.unit_of_work() as session:
        sweep(session, late, office.settings.timezone, TEAM_CHAT)
    with office.unit_of_work() as session:  # a second sweep says nothing more
        assert sweep(session, late, office.settings.timezone, TEAM_CHAT) == 0
    told = [(chat, words) for chat, key, words in outbox(office)
            if key.startswith(("reminder-insiden", "escalation-insiden", "remind:",
                               "escalate:"))]
    reminders = [words for chat, words in told if chat == KADIS]
    assert len(reminders) == 1 and "PENGINGAT" in reminders[0]
    assert reminders[0].count("PLH-") == 3
    # The Plh. Kepala Dinas of today is reminded too, and is where the step escalates.
    stand_in = sorted(words.split(" ", 1)[0] for chat, words in told if chat == PLH_KADIS)
    assert stand_in == ["ESKALASI", "PENGINGAT"]
    assert all(words.count("PLH-") == 3 for _, words in told)
    assert {chat for chat, _ in told} == {KADIS, PLH_KADIS}
