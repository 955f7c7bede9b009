"""The live messages of an incident, as data: the Kepala Dinas's card, each Kepala
Bidang's card and the team group's board, each with what it says now and the buttons it
offers. The chat sends each once and then edits it whenever what it says changes
(`handlers.incidents`); everything here is read from the records, so a restart shows
the same."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Incident, Person, RestoreRun
from bot.render import render_text
from bot.services.incidents.batch import READY, Item, digest, items, ready, waiting
from bot.services.people.officials import holders
from bot.services.restores.progress import read_progress
from bot.workflow.choices import Choice
from bot.workflow.sop import Role, State
from letters.timefmt import local_date

SHOWN_AFTER_CLOSE = timedelta(days=1)  # a closed incident's messages get their last words
PER_ITEM_BUTTONS = 20  # "Pisahkan" buttons on one card; more: /insiden pisahkan NOMOR
Rows = list[list[Choice]]


@dataclass(frozen=True)
class LiveCard:
    key: str  # incident, purpose and reader: the message's identity
    incident_id: int
    chat_id: int
    text: str
    choices: Rows = field(default_factory=list)

    @property
    def fingerprint(self) -> str:
        return self.text + json.dumps([[c.as_dict() for c in row] for row in self.choices])


@dataclass(frozen=True)
class Line:
    """One system on the board."""

    item: Item
    status: str  # queued, checking, restoring, done, failed, waiting, other
    label: str
    percent: int | None = None
    run_id: int | None = None  # a restore queued or running, which "Batal" stops


def _run_lines(session: Session, found: list[Item], checking: frozenset[int],
               problems: Mapping[int, str]) -> list[Line]:
    runs: dict[int, RestoreRun] = {}
    if found:
        for run in session.execute(select(RestoreRun).where(
                RestoreRun.request_id.in_([i.request_id for i in found]))
                .order_by(RestoreRun.id)).scalars():
            runs[run.request_id or 0] = run  # the latest of each request
    lines = []
    for item in found:
        lines.append(_line(item, runs.get(item.request_id), item.request_id in checking,
                           problems.get(item.request_id, "")))
    return lines


_DONE = {State.RESTORED: "dipulihkan, menunggu pemeriksaan hasil",
         State.VERIFIED: "dipulihkan dan terverifikasi",
         State.REPORT_SUBMITTED: "dipulihkan; laporan menunggu pengesahan",
         State.REPORT_RATIFIED: "dipulihkan; laporan disahkan",
         State.NOTIFIED: "dipulihkan; surat pemberitahuan terkirim",
         State.ACKNOWLEDGED: "selesai, diterima OPD"}
_WAITING = {State.SUBMITTED: "menunggu disposisi Kepala Dinas",
            State.DISPOSED_TO_KABID: "menunggu disposisi Kepala Bidang",
            State.ASSIGNED_TO_TEAM: "siap diperiksa dan dipulihkan",
            State.REOPENED: "dibuka kembali oleh OPD; siap dipulihkan lagi",
            State.BACKUP_CHECKED: "backup lulus pemeriksaan; siap dipulihkan"}


def _line(item: Item, run: RestoreRun | None, checking: bool, problem: str) -> Line:
    state = item.state
    if checking and state in READY:
        return Line(item, "checking", "memeriksa backup")
    if problem and state in READY:  # the last "Periksa & pulihkan semua" stopped here
        return Line(item, "failed", problem[:160])
    if state is State.RESTORING and run is not None:
        if run.status == "queued":
            return Line(item, "queued", "dalam antrean", run_id=run.id)
        progress = read_progress(run.progress)
        share = progress.done / progress.total if progress and progress.total else None
        return Line(item, "restoring", "memulihkan",
                    int(share * 100) if share is not None else None, run.id)
    if state is State.RESTORING:
        return Line(item, "restoring", "memulihkan")
    if state in _DONE:
        return Line(item, "done", _DONE[state])
    if state is State.RESTORE_FAILED:
        why = (run.error if run is not None else "") or "lihat /status"
        return Line(item, "failed", f"gagal: {why.splitlines()[0][:120]}")
    if state in _WAITING:
        return Line(item, "waiting", _WAITING[state])
    return Line(item, "other", {State.REJECTED: "ditolak", State.RETURNED: "dikembalikan",
                                State.CANCELLED: "dibatalkan"}.get(state, state.value))


def finish_estimate(session: Session, lines: list[Line], capacity: int,
                    now: datetime) -> datetime | None:
    """When the restores still to do should be done: their number in rounds of
    `capacity`, each as long as this incident's restores took on average (else the
    office's last 50); None before anything has been timed."""
    left = [ln for ln in lines if ln.status in ("queued", "checking", "restoring")
            or (ln.status == "waiting" and ln.item.state in (
                State.ASSIGNED_TO_TEAM, State.REOPENED, State.BACKUP_CHECKED))]
    if not left:
        return None
    ids = [ln.item.request_id for ln in lines]
    took = _durations(session, RestoreRun.request_id.in_(ids)) or \
        _durations(session, RestoreRun.id.is_not(None))
    if not took:
        return None
    rounds = math.ceil(len(left) / max(capacity, 1))
    return now + timedelta(seconds=rounds * sum(took) / len(took))


def _durations(session: Session, where: object) -> list[float]:
    rows = session.execute(select(RestoreRun.started_at, RestoreRun.finished_at).where(
        where, RestoreRun.status == "succeeded",  # type: ignore[arg-type]
        RestoreRun.finished_at.is_not(None)).order_by(RestoreRun.id.desc()).limit(50)).all()
    return [(end - start).total_seconds() for start, end in rows if end and end > start]


def _linked(people: list[Person]) -> list[Person]:
    return [p for p in people if p.telegram_id]


def _apart_rows(listed: list[Item], incident_id: int) -> Rows:
    return [[Choice("ip", i.request_id, i.version, incident_id, name=i.code)]
            for i in listed[:PER_ITEM_BUTTONS]]


def incident_cards(session: Session, row: Incident, now: datetime, zone: ZoneInfo,
                   team_chat_id: int, capacity: int,
                   checking: frozenset[int] = frozenset(),
                   problems: Mapping[int, str] | None = None) -> list[LiveCard]:
    """Every live message of one incident, as it should read now."""
    day = local_date(now, zone)
    found = items(session, row.id)
    is_open = row.closed_at is None
    iid = row.id
    cards: list[LiveCard] = []

    def text(name: str, **values: object) -> str:
        return render_text(f"chat/{name}.txt.j2", zone, incident=row, open=is_open,
                           **values).strip()

    submitted = waiting(found, State.SUBMITTED)
    kabids = _linked(holders(session, Role.KABID, day)) if submitted else []
    rows: Rows = []
    if is_open and submitted:
        rows = [[Choice("ia", iid, digest(submitted), p.id, name=p.name)] for p in
                holders(session, Role.KABID, day)]
        rows += _apart_rows(submitted, iid)
    words = text("incident_kadis", waiting=submitted, total=len(found),
                 disposed=sum(1 for i in found if i.kabid_id is not None),
                 more=max(len(submitted) - PER_ITEM_BUTTONS, 0), kabids=kabids)
    for person in _linked(holders(session, Role.KADIS, day)):
        cards.append(LiveCard(f"{iid}:kadis:{person.id}", iid, person.telegram_id or 0, words,
                              rows))

    for kabid_id in sorted({i.kabid_id for i in found if i.kabid_id and not i.apart}):
        mine = [i for i in found if i.kabid_id == kabid_id and not i.apart]
        disposed = waiting(mine, State.DISPOSED_TO_KABID)
        reports = waiting(mine, State.REPORT_SUBMITTED)
        rows = []
        if is_open and disposed:
            rows.append([Choice("it", iid, digest(disposed), kabid_id)])
        if is_open and reports:
            rows.append([Choice("iy", iid, digest(reports), kabid_id)])
        if is_open:
            rows += _apart_rows((disposed + reports), iid)
        words = text("incident_kabid", disposed=disposed, reports=reports, mine=mine,
                     done=sum(1 for i in mine if i.state in _DONE))
        for person in _linked(holders(session, Role.KABID, day, principal_id=kabid_id)):
            cards.append(LiveCard(f"{iid}:kabid:{kabid_id}:{person.id}", iid,
                                  person.telegram_id or 0, words, rows))

    if team_chat_id:
        lines = _run_lines(session, found, checking, problems or {})
        start = ready(found)
        board_rows: Rows = []
        if is_open and start and not any(i.request_id in checking for i in start):
            board_rows.append([Choice("ir", iid, digest(start))])
        running = [ln for ln in lines if ln.run_id is not None and not ln.item.apart]
        board_rows += [[Choice("s", ln.item.request_id, 0, ln.run_id, variant="kode",
                               name=ln.item.code)] for ln in running[:PER_ITEM_BUTTONS]]
        counts = {s: sum(1 for ln in lines if ln.status == s) for s in
                  ("queued", "checking", "restoring", "done", "failed", "waiting", "other")}
        cards.append(LiveCard(f"{iid}:board", iid, team_chat_id, text(
            "incident_board", lines=lines, counts=counts, ready=len(start),
            finish=finish_estimate(session, lines, capacity, now) if is_open else None),
            board_rows))
    return cards


def live_cards(session: Session, now: datetime, zone: ZoneInfo, team_chat_id: int,
               capacity: int, checking: frozenset[int] = frozenset(),
               problems: Mapping[int, str] | None = None) -> list[LiveCard]:
    """The live messages of every open incident, and of those closed within a day (their
    last words, without buttons)."""
    rows = session.execute(select(Incident).where(
        (Incident.closed_at.is_(None)) | (Incident.closed_at > now - SHOWN_AFTER_CLOSE))
        .order_by(Incident.id)).scalars().all()
    cards: list[LiveCard] = []
    for row in rows:
        cards += incident_cards(session, row, now, zone, team_chat_id, capacity, checking,
                                problems)
    return cards
