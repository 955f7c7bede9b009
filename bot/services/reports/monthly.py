"""The monthly service report (issue 20): a month of the SOP against its Mutu Baku, from
the records only: requests filed by agency and outcome; each step that ended in the
month, its median and 90th percentile (nearest rank) against the Mutu Baku and the share
within it, in working time for a step the office counts so; the breaches with what was
recorded about them; the backup watch's and the drills' results. The same figures as CSV.

Issued once per month (numbered, recorded, verifiable), on the office's first working day
after it, to the Kepala Dinas; `pulih report monthly --month YYYY-MM` issues it (or finds
it issued) and writes the PDF and the CSV."""

from __future__ import annotations

import csv
import functools
import io
import json
import math
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.bootstrap import Container
from bot.db.models import (
    AuditEvent,
    BackupWatch,
    Deadline,
    Document,
    OfficeSetting,
    Request,
    RestoreRun,
    System,
    WatchRun,
)
from bot.render import render_text
from bot.services.audit import chain as audit
from bot.services.documents.case_file import official
from bot.services.documents.office_papers import lay_out, office_number
from bot.services.documents.registry import issue_document
from bot.services.office.calendar import WORKING, office_clock
from bot.services.outbox.queue import Attachment, enqueue
from bot.services.people.officials import holders
from bot.services.reports.charts import charts
from bot.services.restores.runs import DRILL
from bot.workflow.refusals import Refusal
from bot.workflow.sop import STEPS, Role, State
from letters.facts import AgencyFigures, Breach, MonthlyFigures, Official, StepFigures
from letters.render import MONTHLY, render_monthly_pdf
from letters.timefmt import as_utc, local_date

OUTCOMES = (("Selesai", (State.ACKNOWLEDGED,)), ("Ditolak", (State.REJECTED,)),
            ("Batal", (State.CANCELLED,)), ("Restore gagal", (State.RESTORE_FAILED,)))
IN_PROGRESS = "Masih berjalan"
KEY = "laporan_bulanan:{month}"
NO_REASON = "tanpa keterangan tercatat"
WATCH_LABELS = {"hilang": "backup hilang", "rusak": "backup rusak", "basi": "backup basi",
                "menyusut": "backup menyusut", "tanpa_checksum": "tanpa checksum",
                "manifest": "manifest tidak wajar",
                "tak_terjangkau": "server backup tak terjangkau"}


def month_bounds(month: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(month.replace(day=1), time(0), zone)
    following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return as_utc(start), as_utc(datetime.combine(following, time(0), zone))


def parse_month(text: str) -> date:
    try:
        return datetime.strptime(text.strip(), "%Y-%m").date()
    except ValueError:
        raise Refusal(f"Bulan {text!r} tidak sah; tulis seperti 2026-11.") from None


def nearest_rank(values: list[timedelta], share: float) -> timedelta:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def figures(session: Session, month: date, zone: ZoneInfo) -> MonthlyFigures:
    start, end = month_bounds(month, zone)
    clock = office_clock(session, zone)
    requests = session.execute(select(Request).where(
        Request.created_at >= start, Request.created_at < end).order_by(Request.id)
    ).scalars().all()
    labels = (*(label for label, _ in OUTCOMES), IN_PROGRESS)
    by_agency: dict[str, Counter[str]] = {}
    for request in requests:
        state = State(request.state)
        outcome = next((label for label, states in OUTCOMES if state in states), IN_PROGRESS)
        by_agency.setdefault(request.agency.name, Counter())[outcome] += 1
    agencies = tuple(AgencyFigures(name, sum(c.values()), tuple((lb, c[lb]) for lb in labels))
                     for name, c in sorted(by_agency.items()))

    ended = session.execute(select(Deadline).where(
        Deadline.closed_at >= start, Deadline.closed_at < end).order_by(Deadline.id)
    ).scalars().all()
    running_late = session.execute(select(Deadline).where(
        Deadline.started_at < end, Deadline.due_at < end,
        (Deadline.closed_at.is_(None)) | (Deadline.closed_at >= end)).order_by(Deadline.id)
    ).scalars().all()
    took: dict[int, list[timedelta]] = {}
    working: set[int] = set()
    breaches: list[Breach] = []
    for deadline in [*ended, *running_late]:
        finished = deadline.closed_at if deadline in ended else None
        stop = finished or end
        spent = clock.spent(deadline.clock, deadline.started_at, stop)
        standard = STEPS[deadline.step].service_time
        if finished is not None:
            took.setdefault(deadline.step, []).append(spent)
            if deadline.clock == WORKING:
                working.add(deadline.step)
        if spent > standard:
            ticket = session.get(Request, deadline.request_id)
            breaches.append(Breach(ticket.ticket if ticket else f"#{deadline.request_id}",
                                   deadline.step, spent, standard,
                                   _reason(session, deadline, stop), finished))
    steps = tuple(
        StepFigures(n, step.title, step.service_time, len(took.get(n, [])),
                    _median(took.get(n, [])), nearest_rank(took[n], 0.9) if took.get(n) else None,
                    sum(1 for t in took.get(n, []) if t <= step.service_time), n in working)
        for n, step in sorted(STEPS.items()))
    return MonthlyFigures(
        month.replace(day=1), start, end, len(requests), labels, agencies, steps,
        tuple(sorted(breaches, key=lambda b: (b.ticket, b.step))),
        _weeks(requests, month, zone), *_watch(session, start, end),
        _drills(session, start, end, zone))


def _median(values: list[timedelta]) -> timedelta | None:
    if not values:
        return None
    return timedelta(seconds=statistics.median(v.total_seconds() for v in values))


def _reason(session: Session, deadline: Deadline, stop: datetime) -> str:
    """What was recorded while the step ran late: the notes of the request's events after
    the step began, up to its end (a return's reason, a failed restore's cause)."""
    events = session.execute(select(AuditEvent).where(
        AuditEvent.request_id == deadline.request_id,
        AuditEvent.occurred_at > deadline.started_at, AuditEvent.occurred_at <= stop)
        .order_by(AuditEvent.seq)).scalars()
    notes = [e.note.strip() for e in events if e.note.strip()]
    return "; ".join(dict.fromkeys(notes))[:400] or NO_REASON


def _weeks(requests: Sequence[Request], month: date, zone: ZoneInfo) -> tuple[tuple[str, int], ...]:
    """Requests filed per week of the month (days 1-7, 8-14, ...)."""
    last = ((month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)).day
    counts = Counter((local_date(r.created_at, zone).day - 1) // 7 for r in requests)
    return tuple((f"{7 * w + 1}-{min(7 * w + 7, last)}", counts[w])
                 for w in range(math.ceil(last / 7)))


def _watch(session: Session, start: datetime, end: datetime
           ) -> tuple[int, tuple[tuple[str, int], ...]]:
    runs = session.execute(select(WatchRun.id).where(
        WatchRun.started_at >= start, WatchRun.started_at < end)).scalars().all()
    kinds: dict[str, set[int]] = {}
    for row in session.execute(select(BackupWatch).where(BackupWatch.run_id.in_(runs))
                               ).scalars():
        for finding in json.loads(row.findings):
            kinds.setdefault(finding["kind"], set()).add(row.system_id)
    return len(runs), tuple((WATCH_LABELS.get(k, k), len(v)) for k, v in sorted(kinds.items()))


def _drills(session: Session, start: datetime, end: datetime, zone: ZoneInfo
            ) -> tuple[tuple[str, str, str], ...]:
    rows = session.execute(select(RestoreRun, System.code).join(
        System, System.id == RestoreRun.system_id).where(
        RestoreRun.kind == DRILL, RestoreRun.started_at >= start, RestoreRun.started_at < end)
        .order_by(RestoreRun.id)).all()
    said = {"succeeded": "berhasil", "failed": "gagal", "cancelled": "dihentikan"}
    return tuple((code, said.get(run.status, run.status),
                  local_date(run.started_at, zone).isoformat()) for run, code in rows)


def figures_csv(f: MonthlyFigures) -> str:
    """The same figures as CSV (durations in minutes)."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["bagian", "kunci", "nilai_1", "nilai_2", "nilai_3", "nilai_4", "nilai_5"])
    w.writerow(["bulan", f.month.strftime("%Y-%m"), f.filed, "", "", "", ""])
    for a in f.agencies:
        w.writerow(["instansi", a.agency, a.filed, *(f"{lb}={n}" for lb, n in a.outcomes)])
    for s in f.steps:
        w.writerow(["langkah", s.number, s.count, _minutes(s.median), _minutes(s.p90),
                    _minutes(s.standard), f"{100 * s.share:.1f}" if s.share is not None else ""])
    for b in f.breaches:
        w.writerow(["pelanggaran", b.ticket, b.step, _minutes(b.took), _minutes(b.standard),
                    "selesai" if b.ended else "belum selesai", b.reason])
    for days, n in f.weeks:
        w.writerow(["minggu", days, n, "", "", "", ""])
    w.writerow(["pantauan_backup", "putaran", f.watch_runs, "", "", "", ""])
    for label, n in f.watch_problems:
        w.writerow(["pantauan_backup", label, n, "", "", "", ""])
    for system, outcome, day in f.drills:
        w.writerow(["uji_pemulihan", system, outcome, day, "", "", ""])
    return out.getvalue()


def _minutes(span: timedelta | None) -> str:
    return "" if span is None else f"{span.total_seconds() / 60:.1f}"


@dataclass(frozen=True)
class MonthlyReport:
    document: Document
    figures: MonthlyFigures
    csv: str
    fresh: bool  # issued now (False: it had been issued before)


def monthly_report(c: Container, month: date) -> MonthlyReport:
    """The month's report: issued now, or as issued before (a month is issued once).
    Refused for a month that has not ended."""
    zone, now = c.settings.timezone, c.clock()
    month = month.replace(day=1)
    _, end = month_bounds(month, zone)
    if now < end:
        raise Refusal(f"Bulan {month:%Y-%m} belum selesai; laporannya dibuat sesudah bulan "
                      "berakhir.")
    key = KEY.format(month=f"{month:%Y-%m}")
    with c.sessions() as session:
        done = session.get(OfficeSetting, key)
        f = figures(session, month, zone)
        if done is not None:
            document = session.get(Document, int(done.value))
            assert document is not None
            return MonthlyReport(document, f, figures_csv(f), False)
        kadis = holders(session, Role.KADIS, local_date(now, zone))
        signer = official(kadis[0] if kadis else None) or Official(
            audit.SYSTEM_ACTOR, "Dinas Komunikasi dan Informatika")
        seq, digest = audit.head_anchor(session)
    number = office_number(c, MONTHLY, now)
    pdf, code = lay_out(c, functools.partial(render_monthly_pdf, pictures=charts(f)), f,
                        number=number, signer=signer, anchor=(seq, digest), now=now)
    with c.unit_of_work() as session:
        if session.get(OfficeSetting, key) is not None:  # issued meanwhile elsewhere
            return monthly_report(c, month)
        document = issue_document(session, kind=MONTHLY, content=pdf,
                                  folder=c.settings.data_dir / "documents", now=now,
                                  number=number, code=code,
                                  issuer=c.office.stationery.office.name, signer=signer)
        session.add(OfficeSetting(key=key, value=str(document.id)))
        session.flush()
        session.expunge(document)
    return MonthlyReport(document, f, figures_csv(f), True)


def first_working_day(c: Container, month: date) -> date:
    """The office's first working day of `month`."""
    with c.sessions() as session:
        calendar = office_clock(session, c.settings.timezone).calendar
    day = month.replace(day=1)
    while calendar.opening(day) is None:
        day += timedelta(days=1)
    return day


def monthly_due(c: Container) -> date | None:
    """The month whose report is due now (the one before this, from this month's first
    working day's opening on), unless it was issued already."""
    zone, now = c.settings.timezone, c.clock()
    today = local_date(now, zone)
    first = first_working_day(c, today)
    with c.sessions() as session:
        calendar = office_clock(session, zone).calendar
        opening = calendar.opening(first)
        if today < first or opening is None or now < as_utc(opening[0]):
            return None
        previous = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
        if session.get(OfficeSetting, KEY.format(month=f"{previous:%Y-%m}")) is not None:
            return None
        if session.execute(select(Request.id).limit(1)).first() is None:
            return None  # an office that has served nothing yet has nothing to report
    return previous


def send_monthly(c: Container, report: MonthlyReport) -> None:
    """The report to the Kepala Dinas (and stand-ins), once."""
    zone, now = c.settings.timezone, c.clock()
    with c.unit_of_work() as session:
        readers = [p.telegram_id for p in holders(session, Role.KADIS, local_date(now, zone))
                   if p.telegram_id]
        text = render_text("chat/monthly_report.txt.j2", zone, f=report.figures,
                           document=report.document)
        for chat_id in readers:
            enqueue(session, key=f"monthly:{report.document.id}:{chat_id}", chat_id=chat_id,
                    kind="document", text=text, now=now,
                    attachment=Attachment(report.document.file_path,
                                          f"laporan-bulanan-{report.figures.month:%Y-%m}.pdf"))


def write_files(report: MonthlyReport, folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    name = f"laporan-bulanan-{report.figures.month:%Y-%m}"
    pdf, table = folder / f"{name}.pdf", folder / f"{name}.csv"
    pdf.write_bytes(Path(report.document.file_path).read_bytes())
    table.write_text(report.csv, encoding="utf-8")
    return pdf, table



def monthly_if_due(c: Container) -> bool:
    """On the office's first working day of a month, once it opens: last month's report,
    issued once and sent to the Kepala Dinas once."""
    month = monthly_due(c)
    if month is None:
        return False
    send_monthly(c, monthly_report(c, month))
    return True
