"""`pulih backups list` and `check`: the break-glass path, recorded like the chat path."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.bootstrap import bootstrap
from bot.cli import main
from bot.db.models import AuditEvent, BackupCheck, Request
from bot.demo.lab.sshd import SshServer
from bot.services.people.actors import actor_by_nip
from bot.services.requests.records import NewRequest, Scope, apply_action, submit_request
from bot.settings import load_settings
from bot.workflow.sop import Action
from tests.support.backups import MARIADB_DUMP, gz, write_point
from tests.support.clock import WITA, running
from tests.support.networked_office import networked_office
from tests.support.office import NIPS, NOW


@pytest.fixture
def office(tmp_path: Path, backup_server: SshServer, target_server: SshServer,
           monkeypatch: pytest.MonkeyPatch) -> Path:
    """A SQLite office whose SIMPEG backups sit behind the test backup sshd."""
    root = tmp_path / "srv-backup"
    system = root / "simpeg"
    write_point(system, "20261122-0200", {"simpeg.sql.gz": gz(MARIADB_DUMP.encode())},
                manifest={"pegawai": 2})
    write_point(system, "20261123-0200", {"simpeg.sql.gz": gz(MARIADB_DUMP.encode())})
    return networked_office(tmp_path, backup_server, target_server, root)


def run(env_file: Path, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["--env-file", str(env_file), *args], out=out, err=err, clock=running())
    return code, out.getvalue(), err.getvalue()


def test_list_shows_points_newest_first_in_wita(office: Path) -> None:
    code, out, err = run(office, "backups", "list", "simpeg")
    assert (code, err) == (0, "")
    lines = [line for line in out.splitlines() if line.startswith("  ")]
    assert lines[0].split()[0] == "20261123-0200" and lines[1].split()[0] == "20261122-0200"
    assert "23 November 2026 02.00 WITA" in lines[0] and "simpeg.sql.gz" in lines[0]


def test_check_prints_each_item_and_records_the_result(office: Path) -> None:
    code, out, err = run(office, "backups", "check", "simpeg", "20261122-0200", "--nip",
                         NIPS["tim_exec"])
    assert (code, err) == (0, "")
    assert "[OK] checksum simpeg.sql.gz: SHA-256 cocok" in out
    assert "[!!] umur: Bukan backup terbaru" in out
    assert "Hasil: LULUS DENGAN PERINGATAN" in out
    assert "bukan bahwa isinya aman" in out
    container = bootstrap(load_settings(environ={}, env_file=office), running())
    with container.sessions() as session:
        check = session.execute(select(BackupCheck)).scalar_one()
        assert (check.point, check.status) == ("20261122-0200", "warning")
        assert json.loads(check.result)["manifest"] == {"tables": {"pegawai": 2}}
        event = session.execute(select(AuditEvent).order_by(AuditEvent.seq.desc())
                                ).scalars().first()
        assert event is not None and event.action == "backup_check"
        assert event.actor_name == "Dimas Pratama"
    container.close()


def test_a_check_for_a_request_moves_it_to_backup_checked(office: Path) -> None:
    container = bootstrap(load_settings(environ={}, env_file=office), running())
    zone = container.settings.timezone
    with container.unit_of_work() as session:
        opd = actor_by_nip(session, NIPS["opd_other"])
        request = submit_request(session, opd, NewRequest("simpeg", Scope.DATABASE, "Rusak"), NOW,
                                 zone)
        apply_action(session, request.id, actor_by_nip(session, NIPS["kadis"]), Action.DISPOSE,
                     NOW, zone, target_id=actor_by_nip(session, NIPS["kabid_a"]).person_id)
        apply_action(session, request.id, actor_by_nip(session, NIPS["kabid_a"]), Action.ASSIGN,
                     NOW, zone)
        ticket = request.ticket
    code, out, err = run(office, "backups", "check", "simpeg", "20261123-0200", "--nip",
                         NIPS["tim_exec"], "--request", ticket)
    assert (code, err) == (0, ""), out
    with container.sessions() as session:
        stored = session.execute(select(Request)).scalar_one()
        assert stored.state == "backup_checked"
    container.close()


def test_an_opd_user_cannot_check_for_a_request_through_the_cli(office: Path) -> None:
    container = bootstrap(load_settings(environ={}, env_file=office), running())
    with container.unit_of_work() as session:
        opd = actor_by_nip(session, NIPS["opd_other"])
        ticket = submit_request(session, opd, NewRequest("simpeg", Scope.DATABASE, "Rusak"),
                                NOW, WITA).ticket
    container.close()
    code, _, err = run(office, "backups", "check", "simpeg", "20261123-0200", "--nip",
                       NIPS["opd_other"], "--request", ticket)
    assert code == 1 and "hanya dapat dilakukan oleh JFT/Tim Teknis" in err
    container = bootstrap(load_settings(environ={}, env_file=office), running())
    with container.sessions() as session:
        assert session.execute(select(BackupCheck)).first() is None
    container.close()


def test_an_unknown_system_or_point_is_a_clear_message(office: Path) -> None:
    code, _, err = run(office, "backups", "list", "tidak-ada")
    assert code == 1 and "tidak terdaftar" in err
    code, _, err = run(office, "backups", "check", "simpeg", "20991231-0000")
    assert code == 1 and "tidak ditemukan" in err
    code, _, err = run(office, "backups", "check", "simpeg", "../../etc")
    assert code == 1 and "tidak sah" in err
