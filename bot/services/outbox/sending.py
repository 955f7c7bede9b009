"""The outbox from the sender's side, whatever the channel: the messages due now, how
each attempt ended, the admins told of a message that cannot go, and the only folders a
queued file may be read from."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.bootstrap import Container
from bot.db.models import OutboxMessage
from bot.services.outbox.queue import enqueue
from bot.services.people.officials import role_holders
from bot.workflow.sop import Role

log = logging.getLogger("pulih.delivery")
BATCH = 20
ADMIN_ALERT = "admin"  # the outbox kind of an alert to the admins about a failed message


def due_messages(c: Container, now: datetime
         ) -> list[tuple[int, int, str, dict[str, Any], int]]:
    """The next messages to send, oldest first, and per chat in the order they were
    queued: a chat whose older message waits (a retry after a fault) waits with it."""
    with c.sessions() as session:
        rows = session.execute(
            select(OutboxMessage).where(OutboxMessage.status == "pending")
            .order_by(OutboxMessage.id).limit(BATCH * 10)).scalars().all()
        waiting: set[int] = set()
        due = []
        for r in rows:
            if r.chat_id in waiting:
                continue
            if r.next_attempt_at > now:
                waiting.add(r.chat_id)
                continue
            due.append((r.id, r.chat_id, r.kind, json.loads(r.payload), r.attempts))
            if len(due) == BATCH:
                break
        return due


def settle(c: Container, row_id: int, **values: Any) -> None:
    with c.unit_of_work() as session:
        row = session.get(OutboxMessage, row_id)
        assert row is not None
        for name, value in values.items():
            setattr(row, name, value)


def attempting(c: Container, row_id: int, attempts: int) -> None:
    """Record that a send is about to start, before it starts: a row a crash leaves in
    this state is the only one whose fate is unknown (see `reconcile`)."""
    settle(c, row_id, status="sending", attempts=attempts)


def reconcile(c: Container, now: datetime) -> tuple[int, int]:
    """After a crash: rows caught mid-send go out again. A rewrite of a shown message is
    safe to repeat; a new message may have reached Telegram in the milliseconds before
    the crash, and is sent again rather than risk it being lost (the remaining window,
    stated in the README). Returns (rewrites, new messages) put back."""
    rewrites = fresh = 0
    with c.unit_of_work() as session:
        rows = session.execute(select(OutboxMessage).where(OutboxMessage.status == "sending")
                               ).scalars().all()
        for row in rows:
            row.status, row.next_attempt_at = "pending", now
            row.last_error = "terputus saat mengirim (bot berhenti)"
            if "edit" in json.loads(row.payload):
                rewrites += 1
            else:
                fresh += 1
                log.warning("outbox #%s terputus saat dikirim: dikirim lagi (mungkin dua kali)",
                            row.id)
    return rewrites, fresh


def tell_admins(c: Container, row_id: int, kind: str, problem: str,
                 now: datetime) -> None:
    """Queue `problem` for every linked admin, unless the row that failed was itself such
    an alert: that one is only logged, so a blocked admin never starts a chain of alerts."""
    if kind == ADMIN_ALERT:
        log.warning("peringatan untuk admin tidak terkirim (outbox #%s): %s", row_id, problem)
        return
    with c.unit_of_work() as session:
        for admin in role_holders(session, Role.ADMIN):
            if admin.telegram_id is None:
                continue
            enqueue(session, key=f"admin:{row_id}:{admin.id}", chat_id=admin.telegram_id,
                    kind=ADMIN_ALERT, text=problem, now=now)


def document_folders(c: Container) -> tuple[Path, ...]:
    """The only folders the outbox sends files from: issued documents and KONSEP drafts."""
    data = c.settings.data_dir
    return (data / "documents", data / "konsep")


def read_document(path: str, folders: tuple[Path, ...]) -> bytes:
    """The bytes of a file Pulih made; PermissionError for any path that lies outside its
    folders once symbolic links are followed (a row written into the outbox by someone
    else must not mail out the bot's SSH key)."""
    real = Path(path).resolve()
    if not any(real.is_relative_to(folder.resolve()) for folder in folders):
        raise PermissionError(f"{path} is outside Pulih's document folders")
    return real.read_bytes()


def give_up(c: Container, row_id: int, kind: str, attempts: int, exc: Exception,
            now: datetime, problem: str) -> None:
    """A message that can never be sent: kept as failed, the admins told why."""
    settle(c, row_id, status="failed", attempts=attempts + 1, last_error=str(exc)[:500])
    tell_admins(c, row_id, kind, problem, now)
