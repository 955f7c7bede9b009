"""Restore drills against real servers: a MariaDB, a PostgreSQL and a files system on a
real sshd target, their backups on a real sshd backup server. A drill restores the newest
point into a shadow, verifies it and drops it: the live data (damaged on purpose, so a
swap would show) stays as it was, no shadow is left, and each drill's report is issued
and verifiable; a corrupt point fails with its reason and alerts the team."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import select

from bot.bootstrap import Container, bootstrap
from bot.cli import main
from bot.db.migrate import upgrade
from bot.db.models import Document, OutboxMessage, RestoreRun
from bot.demo.lab.fleet import Fleet, make_fleet
from bot.demo.lab.mariadb import MariaDB
from bot.demo.lab.sshd import SshServer
from bot.demo.office_lab import latest_point
from bot.inventory.loader import load_inventory
from bot.services.office.inventory_sync import sync_inventory
from bot.services.people.actors import actor_by_nip
from bot.services.restores.backups import record_check, run_check, system_access
from bot.services.restores.drills import prepare_drill, report_drill, unreported
from bot.services.restores.runs import execute, start_run, take_queued
from bot.settings import load_settings
from restore.errors import Busy
from restore.recipes import RunNames
from tests.support.clock import NOW, WITA, running
from tests.support.pdf import keep_png_pages, pdf_text

pytestmark = pytest.mark.dates

TEAM = -1001000000088
MEMBER = "199003172015031002"


def head() -> str:
    return f'''[office]
code = "DISKOMINFO"
name = "Dinas Komunikasi dan Informatika"
address = ["Jalan Wolter Monginsidi No. 1", "Tenggarong"]

[team]
group_chat_id = {TEAM}

[[agencies]]
code = "BKPSDM"
name = "Badan Kepegawaian dan Pengembangan Sumber Daya Manusia"

[[people]]
nip = "{MEMBER}"
name = "Dimas Pratama"
roles = ["tim"]
agency = "DISKOMINFO"
jabatan = "Pranata Komputer Ahli Muda"
'''


@pytest.fixture
def lab(tmp_path: Path, backup_server: SshServer, target_server: SshServer, mariadb: MariaDB,
        pg_server: str) -> Iterator[tuple[Container, Fleet, Path]]:
    fleet = make_fleet(tmp_path / "fleet", {"backup-a": backup_server}, target_server,
                       mariadb, pg_server, ["BKPSDM"], 3, latest_point(NOW, WITA), rows=500)
    fleet.damage()  # a drill that swapped would make them whole again
    inventory = tmp_path / "inventory.toml"
    inventory.write_text(fleet.inventory_text(head()))
    env_file = tmp_path / "pulih.env"
    env_file.write_text(f"PULIH_DATABASE_URL=sqlite:///{tmp_path / 'pulih.sqlite3'}\n"
                        f"PULIH_DATA_DIR={tmp_path / 'data'}\nPULIH_INVENTORY={inventory}\n")
    container = bootstrap(load_settings(environ={}, env_file=env_file), running())
    upgrade(container.engine)
    with container.unit_of_work() as session:
        sync_inventory(session, load_inventory(inventory), NOW)
    yield container, fleet, env_file
    container.close()


def drill(c: Container, code: str) -> str:
    """A drill asked for by the team member, carried out to its end: its outcome."""
    with c.sessions() as session:
        actor = actor_by_nip(session, MEMBER)
    prepared = prepare_drill(c, code, actor)
    assert prepared.queued, prepared.reason
    ticket = take_queued(c, prepared.run_id)
    assert ticket is not None and ticket.drill
    return execute(c, ticket).status


def leftovers(c: Container, fleet: Fleet) -> list[str]:
    """What this test's drills may have left: databases and folders named after a run (a
    shadow, a kept copy). Other tests' restores share the database servers and leave
    their own rollback copies, named after their runs."""
    with c.sessions() as session:
        keys = [RunNames(r.id, r.uid or "").key
                for r in session.execute(select(RestoreRun)).scalars()]
    names = fleet.mariadb.sql("SHOW DATABASES").split()
    admin = fleet.pg_url.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)[0]
    with psycopg.connect(admin + "/postgres") as conn:
        names += [row[0] for row in conn.execute("SELECT datname FROM pg_database")]
    names += [p.name for p in (fleet.folder / "www").iterdir()]
    assert keys
    return [name for name in names if any(key in name for key in keys)]


def team_texts(c: Container) -> list[str]:
    with c.sessions() as session:
        rows = session.execute(select(OutboxMessage).where(
            OutboxMessage.chat_id == TEAM).order_by(OutboxMessage.id)).scalars()
        return [json.loads(r.payload)["text"] for r in rows]


def verify(env_file: Path, path: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["--env-file", str(env_file), "letters", "verify", path], out=out, err=out,
                clock=running())
    return code, out.getvalue()


def test_three_drills_leave_the_live_data_as_it_was_and_issue_three_verifiable_reports(
        lab: tuple[Container, Fleet, Path], tmp_path: Path) -> None:
    c, fleet, env_file = lab
    damaged = {s.code: fleet.digest(s) for s in fleet.systems}
    assert all(damaged[code] != fleet.expected[code] for code in damaged)
    assert [s.recipe for s in fleet.systems] == ["mariadb", "postgresql", "files"]
    for system in fleet.systems:
        assert drill(c, system.code) == "succeeded"
    assert {s.code: fleet.digest(s) for s in fleet.systems} == damaged
    assert leftovers(c, fleet) == []

    issued = [report_drill(c, run_id) for run_id in unreported(c)]
    assert len(issued) == 3 and None not in issued
    assert unreported(c) == []  # reported once
    with c.sessions() as session:
        documents = session.execute(select(Document).where(
            Document.kind == "laporan_uji").order_by(Document.id)).scalars().all()
        runs = session.execute(select(RestoreRun).order_by(RestoreRun.id)).scalars().all()
    assert [r.kind for r in runs] == ["uji"] * 3
    assert all(r.lock_key is None and r.rollback_ref == "" for r in runs)
    numbers = [d.number for d in documents]
    assert len(set(numbers)) == 3 and all(n and "/Diskominfo/" in n for n in numbers)
    for document, system in zip(documents, fleet.systems, strict=True):
        code, out = verify(env_file, document.file_path)
        assert code == 0 and "ASLI" in out and "Laporan Uji Pemulihan" in out, out
        text = pdf_text(Path(document.file_path).read_bytes(), tmp_path)
        assert "LAPORAN UJI PEMULIHAN BACKUP" in text and system.code in text
        assert "BERHASIL" in text and "Data live tidak disentuh" in text
        assert ("500 baris" in text) if system.recipe != "files" else ("berkas" in text)
        assert "Verifikasi salinan sementara" in text  # the phase and its time
        assert keep_png_pages(Path(document.file_path).read_bytes(),
                              f"laporan_uji-{system.recipe}", dpi=80)
    texts = team_texts(c)
    assert sum(t.startswith("UJI PEMULIHAN BERHASIL") for t in texts) == 3

    # One byte of the MariaDB system's point changes on the backup server: the next drill
    # fails at the check, with the reason, and the team is alerted.
    mariadb = fleet.systems[0]
    point = fleet.root(mariadb.server) / mariadb.code / fleet.point
    dump = point / f"{mariadb.code}.sql.gz"
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0x01
    dump.write_bytes(bytes(data))
    with c.sessions() as session:
        actor = actor_by_nip(session, MEMBER)
    failed = prepare_drill(c, mariadb.code, actor)
    assert not failed.queued and "SHA-256 TIDAK COCOK" in failed.reason
    (run_id,) = unreported(c)
    report_drill(c, run_id)
    alert = team_texts(c)[-1]
    assert alert.startswith("PERINGATAN: UJI PEMULIHAN GAGAL") and mariadb.code in alert
    assert "SHA-256 TIDAK COCOK" in alert
    assert fleet.digest(mariadb) == damaged[mariadb.code]


def test_a_drill_waits_for_no_real_restore_and_a_real_restore_stops_a_waiting_drill(
        lab: tuple[Container, Fleet, Path]) -> None:
    c, fleet, _ = lab
    code = fleet.systems[2].code
    with c.sessions() as session:
        actor = actor_by_nip(session, MEMBER)
        access = system_access(session, code, WITA)
    # A drill waits its turn; the team then restores the system for real: the drill is
    # stopped before it began and the restore goes ahead.
    prepared = prepare_drill(c, code, actor)
    assert prepared.queued
    report = run_check(access, fleet.point, c.clock())
    with c.unit_of_work() as session:
        check = record_check(session, access, report, started_at=c.clock(), now=c.clock(),
                             actor_id=actor.person_id, actor_name=actor.name, actor_role="tim")
        real = start_run(session, access, check, actor, c.clock(), WITA, queued=True)
    with c.sessions() as session:
        stopped = session.get(RestoreRun, prepared.run_id)
        assert stopped is not None and stopped.status == "cancelled"
        assert "restore sungguhan" in stopped.error
    assert take_queued(c, prepared.run_id) is None  # its turn, if it comes, is empty
    # While the real restore waits or runs, no drill of the system is started.
    with pytest.raises(Busy, match="tidak dijalankan selama ada restore sungguhan"):
        prepare_drill(c, code, actor)
    ticket = take_queued(c, real.run_id)
    assert ticket is not None and execute(c, ticket).status == "succeeded"
    assert fleet.digest(fleet.systems[2]) == fleet.expected[code]
    # The stopped drill is said in the team group, once, with no report.
    assert unreported(c) == [prepared.run_id]
    assert report_drill(c, prepared.run_id) is None
    assert unreported(c) == []
    said = [t for t in team_texts(c) if t.startswith(f"Uji pemulihan #{prepared.run_id}")]
    assert len(said) == 1 and "dihentikan" in said[0]
