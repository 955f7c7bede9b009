"""Sending the outbox: each notification once, in order of creation, through Telegram's
limits and faults.

- 429 (RetryAfter): the row waits the time Telegram asks, and so does the round.
- network errors and timeouts: retried with growing back-off (2, 4, ... 300 s).
- 403 (the user blocked the bot): the row is kept as `blocked` and the admins are told.
- 400 (a message Telegram will never take), or a document's file gone: kept as `failed`,
  admins told.
A row is marked sent in the same step that learns the message id, so a restart resends
only what was not sent."""

from __future__ import annotations

import asyncio
import json
import logging
import warnings
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.warnings import PTBDeprecationWarning

from bot.bootstrap import Container
from bot.db.models import OutboxMessage
from bot.services.notify import enqueue
from bot.services.officials import role_holders
from bot.workflow.choices import Choice
from bot.workflow.sop import Role
from handlers.callbacks import choice_button

log = logging.getLogger("pulih.delivery")
BATCH = 20
MAX_BACKOFF = 300
ADMIN_ALERT = "admin"  # the outbox kind of an alert to the admins about a failed message


def retry_seconds(exc: RetryAfter) -> float:
    """Seconds Telegram asks us to wait (PTB 22 warns that the type will change)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def markup(payload: dict[str, Any]) -> InlineKeyboardMarkup | None:
    rows = payload.get("buttons")
    if not rows:
        return None
    return InlineKeyboardMarkup([[_button(b) for b in row] for row in rows])


def _button(queued: dict[str, Any]) -> InlineKeyboardButton:
    """A queued choice as its button (labelled from the button table); a message queued
    before choices were queued as such carries its label and data already."""
    if "kind" not in queued:
        return InlineKeyboardButton(queued["text"], callback_data=queued["data"])
    return choice_button(Choice.from_dict(queued))


def _due(container: Container, now: datetime
         ) -> list[tuple[int, int, str, dict[str, Any], int]]:
    with container.sessions() as session:
        rows = session.execute(
            select(OutboxMessage).where(OutboxMessage.status == "pending",
                                        OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.id).limit(BATCH)).scalars().all()
        return [(r.id, r.chat_id, r.kind, json.loads(r.payload), r.attempts) for r in rows]


def _settle(container: Container, row_id: int, **values: Any) -> None:
    with container.unit_of_work() as session:
        row = session.get(OutboxMessage, row_id)
        assert row is not None
        for name, value in values.items():
            setattr(row, name, value)


def _tell_admins(container: Container, row_id: int, kind: str, problem: str,
                 now: datetime) -> None:
    """Queue `problem` for every linked admin, unless the row that failed was itself such
    an alert: that one is only logged, so a blocked admin never starts a chain of alerts."""
    if kind == ADMIN_ALERT:
        log.warning("peringatan untuk admin tidak terkirim (outbox #%s): %s", row_id, problem)
        return
    with container.unit_of_work() as session:
        for admin in role_holders(session, Role.ADMIN):
            if admin.telegram_id is None:
                continue
            enqueue(session, key=f"admin:{row_id}:{admin.id}", chat_id=admin.telegram_id,
                    kind=ADMIN_ALERT, text=problem, now=now)


async def _give_up(container: Container, row_id: int, kind: str, attempts: int,
                   exc: Exception, now: datetime, problem: str) -> None:
    """A message that can never be sent: kept as failed, the admins told why."""
    await asyncio.to_thread(_settle, container, row_id, status="failed",
                            attempts=attempts + 1, last_error=str(exc)[:500])
    await asyncio.to_thread(_tell_admins, container, row_id, kind, problem, now)


def document_folders(container: Container) -> tuple[Path, ...]:
    """The only folders the outbox sends files from: issued documents and KONSEP drafts."""
    data = container.settings.data_dir
    return (data / "documents", data / "konsep")


def read_document(path: str, folders: tuple[Path, ...]) -> bytes:
    """The bytes of a file Pulih made; PermissionError for any path that lies outside its
    folders once symbolic links are followed (a row written into the outbox by someone
    else must not mail out the bot's SSH key)."""
    real = Path(path).resolve()
    if not any(real.is_relative_to(folder.resolve()) for folder in folders):
        raise PermissionError(f"berkas {path} di luar folder dokumen Pulih; tidak dikirim")
    return real.read_bytes()


async def _send(bot: Bot, chat_id: int, payload: dict[str, Any],
                folders: tuple[Path, ...]) -> Message:
    document = payload.get("document")
    if document is None:
        return await bot.send_message(chat_id, payload["text"], reply_markup=markup(payload))
    content = await asyncio.to_thread(read_document, str(document["path"]), folders)
    return await bot.send_document(chat_id, content, filename=document["filename"],
                                   caption=payload["text"], reply_markup=markup(payload))


async def deliver_pending(bot: Bot, container: Container) -> int:
    """Send what is due now; returns how many were sent."""
    now = container.clock()
    due = await asyncio.to_thread(_due, container, now)
    sent = 0
    folders = document_folders(container)
    for row_id, chat_id, kind, payload, attempts in due:
        try:
            message = await _send(bot, chat_id, payload, folders)
        except PermissionError as exc:
            await _give_up(container, row_id, kind, attempts, exc, now,
                           f"Pesan untuk chat {chat_id} ditolak: {exc}.")
        except OSError as exc:  # the document's file is gone: nobody can send it again
            await _give_up(container, row_id, kind, attempts, exc, now,
                           f"Dokumen untuk chat {chat_id} tidak dapat dibaca dari disk ({exc}).")
        except RetryAfter as exc:
            wait = retry_seconds(exc)
            await asyncio.to_thread(_settle, container, row_id, attempts=attempts + 1,
                                    next_attempt_at=now + timedelta(seconds=float(wait)),
                                    last_error=f"429 retry_after={wait}")
            break  # the whole bot is being slowed down, not just this chat
        except Forbidden as exc:
            await asyncio.to_thread(_settle, container, row_id, status="blocked",
                                    attempts=attempts + 1, last_error=str(exc)[:500])
            await asyncio.to_thread(
                _tell_admins, container, row_id, kind,
                f"Pesan Pulih tidak dapat dikirim ke chat {chat_id}: pengguna memblokir bot "
                "atau belum memulai percakapan. Minta yang bersangkutan membuka bot lagi.", now)
        except BadRequest as exc:
            await _give_up(container, row_id, kind, attempts, exc, now,
                           f"Pesan Pulih ke chat {chat_id} ditolak Telegram ({exc}).")
        except (TimedOut, NetworkError) as exc:
            backoff = min(MAX_BACKOFF, 2 ** (attempts + 1))
            await asyncio.to_thread(_settle, container, row_id, attempts=attempts + 1,
                                    next_attempt_at=now + timedelta(seconds=backoff),
                                    last_error=str(exc)[:500])
        else:
            sent += 1
            await asyncio.to_thread(_settle, container, row_id, status="sent",
                                    attempts=attempts + 1, sent_at=container.clock(),
                                    message_id=message.message_id)
    return sent
