"""The monthly service report for a month of generated history: 210 requests taken through
the SOP by the real services at chosen times (some rejected, some with a failed restore
first, some never acknowledged, some steps late). Every figure in the CSV and the PDF is
checked against figures computed here from what was generated, not from Pulih's records."""

from __future__ import annotations

import csv
import io
import json
import math
import random
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.bootstrap import Container, bootstrap
from bot.cli import main
from bot.db.migrate import upgrade
from bot.db.models import (
    BackupWatch,
    Document,
    OutboxMessage,
    Person,
    RestoreRun,
    System,
    WatchRun,
)
from bot.inventory.loader import load_inventory
from bot.services.office.inventory_sync import sync_inventory
from bot.services.people.actors import actor_by_nip
from bot.services.reports.monthly import first_working_day, monthly_if_due, monthly_report
from bot.services.requests.records import NewRequest, Scope, apply_action, submit_request
from bot.settings import load_settings
from bot.workflow.refusals import Refusal
from bot.workflow.rules import Actor
from bot.workflow.sop import Action
from bot.workflow.worktime import Calendar
from tests.support.clock import NOW, WITA
from tests.support.office import NIPS, write_inventory
from tests.support.pdf import keep_png_pages, pdf_text, squash

pytestmark = pytest.mark.dates

STANDARD = {2: 30, 3: 10, 4: 30, 5: 60, 6: 30, 7: 15, 8: 15}  # the SOP's Mutu Baku, minutes
SYSTEMS = {"portal-pendidikan": ("requester", "Dinas Pendidikan dan Kebudayaan"),
           "simpeg": ("opd_other", "Badan Kepegawaian dan Pengembangan Sumber Daya Manusia")}
REJECTED = "Bukan kewenangan Diskominfo: server dikelola pihak ketiga"
FAILED = "Impor gagal: ruang disk server tujuan penuh"


def last_month() -> date:
    return (NOW.astimezone(WITA).date().replace(day=1) - timedelta(days=1)).replace(day=1)


@dataclass
class History:
    """What was generated: each step's minutes for the steps that ended, the late ones
    and why, and each request's agency, outcome and filing day."""

    took: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    late: list[tuple[int, str]] = field(default_factory=list)  # (step, reason) ended late
    open_late: int = 0
    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)
    days: list[int] = field(default_factory=list)


def generate(c: Container, month: date, count: int = 210, seed: int = 20) -> History:
    rng = random.Random(seed)  # noqa: S311 - test data
    history = History()
    with c.sessions() as session:
        actors = {key: actor_by_nip(session, NIPS[key]) for key in
                  ("requester", "opd_other", "kadis", "kabid_a", "tim_exec")}
    first = datetime.combine(month, time(8), WITA)
    for n in range(count):
        system = "portal-pendidikan" if n % 2 else "simpeg"
        filed = first + timedelta(minutes=n * 24 * 60 * 24 // count)  # over 24 days
        history.days.append(filed.day)
        path = rng.choices(["full", "rejected", "failed", "unacknowledged"],
                           [78, 8, 8, 6])[0]
        minutes = {step: rng.randint(1, std) if rng.random() > 0.15
                   else rng.randint(std + 1, 3 * std) for step, std in STANDARD.items()}
        Flow(c, history, actors, system, filed, minutes).take(n, path)
    return history


@dataclass
class Flow:
    """One request taken through the SOP at chosen minutes, and what that generated."""

    c: Container
    history: History
    actors: dict[str, Actor]
    system: str
    moment: datetime
    minutes: dict[int, int]
    request_id: int = 0

    def act(self, role: str, action: Action, after: int, **kw: object) -> None:
        self.moment += timedelta(minutes=after)
        with self.c.unit_of_work() as session:
            apply_action(session, self.request_id, self.actors[role], action, self.moment,
                         WITA, **kw)  # type: ignore[arg-type]

    def ended(self, step: int, reason: str = "") -> None:
        self.history.took[step].append(self.minutes[step])
        if self.minutes[step] > STANDARD[step]:
            self.history.late.append((step, reason or "tanpa keterangan tercatat"))

    def take(self, n: int, path: str) -> None:
        who, agency = SYSTEMS[self.system]
        with self.c.unit_of_work() as session:
            self.request_id = submit_request(session, self.actors[who], NewRequest(
                self.system, Scope.DATABASE, f"Permohonan nomor {n}"), self.moment, WITA).id
        minutes = self.minutes
        if path == "rejected":
            self.act("kadis", Action.REJECT, minutes[2], reason=REJECTED)
            self.ended(2, REJECTED)
            self.history.outcomes[(agency, "Ditolak")] += 1
            return
        self.act("kadis", Action.DISPOSE, minutes[2],
                 target_id=self.actors["kabid_a"].person_id)
        self.ended(2)
        self.act("kabid_a", Action.ASSIGN, minutes[3])
        self.ended(3)
        self.act("tim_exec", Action.CHECK_BACKUP, minutes[4])
        self.ended(4)
        if path == "failed":  # a restore that failed, checked and done again: one step 5
            self.act("tim_exec", Action.START_RESTORE, 1)
            self.act("tim_exec", Action.FAIL_RESTORE, 1, reason=FAILED)
            self.act("tim_exec", Action.CHECK_BACKUP, 1)
            minutes[5] += 3
        self.act("tim_exec", Action.START_RESTORE, 0)
        self.act("tim_exec", Action.FINISH_RESTORE, minutes[5] - (3 if path == "failed" else 0))
        self.act("tim_exec", Action.VERIFY, 0)
        self.ended(5, FAILED if path == "failed" else "")
        self.act("tim_exec", Action.SUBMIT_REPORT, 0)
        self.act("kabid_a", Action.RATIFY, minutes[6])
        self.ended(6)
        self.act("tim_exec", Action.NOTIFY, minutes[7])
        self.ended(7)
        if path == "unacknowledged":  # still waiting at the month's end: late, not ended
            self.history.open_late += 1
            self.history.outcomes[(agency, "Masih berjalan")] += 1
            return
        self.act(who, Action.ACKNOWLEDGE, minutes[8])
        self.ended(8)
        self.history.outcomes[(agency, "Selesai")] += 1


def record_watch_and_drill(c: Container, month: date) -> None:
    """Two mornings of the backup watch (simpeg stale on the second) and one drill, as
    their own services record them."""
    with c.unit_of_work() as session:
        simpeg = session.execute(select(System).where(System.code == "simpeg")).scalar_one()
        for day, findings in ((3, []), (4, [{"kind": "basi", "point": "p", "detail": "lama"}])):
            at = datetime.combine(month + timedelta(days=day), time(6), WITA)
            run = WatchRun(trigger="jadwal", day=at.date(), started_at=at, finished_at=at)
            session.add(run)
            session.flush()
            session.add(BackupWatch(run_id=run.id, system_id=simpeg.id, checked_at=at,
                                    status="masalah" if findings else "baik",
                                    findings=json.dumps(findings)))
        at = datetime.combine(month + timedelta(days=9), time(20), WITA)
        session.add(RestoreRun(system_id=simpeg.id, status="succeeded", started_at=at,
                               finished_at=at, kind="uji", phases="[]", verification="{}"))


@pytest.fixture
def office(tmp_path: Path) -> Iterator[tuple[Container, Path]]:
    inventory = write_inventory(tmp_path / "office")
    env_file = tmp_path / "pulih.env"
    env_file.write_text(f"PULIH_DATABASE_URL=sqlite:///{tmp_path / 'pulih.sqlite3'}\n"
                        f"PULIH_DATA_DIR={tmp_path / 'data'}\nPULIH_INVENTORY={inventory}\n")
    c = bootstrap(load_settings(environ={}, env_file=env_file), clock=lambda: NOW)
    upgrade(c.engine)
    with c.unit_of_work() as session:
        sync_inventory(session, load_inventory(inventory), NOW)
    yield c, env_file
    c.close()


def minutes_text(value: float) -> str:
    return f"{value:.1f}".replace(".", ",")


def test_the_monthly_report_states_exactly_the_figures_of_the_generated_month(
        office: tuple[Container, Path], tmp_path: Path) -> None:
    c, env_file = office
    month = last_month()
    history = generate(c, month)
    assert sum(history.outcomes.values()) == 210
    record_watch_and_drill(c, month)

    out = io.StringIO()
    code = main(["--env-file", str(env_file), "report", "monthly", "--month",
                 f"{month:%Y-%m}", "--out", str(tmp_path / "laporan")], out=out, err=out,
                clock=lambda: NOW)
    assert code == 0, out.getvalue()
    table = list(csv.reader((tmp_path / "laporan" / f"laporan-bulanan-{month:%Y-%m}.csv")
                            .read_text(encoding="utf-8").splitlines()))
    rows = defaultdict(list)
    for row in table[1:]:
        rows[row[0]].append(row[1:])
    assert rows["bulan"] == [[f"{month:%Y-%m}", "210", "", "", "", ""]]

    # Steps: count, median, p90 (nearest rank), Mutu Baku, share within, in minutes.
    expected_steps = {}
    for step, std in STANDARD.items():
        values = sorted(history.took[step])
        p90 = values[math.ceil(0.9 * len(values)) - 1]
        within = sum(v <= std for v in values) / len(values)
        expected_steps[str(step)] = [str(len(values)), f"{statistics.median(values):.1f}",
                                     f"{p90:.1f}", f"{std:.1f}", f"{100 * within:.1f}"]
    got = {r[0]: r[1:6] for r in rows["langkah"] if r[0] != "1"}
    assert got == expected_steps

    # Agencies and outcomes.
    for name, filed, *outcomes in rows["instansi"]:
        said = dict(o.split("=") for o in outcomes)
        for label, n in said.items():
            assert int(n) == history.outcomes[(name, label)], (name, label)
        assert int(filed) == sum(n for (a, _), n in history.outcomes.items() if a == name)
    # Breaches: the late steps with what was recorded, and those still running late.
    ended = sorted((int(r[1]), r[5]) for r in rows["pelanggaran"] if r[4] == "selesai")
    assert ended == sorted(history.late)
    assert sum(r[4] == "belum selesai" for r in rows["pelanggaran"]) == history.open_late
    # The backup watch's two mornings and the drill of the month.
    assert rows["pantauan_backup"][0][:2] == ["putaran", "2"]
    assert ["backup basi", "1"] in [r[:2] for r in rows["pantauan_backup"]]
    assert [r[:3] for r in rows["uji_pemulihan"]] == [
        ["simpeg", "berhasil", (month + timedelta(days=9)).isoformat()]]
    # Requests per week of the month.
    weeks = Counter((day - 1) // 7 for day in history.days)
    assert [int(r[1]) for r in rows["minggu"]] == [weeks[w] for w in range(len(rows["minggu"]))]

    # The PDF says the same, and is an issued, numbered document.
    pdf = (tmp_path / "laporan" / f"laporan-bulanan-{month:%Y-%m}.pdf").read_bytes()
    text = squash(pdf_text(pdf, tmp_path))
    lines = pdf_text(pdf, tmp_path, layout=True).splitlines()
    assert squash("LAPORAN BULANAN PELAYANAN RESTORE") in text
    assert squash("Permohonan masuk: 210.") in text
    for number, (ended_n, middle, top, std_text, share) in expected_steps.items():
        cells = [ended_n, minutes_text(float(middle)), minutes_text(float(top)),
                 minutes_text(float(std_text)), minutes_text(float(share)) + "%"]
        shown = [line.split() for line in lines if line.split()[:1] == [number]]
        assert any(row[-5:] == cells for row in shown), (number, cells, shown)
    assert squash(REJECTED) in text and squash(FAILED) in text
    assert text.count(squash("(belum selesai)")) == history.open_late
    with c.sessions() as session:
        document = session.execute(select(Document).where(
            Document.kind == "laporan_bulanan")).scalar_one()
    assert document.number and document.sha256
    assert keep_png_pages(pdf, "laporan_bulanan", dpi=70)

    # Asked again: the same document, not a second one; a month not yet over is refused.
    again = monthly_report(c, month)
    assert not again.fresh and again.document.id == document.id
    with pytest.raises(Refusal, match="belum selesai"):
        monthly_report(c, NOW.astimezone(WITA).date())


def test_last_months_report_reaches_the_kepala_dinas_once_on_the_first_working_day(
        tmp_path: Path) -> None:
    inventory = write_inventory(tmp_path / "office")
    now = [NOW]
    c = bootstrap(load_settings(environ={
        "PULIH_DATABASE_URL": f"sqlite:///{tmp_path / 'pulih.sqlite3'}",
        "PULIH_DATA_DIR": str(tmp_path / "data"), "PULIH_INVENTORY": str(inventory)},
        env_file=tmp_path / "absent.env"), clock=lambda: now[0])
    upgrade(c.engine)
    with c.unit_of_work() as session:
        sync_inventory(session, load_inventory(inventory), NOW)
        kadis = session.execute(select(Person).where(Person.nip == NIPS["kadis"])).scalar_one()
        kadis.telegram_id = 5301
    try:
        month = last_month()
        generate(c, month, count=12)
        first = first_working_day(c, NOW.astimezone(WITA).date())
        assert first.month == NOW.astimezone(WITA).month and Calendar(WITA).opening(first)
        now[0] = datetime.combine(first, time(7, 0), WITA)  # before the office opens
        assert not monthly_if_due(c)
        now[0] = datetime.combine(first, time(7, 45), WITA)
        assert monthly_if_due(c)
        assert not monthly_if_due(c)  # once
        now[0] += timedelta(days=3)
        assert not monthly_if_due(c)
        with c.sessions() as session:
            sent = session.execute(select(OutboxMessage).where(
                OutboxMessage.chat_id == 5301)).scalars().all()
        assert len(sent) == 1
        assert f"LAPORAN BULANAN PELAYANAN RESTORE {month:%m/%Y}" in json.loads(
            sent[0].payload)["text"]
        assert json.loads(sent[0].payload)["document"]["filename"] == \
            f"laporan-bulanan-{month:%Y-%m}.pdf"
    finally:
        c.close()
