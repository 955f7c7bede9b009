"""`pulih self-backup` then `pulih self-restore`, on SQLite and PostgreSQL: every request,
event and letter number is back, the documents too, the activity record verifies, and
what the restore replaced is kept."""

from __future__ import annotations

import io
from pathlib import Path

from sqlalchemy import select

from bot.bootstrap import Container, bootstrap
from bot.cli import main
from bot.db.models import AuditEvent, LetterNumber, Request
from bot.services.documents.numbering import allocate_number
from bot.services.documents.registry import issue_document
from bot.services.office.self_backup import SUMS, backups, check_sums
from bot.settings import load_settings
from tests.support.case_records import walk_to_report
from tests.support.clock import WITA
from tests.support.office import NOW


def cli(env: Path, *args: str, typed: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["--env-file", str(env), *args], out=out, err=err, stdin=io.StringIO(typed),
                clock=lambda: NOW)
    return code, out.getvalue(), err.getvalue()


def records(c: Container) -> tuple[list[tuple[str, str]], list[tuple[int, str]], list[str]]:
    """What an auditor would compare: tickets and states, the chain, the number register."""
    with c.sessions() as session:
        return (
            [(r.ticket, r.state) for r in session.execute(
                select(Request).order_by(Request.id)).scalars()],
            [(e.seq, e.hash) for e in session.execute(
                select(AuditEvent).order_by(AuditEvent.seq)).scalars()],
            list(session.execute(select(LetterNumber.number).order_by(LetterNumber.id))
                 .scalars()))


def env_for(container: Container, tmp_path: Path) -> Path:
    s = container.settings
    env = tmp_path / "pulih.env"
    env.write_text(f"PULIH_DATABASE_URL={s.database_url}\nPULIH_DATA_DIR={s.data_dir}\n"
                   f"PULIH_INVENTORY={s.inventory_path}\n"
                   f"PULIH_SELF_BACKUP_DIR={tmp_path / 'cadangan'}\n", encoding="utf-8")
    return env


def test_a_self_backup_restored_brings_back_every_request_event_number_and_document(
        container: Container, tmp_path: Path) -> None:
    with container.unit_of_work() as session:
        request = walk_to_report(session)
        request_id = request.id
    number = allocate_number(container.sessions, kind="surat_pemberitahuan",
                             pattern="{security}-{seq}/{unit}/{classification}/{month:02d}/"
                                     "{year}", unit="Diskominfo", classification="000.6",
                             security="B", now=NOW, zone=WITA, request_id=request_id)
    documents = container.settings.data_dir / "documents"
    with container.unit_of_work() as session:
        issued = issue_document(session, kind="surat_pemberitahuan", content=b"%PDF-1.7 isi",
                                folder=documents, now=NOW, number=number.number,
                                request_id=request_id)
        issued_file = Path(issued.file_path)
    before = records(container)
    assert before[0] and len(before[1]) > 5 and before[2] == [number.number]
    env = env_for(container, tmp_path)

    code, out, err = cli(env, "self-backup")
    assert (code, err) == (0, ""), err
    (folder,) = backups(tmp_path / "cadangan")
    assert f"Cadangan Pulih dibuat: {folder}" in out
    assert f"1 permohonan, {len(before[1])} kejadian catatan kegiatan, 1 nomor surat" in out
    assert "catatan kegiatan utuh" in out
    assert check_sums(folder) is None
    assert (tmp_path / "cadangan").stat().st_mode & 0o077 == 0  # it holds the chain's key

    # Life goes on after the backup, then the database and a document are lost.
    with container.unit_of_work() as session:
        walk_to_report(session, reason="Permohonan kedua, setelah pencadangan.")
    assert len(records(container)[0]) == 2
    issued_file.unlink()
    container.close()

    # Without the typed confirmation nothing is replaced.
    code, out, err = cli(env, "self-restore", str(folder), typed="ya\n")
    assert code == 1 and "Ketik PULIHKAN untuk melanjutkan" in out
    assert err == "Dibatalkan; tidak ada yang diubah.\n"
    again = bootstrap(load_settings(environ={}, env_file=env))
    assert len(records(again)[0]) == 2
    again.close()

    code, out, err = cli(env, "self-restore", str(folder), typed="PULIHKAN\n")
    assert (code, err) == (0, ""), err
    assert f"Cadangan {folder.name} dipulihkan: 1 permohonan, {len(before[1])} kejadian " \
           "catatan kegiatan (rantai hash utuh), 1 nomor surat." in out
    assert "Disimpan: basis data lama:" in out  # what it replaced is kept, not deleted
    restored = bootstrap(load_settings(environ={}, env_file=env))
    try:
        assert records(restored) == before
    finally:
        restored.close()
    assert issued_file.read_bytes() == b"%PDF-1.7 isi"
    code, out, _ = cli(env, "audit", "verify")
    assert code == 0 and f"Catatan kegiatan utuh: {len(before[1])} kejadian" in out


def test_a_damaged_backup_is_refused_and_the_live_database_is_untouched(
        container: Container, tmp_path: Path) -> None:
    with container.unit_of_work() as session:
        walk_to_report(session)
    env = env_for(container, tmp_path)
    assert cli(env, "self-backup")[0] == 0
    (folder,) = backups(tmp_path / "cadangan")
    target = next(p for p in folder.iterdir() if p.name.startswith("pulih."))
    target.write_bytes(target.read_bytes()[:-10] + b"0123456789")
    before = records(container)
    container.close()
    code, out, err = cli(env, "self-restore", str(folder), "--yes")
    assert (code, out) == (1, "")
    assert err == f"Cadangan {folder} rusak: {target.name} tidak cocok dengan {SUMS}; tidak " \
                  "dipulihkan.\n"
    after = bootstrap(load_settings(environ={}, env_file=env))
    try:
        assert records(after) == before
    finally:
        after.close()
