"""The outbox from the sender's side, whatever the channel: the messages due now, how
each attempt ended, the admins told of a message that cannot go, and the only folders a
queued file may be read from."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from bot.bootstrap import Container
from bot.db.models import OutboxMessage
from bot.services.outbox.queue import enqueue
from bot.services.outbox.receipts import Receipts
from bot.services.people.officials import role_holders
from bot.workflow.sop import Role

log = logging.getLogger("pulih.delivery")
BATCH = 20
ADMIN_ALERT = "admin"  # the outbox kind of an alert to the admins about a failed message
# A new message whose request was on its way to the channel when the process died.
IN_DOUBT = "ragu: terputus saat dikirim, mungkin sudah sampai (dikirim lagi)"


def due_messages(c: Container, now: datetime, channel: str = "telegram"
         ) -> list[tuple[int, int, str, dict[str, Any], int]]:
    """The next messages of `channel` to send, oldest first, and per chat in the order
    they were queued: a chat whose older message waits (a retry after a fault) waits with
    it. (E-mails all have chat 0: they go one after another.)"""
    with c.sessions() as session:
        rows = session.execute(
            select(OutboxMessage).where(OutboxMessage.status == "pending",
                                        OutboxMessage.channel == channel)
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
        session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id).values(**values))


def attempting(c: Container, rows: list[tuple[int, int]]) -> None:
    """Record that the sends of these (row, attempt number) are about to start, before
    they start: a row a crash leaves in this state is the only one whose fate is unknown
    (see `reconcile`)."""
    with c.unit_of_work() as session:
        for row_id, attempts in rows:
            session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id)
                            .values(status="sending", attempts=attempts))


def release(c: Container, row_ids: list[int]) -> None:
    """Rows a round marked but did not get to: pending again, as they were."""
    if row_ids:
        with c.unit_of_work() as session:
            session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(row_ids))
                            .values(status="pending", attempts=OutboxMessage.attempts - 1))


def reconcile(c: Container, now: datetime, receipts: Receipts | None = None
              ) -> tuple[int, int]:
    """After a crash: rows caught mid-send. One the channel had answered (its receipt is
    on file) is settled as sent; a rewrite of a shown message, or a send that had not
    started, goes again (harmless); a new message whose request was on its way when the
    process died may or may not have arrived, and goes again rather than risk it being
    lost (the one window left, stated in the README). Returns (settled, sent again)."""
    started, received = receipts.read() if receipts is not None else (set(), {})
    settled = again = 0
    with c.unit_of_work() as session:
        rows = session.execute(select(OutboxMessage).where(
            OutboxMessage.status == "sending", OutboxMessage.channel == "telegram")
            ).scalars().all()
        for row in rows:
            if row.id in received:
                row.status, row.message_id, row.sent_at = "sent", received[row.id], now
                settled += 1
                continue
            row.status, row.next_attempt_at = "pending", now
            row.last_error = "terputus sebelum dikirim (bot berhenti)"
            again += 1
            if row.id in started and "edit" not in json.loads(row.payload):
                row.last_error = IN_DOUBT
                log.warning("outbox #%s terputus saat dikirim: dikirim lagi (mungkin dua kali)",
                            row.id)
    if receipts is not None:
        receipts.clear()
    return settled, again


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
