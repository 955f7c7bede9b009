"""The morning backup watch against a real sshd backup server with six systems: one
fresh, one stale, one missing, one shrunk, one with a corrupt byte and one without
SHA256SUMS. What the team group is told, what the history keeps, and that nothing is said
twice."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.bootstrap import Container, bootstrap
from bot.cli import main
from bot.db.migrate import upgrade
from bot.db.models import BackupWatch, OutboxMessage, System, WatchRun
from bot.demo.lab.sshd import SshServer
from bot.inventory.loader import load_inventory
from bot.services.office.inventory_sync import sync_inventory
from bot.services.watch.run import Result, morning_watch, watch_backups
from bot.settings import load_settings
from tests.support.backups import write_point
from tests.support.watch_lab import (
    MORNING,
    SYSTEMS,
    dump,
    stamp,
    write_lab,
)

pytestmark = pytest.mark.dates

@dataclass
class Office:
    container: Container
    root: Path
    now: list[datetime]
    env_file: Path

    def cli(self, *args: str) -> tuple[int, str]:
        """`pulih ARGS` in this process, on the office's clock: exit code, what it wrote."""
        out = io.StringIO()
        code = main(["--env-file", str(self.env_file), *args], out=out, err=out,
                    clock=lambda: self.now[0])
        return code, out.getvalue()

    def advance(self, days: int) -> None:
        self.now[0] += timedelta(days=days)

    def messages(self) -> list[str]:
        with self.container.sessions() as session:
            rows = session.execute(select(OutboxMessage).where(
                OutboxMessage.kind == "backup_watch").order_by(OutboxMessage.id)).scalars()
            return [json.loads(r.payload)["text"] for r in rows]

    def alerts(self) -> list[str]:
        return [m for m in self.messages() if m.startswith("PERINGATAN BACKUP")]


@pytest.fixture
def office(tmp_path: Path, backup_server: SshServer, database_url: str) -> Iterator[Office]:
    root, path = write_lab(tmp_path, backup_server)
    env_file = tmp_path / "pulih.env"
    env_file.write_text(f"PULIH_DATABASE_URL={database_url}\n"
                        f"PULIH_DATA_DIR={tmp_path / 'data'}\nPULIH_INVENTORY={path}\n")
    settings = load_settings(environ={}, env_file=env_file)
    # 07.00 WITA on the tests' day: past the watch time of 06.30.
    now = [MORNING]
    container = bootstrap(settings, clock=lambda: now[0])
    upgrade(container.engine)
    with container.unit_of_work() as session:
        sync_inventory(session, load_inventory(path), now[0])
    yield Office(container, root, now, env_file)
    container.close()


def test_the_morning_watch_names_exactly_the_five_problems_and_alerts_each_once(
        office: Office) -> None:
    first = morning_watch(office.container)
    assert first is not None
    summary = office.messages()[-1]
    assert summary.startswith("PANTAUAN BACKUP")
    # The cheap look finds four at once; the corrupt byte waits for sipd's full check.
    assert [r.code for r in first.troubled] == ["dukcapil", "bapenda", "ekinerja", "simpeg"]
    assert "Perlu perhatian: 4 sistem." in summary
    assert "BACKUP HILANG" in summary and "BACKUP BASI" in summary
    assert "BACKUP MENYUSUT" in summary and "TANPA CHECKSUM" in summary
    assert "Baik: arsip, sipd." in summary
    alerts = office.alerts()
    assert len(alerts) == 4
    for code, label in (("dukcapil", "BACKUP HILANG"), ("bapenda", "BACKUP BASI"),
                        ("ekinerja", "BACKUP MENYUSUT"), ("simpeg", "TANPA CHECKSUM")):
        (alert,) = [a for a in alerts if f"({code})" in a]
        assert label in alert
    assert "berumur 3 hari" in next(a for a in alerts if "(bapenda)" in a)
    assert "seharusnya ada backup baru tiap 1 hari" in next(a for a in alerts
                                                            if "(bapenda)" in a)

    # The morning's own run is done for today.
    assert morning_watch(office.container) is None

    # The next mornings the rotation reaches sipd (2 systems a day over a 3-day cycle).
    found_on = None
    for day in (1, 2):
        office.advance(1)
        outcome = morning_watch(office.container)
        assert outcome is not None
        if any(r.code == "sipd" for r in outcome.troubled):
            found_on = day
            break
    assert found_on == 2
    corrupt = [a for a in office.alerts() if "(sipd)" in a]
    assert len(corrupt) == 1
    assert "BACKUP RUSAK" in corrupt[0] and "SHA-256 TIDAK COCOK" in corrupt[0]
    summary = office.messages()[-1]
    assert "Perlu perhatian: 5 sistem." in summary
    assert "- sipd: BACKUP RUSAK. checksum sipd.sql.gz: SHA-256 TIDAK COCOK" in summary
    assert "Baik: arsip." in summary

    # Run twice more, asked for from the group: the corrupt point stays named (carried
    # from its full check, or checked again), and no alert repeats.
    for _ in range(2):
        outcome = watch_backups(office.container, trigger="grup")
        assert outcome is not None
        assert sorted(r.code for r in outcome.troubled) == [
            "bapenda", "dukcapil", "ekinerja", "simpeg", "sipd"]
    assert len(office.alerts()) == 5

    # Every system was fully checked within the cycle, and its history kept.
    with office.container.sessions() as session:
        rows = session.execute(select(BackupWatch, System.code).join(
            System, System.id == BackupWatch.system_id)).all()
        assert {code for row, code in rows if row.full} == set(SYSTEMS)
        runs = session.execute(select(WatchRun).order_by(WatchRun.id)).scalars().all()
        assert len(runs) == 5 and all(r.finished_at is not None for r in runs)
        last = {code: row.status for row, code in rows if row.run_id == runs[-1].id}
        assert last == {"arsip": "baik", **{c: "masalah" for c in SYSTEMS if c != "arsip"}}
        # sipd's history: fine by the cheap look, then corrupt once fully read.
        assert [row.status for row, code in sorted(rows, key=lambda r: r[0].id)
                if code == "sipd"] == ["baik", "baik", "masalah", "masalah", "masalah"]


def test_a_fixed_backup_is_quiet_and_a_new_problem_with_it_is_alerted_again(
        office: Office) -> None:
    watch_backups(office.container, trigger="cli")
    assert len(office.alerts()) == 4
    # bapenda's job runs again: fresh, and said to be fine; then its next point is empty.
    write_point(office.root / "bapenda", stamp(office.now[0] - timedelta(hours=2)),
                {"bapenda.sql.gz": dump(50)})
    outcome = watch_backups(office.container, trigger="cli")
    assert outcome is not None and "bapenda" not in {r.code for r in outcome.troubled}
    office.advance(1)
    write_point(office.root / "bapenda", stamp(office.now[0] - timedelta(hours=2)),
                {"bapenda.sql.gz": b""})
    outcome = watch_backups(office.container, trigger="cli")
    assert outcome is not None
    alerts = [a for a in office.alerts() if "(bapenda)" in a]
    assert len(alerts) == 2
    assert "BACKUP RUSAK" in alerts[1] and "kosong (0 bita)" in alerts[1]


def test_a_backup_server_out_of_reach_is_one_alert_not_one_per_system(
        office: Office, tmp_path: Path) -> None:
    text = office.container.settings.inventory_path.read_text()
    office.container.settings.inventory_path.write_text(
        text.replace('host = "127.0.0.1"\nport', 'host = "127.0.0.1"\nport = 9\n#', 1))
    with office.container.unit_of_work() as session:
        sync_inventory(session, load_inventory(office.container.settings.inventory_path),
                       office.now[0])
    outcome = watch_backups(office.container, trigger="grup")
    assert outcome is not None and len(outcome.troubled) == 6
    alerts = office.alerts()
    assert len(alerts) == 1
    assert "server backup backup-dc" in alerts[0] and "tidak dapat" in alerts[0]
    assert "SERVER BACKUP TAK TERJANGKAU" in office.messages()[-1]


def test_pulih_backups_watch_prints_each_system_and_exits_1_on_problems(
        office: Office) -> None:
    code, out = office.cli("backups", "watch", "--penuh")
    assert code == 1
    assert "Pantauan backup" in out and "6 sistem" in out
    for system in SYSTEMS:
        assert system in out
    assert "BACKUP RUSAK [baru]: checksum sipd.sql.gz" in out
    assert "perintah SSH" in out
    code, out = office.cli("backups", "watch", "arsip")
    assert code == 0 and "Semua baik." in out
    code, out = office.cli("backups", "watch", "tidak-ada")
    assert code != 0 and "tidak-ada" in out


def test_a_morning_watch_cut_off_is_run_again_and_repeats_no_alert(office: Office) -> None:
    stop = threading.Event()
    seen: list[str] = []

    def after(result: Result) -> None:
        seen.append(result.code)
        if len(seen) == 3:
            stop.set()  # the bot stopping after three systems were recorded

    assert watch_backups(office.container, trigger="jadwal", on_result=after,
                         stop=stop) is None
    cut_short = len(office.alerts())
    assert 0 < cut_short < 4
    assert not any(m.startswith("PANTAUAN BACKUP") for m in office.messages())
    outcome = morning_watch(office.container)  # the next start: due again, run whole
    assert outcome is not None and len(outcome.results) == 6
    assert len(office.alerts()) == 4
    assert sum(m.startswith("PANTAUAN BACKUP") for m in office.messages()) == 1
    assert morning_watch(office.container) is None


def test_the_watch_waits_for_the_office_watch_time(office: Office) -> None:
    office.now[0] = office.now[0].replace(hour=6, minute=29)
    assert morning_watch(office.container) is None
    office.now[0] = office.now[0].replace(minute=30)
    assert morning_watch(office.container) is not None
