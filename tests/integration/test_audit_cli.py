"""`pulih audit verify` and `export`, driven through the installed command on a real file."""

from __future__ import annotations

import csv
import io
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.bootstrap import bootstrap
from bot.db.migrate import upgrade
from bot.db.models import AuditEvent, AuditHead
from bot.inventory.loader import load_inventory
from bot.services.audit.chain import append_event, chain_key, event_hash, head_anchor
from bot.services.audit.key import read_key
from bot.services.office.inventory_sync import sync_inventory
from bot.settings import load_settings
from tests.support.cli import office_env, pulih
from tests.support.clock import running, wita
from tests.support.office import NOW

BOT_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"


@pytest.fixture
def audited_db(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    """A SQLite file with a chain of 6 events, and the environment pointing `pulih` at it."""
    db = tmp_path / "pulih.sqlite3"
    env = office_env(tmp_path)
    settings = load_settings(environ=env)
    container = bootstrap(settings, running())
    upgrade(container.engine)
    with container.unit_of_work() as session:
        sync_inventory(session, load_inventory(settings.inventory_path), NOW)
        for n in range(5):
            append_event(session, action=f"uji_{n}", now=NOW, note=f"catatan {n}",
                         data={"n": n})
    container.close()
    yield db, env




def test_an_untouched_chain_verifies(audited_db: tuple[Path, dict[str, str]]) -> None:
    _, env = audited_db
    result = pulih(env, "audit", "verify")
    assert result.returncode == 0, result.stderr
    assert "6 kejadian" in result.stdout


def test_altering_an_event_is_detected_at_that_event(
        audited_db: tuple[Path, dict[str, str]]) -> None:
    db, env = audited_db
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE audit_events SET note = 'diganti' WHERE seq = 3")
    result = pulih(env, "audit", "verify")
    assert result.returncode == 1
    assert "kejadian #3 diubah" in result.stderr


def test_an_altered_event_with_a_recomputed_hash_breaks_the_next_link(
        audited_db: tuple[Path, dict[str, str]]) -> None:
    db, env = audited_db
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE audit_events SET note = 'diganti' WHERE seq = 3")
    container = bootstrap(load_settings(environ=env), running())
    with container.unit_of_work() as session:
        from bot.db.models import AuditEvent

        event = session.get(AuditEvent, 3)
        assert event is not None
        event.hash = event_hash(event, event.prev_hash, chain_key(session))
    container.close()
    result = pulih(env, "audit", "verify")
    assert result.returncode == 1
    assert "rantai putus sebelum kejadian #4" in result.stderr


def rewrite(env: dict[str, str], seq: int, note: str, *, with_key: bool) -> None:
    """Edit event `seq` and re-chain it and every later event up to the head, as someone
    who can write the database would: with a plain SHA-256, or holding the key file."""
    container = bootstrap(load_settings(environ=env), running())
    with container.unit_of_work() as session:
        key = chain_key(session) if with_key else None
        events = session.execute(select(AuditEvent).where(AuditEvent.seq >= seq)
                                 .order_by(AuditEvent.seq)).scalars().all()
        prev = events[0].prev_hash
        for event in events:
            if event.seq == seq:
                event.note = note
            event.prev_hash, event.hash = prev, event_hash(event, prev, key)
            prev = event.hash
        head = session.get(AuditHead, 1)
        assert head is not None
        head.hash = prev
    container.close()


def test_an_event_rewritten_with_a_recomputed_plain_hash_is_caught(
        audited_db: tuple[Path, dict[str, str]]) -> None:
    _, env = audited_db
    rewrite(env, 3, "tidak pernah terjadi", with_key=False)
    result = pulih(env, "audit", "verify")
    assert result.returncode == 1
    assert "kejadian #3 diubah" in result.stderr


def test_an_anchor_kept_outside_catches_a_rewrite_even_by_someone_with_the_key(
        audited_db: tuple[Path, dict[str, str]]) -> None:
    _, env = audited_db
    container = bootstrap(load_settings(environ=env), running())
    with container.sessions() as session:
        seq, digest = head_anchor(session)
    container.close()
    anchor, printed = f"{seq}:{digest}", f"#{seq}:{digest[:16]}"  # the message; a footer
    result = pulih(env, "audit", "verify", "--anchor", anchor, "--anchor", printed)
    assert result.returncode == 0, result.stderr
    assert f"Jangkar {anchor} cocok." in result.stdout
    rewrite(env, 3, "tidak pernah terjadi", with_key=True)
    assert pulih(env, "audit", "verify").returncode == 0  # re-chained with the key...
    result = pulih(env, "audit", "verify", "--anchor", anchor)
    assert result.returncode == 1  # ...but not to the anchor posted before
    assert f"kejadian #{seq} kini ber-hash" in result.stderr
    assert "ditulis ulang setelah jangkar itu dibagikan" in result.stderr
    result = pulih(env, "audit", "verify", "--anchor", "bukan-jangkar")
    assert result.returncode == 1 and "NOMOR:HASH" in result.stderr


def test_the_chain_key_lives_outside_the_database_and_its_loss_is_named(
        audited_db: tuple[Path, dict[str, str]]) -> None:
    _, env = audited_db
    key = Path(load_settings(environ=env).data_dir) / "audit.key"
    assert key.stat().st_mode & 0o777 == 0o600
    assert key.read_text().startswith("pulih-audit-key 1\n")
    key.unlink()
    result = pulih(env, "audit", "verify")
    assert result.returncode == 1
    assert "kunci catatan kegiatan (audit.key di folder data) tidak ada" in result.stderr


def test_deleting_an_event_is_detected(audited_db: tuple[Path, dict[str, str]]) -> None:
    db, env = audited_db
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM audit_events WHERE seq = 4")
    result = pulih(env, "audit", "verify")
    assert result.returncode == 1
    assert "kejadian #4 dihapus" in result.stderr


def test_deleting_the_newest_event_is_detected(audited_db: tuple[Path, dict[str, str]]) -> None:
    db, env = audited_db
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM audit_events WHERE seq = 6")
    result = pulih(env, "audit", "verify")
    assert result.returncode == 1
    assert "kejadian #6 dihapus" in result.stderr


def _forge(conn: sqlite3.Connection, seq: int, prev_hash: str, env: dict[str, str]) -> None:
    """Insert an event hashed as the chain hashes (the forger holds the key file)."""
    key = read_key(Path(load_settings(environ=env).data_dir) / "audit.key")

    forged = AuditEvent(seq=seq, occurred_at=NOW, request_id=None, actor_id=None,
                        actor_name="Penyusup", actor_role="kadis", acting="", action="dispose",
                        from_state="", to_state="", note="", documents="[]", data="{}",
                        prev_hash=prev_hash)
    forged.hash = event_hash(forged, prev_hash, key)
    conn.execute(
        "INSERT INTO audit_events (seq, occurred_at, actor_name, actor_role, acting, action, "
        "from_state, to_state, note, documents, data, prev_hash, hash) "
        "VALUES (?, ?, ?, ?, '', ?, '', '', '', '[]', '{}', ?, ?)",
        (seq, NOW.replace(tzinfo=None).isoformat(sep=" "), forged.actor_name, forged.actor_role,
         forged.action, prev_hash, forged.hash))


def test_inserting_an_event_between_others_is_detected(
        audited_db: tuple[Path, dict[str, str]]) -> None:
    db, env = audited_db
    with sqlite3.connect(db) as conn:
        for seq in (6, 5, 4):  # make room after #3, as a careful forger would
            conn.execute("UPDATE audit_events SET seq = seq + 1 WHERE seq = ?", (seq,))
        conn.execute("UPDATE audit_head SET seq = seq + 1")
        (prev,) = conn.execute("SELECT hash FROM audit_events WHERE seq = 3").fetchone()
        _forge(conn, 4, prev, env)
    result = pulih(env, "audit", "verify")
    assert result.returncode == 1
    assert "kejadian #4 disisipkan" in result.stderr


def test_appending_an_event_behind_pulihs_back_is_detected(
        audited_db: tuple[Path, dict[str, str]]) -> None:
    db, env = audited_db
    with sqlite3.connect(db) as conn:
        (prev,) = conn.execute("SELECT hash FROM audit_events WHERE seq = 6").fetchone()
        _forge(conn, 7, prev, env)
    result = pulih(env, "audit", "verify")
    assert result.returncode == 1
    assert "kejadian #7 disisipkan" in result.stderr


@pytest.mark.dates
def test_export_writes_every_event_with_wita_time_and_no_secrets(
        audited_db: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    _, env = audited_db
    container = bootstrap(load_settings(environ=env), running())
    with container.unit_of_work() as session:
        append_event(session, action="uji_rahasia", now=NOW,
                     note=f"token {BOT_TOKEN} password=Rahasia123 "
                          "postgresql://pulih:S3cret@db/pulih",
                     data={"url": "mysql://root:hunter2@10.0.0.1/x",
                           "key": "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n"
                                  "-----END OPENSSH PRIVATE KEY-----"})
        append_event(session, action="uji_rumus", now=NOW, actor_name="@SUM(A1:A9)",
                     note='=HYPERLINK("http://contoh.invalid","klik")')
    container.close()
    out = tmp_path / "audit.csv"
    result = pulih(env, "audit", "export", "--format", "csv", "--out", str(out))
    assert result.returncode == 0, result.stderr
    text = out.read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["seq"] for r in rows] == [str(n) for n in range(1, 9)]
    assert rows[1]["waktu_lokal"] == wita(NOW)
    assert rows[1]["waktu_utc"] == NOW.strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    for secret in (BOT_TOKEN, "Rahasia123", "S3cret", "hunter2", "abc\n"):
        assert secret not in text
    assert "***" in rows[-2]["catatan"]
    # A reason typed as a formula stays text in a spreadsheet.
    assert rows[-1]["catatan"] == "'=HYPERLINK(\"http://contoh.invalid\",\"klik\")"
    assert rows[-1]["aktor"] == "'@SUM(A1:A9)"
    assert pulih(env, "audit", "verify").returncode == 0
