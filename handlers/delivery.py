"""Sending the outbox: each notification once, in order of creation, through Telegram's
limits and faults.

- 429 (RetryAfter): the row waits the time Telegram asks, and so does the round.
- network errors and timeouts: retried with growing back-off (2, 4, ... 300 s).
- 403 (the user blocked the bot): the row is kept as `blocked` and the admins are told.
- 400 (a message Telegram will never take), or a document's file gone: kept as `failed`,
  admins told; a rewrite of a message the person has deleted is dropped quietly, and one
  Telegram finds "not modified" (it was done before a crash) counts as done.
Each attempt is recorded before it starts, and its outcome (with the message id) right
after it ends, on the outbox's own writer thread (never queued behind slow work): after
a crash only a row caught between the two is in doubt (`reconcile`)."""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Callable
from concurrent.futures import Executor
from datetime import timedelta
from pathlib import Path
from typing import Any

from telegram import Bot, ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import (
    BadRequest,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.warnings import PTBDeprecationWarning

from bot.bootstrap import Container
from bot.render import render_text
from bot.services.outbox.receipts import Receipts
from bot.services.outbox.sending import (
    attempting,
    document_folders,
    due_messages,
    give_up,
    read_document,
    release,
    settle,
    tell_admins,
)
from bot.workflow.choices import Choice
from handlers.callbacks import choice_button

log = logging.getLogger("pulih.delivery")
MAX_BACKOFF = 300


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


def _is_gone(exc: BadRequest) -> bool:
    """A rewrite of a message that is no longer there to rewrite."""
    words = str(exc).lower()
    return "not found" in words or "can't be edited" in words or "cannot be edited" in words


async def _send(bot: Bot, chat_id: int, payload: dict[str, Any],
                folders: tuple[Path, ...], receipts: Receipts | None = None,
                row_id: int = 0) -> int:
    """Send (or rewrite) one queued message; its message id. A new message's start and
    answer are written to `receipts` at once."""
    edit = payload.get("edit")
    if edit is not None:
        try:
            if payload.get("markup_only"):
                await bot.edit_message_reply_markup(chat_id, int(edit),
                                                    reply_markup=markup(payload))
            else:
                await bot.edit_message_text(payload["text"], chat_id=chat_id,
                                            message_id=int(edit), reply_markup=markup(payload))
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():  # else: done before a crash
                raise
        return int(edit)
    if receipts is not None:
        receipts.started(row_id)
    message_id = (await _post(bot, chat_id, payload, folders)).message_id
    if receipts is not None:
        receipts.received(row_id, message_id)
    return message_id


async def _post(bot: Bot, chat_id: int, payload: dict[str, Any],
                folders: tuple[Path, ...]) -> Message:
    document = payload.get("document")
    if document is None:
        force = payload.get("force_reply")
        if force is not None:
            return await bot.send_message(chat_id, payload["text"], reply_markup=ForceReply(
                selective=True, input_field_placeholder=str(force)[:64] or None))
        return await bot.send_message(chat_id, payload["text"], reply_markup=markup(payload))
    content = await asyncio.to_thread(read_document, str(document["path"]), folders)
    return await bot.send_document(chat_id, content, filename=document["filename"],
                                   caption=payload["text"], reply_markup=markup(payload))


RECEIPTS_KEPT = 1 << 20  # bytes of receipts kept before the file is emptied
PARALLEL_CHATS = 8  # chats sent to at once in a round (each chat's messages in order)


async def deliver_pending(bot: Bot, container: Container, writer: Executor | None = None,
                          receipts: Receipts | None = None) -> int:
    """Send what is due now; returns how many were sent. `writer` runs the outbox's
    database writes (the default thread pool when None). Chats are served side by side,
    each chat's messages one after another in the order they were queued."""
    loop = asyncio.get_running_loop()

    async def write(work: Callable[..., Any], *args: Any, **values: Any) -> Any:
        return await loop.run_in_executor(writer, lambda: work(*args, **values))

    now = container.clock()
    if receipts is not None:  # every earlier send is settled: old receipts can go
        receipts.clear(when_over=RECEIPTS_KEPT)
    due = await write(due_messages, container, now)
    if not due:
        return 0
    # Every row of the round is marked as being sent before the first send starts: a
    # crash leaves in doubt only a row whose send had begun (the others were not sent,
    # and going again is right for them).
    await write(attempting, container, [(row[0], row[4] + 1) for row in due])
    folders = document_folders(container)
    zone = container.settings.timezone
    slowed = asyncio.Event()  # Telegram asked the whole bot to wait: the round ends
    gate = asyncio.Semaphore(PARALLEL_CHATS)

    def problem(why: str, exc: Exception, chat_id: int) -> str:
        return render_text("chat/admin_undeliverable.txt.j2", zone, why=why, error=str(exc),
                           chat_id=chat_id).strip()

    async def failed(row_id: int, kind: str, attempts: int, exc: Exception, why: str,
                     chat_id: int) -> None:
        await write(give_up, container, row_id, kind, attempts, exc, now,
                    problem(why, exc, chat_id))

    async def one(row_id: int, chat_id: int, kind: str, payload: dict[str, Any],
                  attempts: int) -> bool:
        """Send one row and record how it went; False when the chat must wait."""
        try:
            message_id = await _send(bot, chat_id, payload, folders, receipts, row_id)
        except PermissionError as exc:
            await failed(row_id, kind, attempts, exc, "refused", chat_id)
        except OSError as exc:  # the document's file is gone: nobody can send it again
            await failed(row_id, kind, attempts, exc, "file", chat_id)
        except RetryAfter as exc:
            wait = retry_seconds(exc)
            slowed.set()
            await write(settle, container, row_id, status="pending", attempts=attempts + 1,
                        next_attempt_at=now + timedelta(seconds=float(wait)),
                        last_error=f"429 retry_after={wait}")
            return False
        except Forbidden as exc:
            await write(settle, container, row_id, status="blocked",
                        attempts=attempts + 1, last_error=str(exc)[:500])
            await write(tell_admins, container, row_id, kind,
                        problem("blocked", exc, chat_id), now)
        except BadRequest as exc:
            if "edit" in payload and _is_gone(exc):
                log.info("outbox #%s: pesan yang akan diubah sudah tidak ada", row_id)
                await write(settle, container, row_id, status="failed",
                            attempts=attempts + 1, last_error=str(exc)[:500])
            else:
                await failed(row_id, kind, attempts, exc, "bad_request", chat_id)
        except (TimedOut, NetworkError, TelegramError, Exception) as exc:
            if not isinstance(exc, TelegramError):
                log.exception("outbox #%s: gangguan tak terduga saat mengirim", row_id)
            backoff = min(MAX_BACKOFF, 2 ** (attempts + 1))
            await write(settle, container, row_id, status="pending", attempts=attempts + 1,
                        next_attempt_at=now + timedelta(seconds=backoff),
                        last_error=str(exc)[:500])
            return False
        else:
            await write(settle, container, row_id, status="sent", attempts=attempts + 1,
                        sent_at=container.clock(), message_id=message_id)
            sent.append(row_id)
        return True

    async def chat_round(rows: list[tuple[int, int, str, dict[str, Any], int]]) -> None:
        async with gate:
            for index, row in enumerate(rows):
                # The rest of this chat waits its turn (back to pending, due now): after a
                # fault on its own message, or when Telegram slowed the whole bot down.
                if slowed.is_set():
                    await write(release, container, [r[0] for r in rows[index:]])
                    return
                if not await one(*row):
                    await write(release, container, [r[0] for r in rows[index + 1:]])
                    return

    sent: list[int] = []
    by_chat: dict[int, list[tuple[int, int, str, dict[str, Any], int]]] = {}
    for row in due:
        by_chat.setdefault(row[1], []).append(row)
    await asyncio.gather(*(chat_round(rows) for rows in by_chat.values()))
    return len(sent)
