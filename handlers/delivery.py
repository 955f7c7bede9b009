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
import logging
import warnings
from datetime import timedelta
from pathlib import Path
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.warnings import PTBDeprecationWarning

from bot.bootstrap import Container
from bot.render import render_text
from bot.services.outbox.sending import (
    document_folders,
    due_messages,
    give_up,
    read_document,
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
    due = await asyncio.to_thread(due_messages, container, now)
    sent = 0
    folders = document_folders(container)
    zone = container.settings.timezone

    def problem(why: str, exc: Exception, chat_id: int) -> str:
        return render_text("chat/admin_undeliverable.txt.j2", zone, why=why, error=str(exc),
                           chat_id=chat_id).strip()

    async def failed(row_id: int, kind: str, attempts: int, exc: Exception, why: str,
                     chat_id: int) -> None:
        await asyncio.to_thread(give_up, container, row_id, kind, attempts, exc, now,
                                problem(why, exc, chat_id))

    for row_id, chat_id, kind, payload, attempts in due:
        try:
            message = await _send(bot, chat_id, payload, folders)
        except PermissionError as exc:
            await failed(row_id, kind, attempts, exc, "refused", chat_id)
        except OSError as exc:  # the document's file is gone: nobody can send it again
            await failed(row_id, kind, attempts, exc, "file", chat_id)
        except RetryAfter as exc:
            wait = retry_seconds(exc)
            await asyncio.to_thread(settle, container, row_id, attempts=attempts + 1,
                                    next_attempt_at=now + timedelta(seconds=float(wait)),
                                    last_error=f"429 retry_after={wait}")
            break  # the whole bot is being slowed down, not just this chat
        except Forbidden as exc:
            await asyncio.to_thread(settle, container, row_id, status="blocked",
                                    attempts=attempts + 1, last_error=str(exc)[:500])
            await asyncio.to_thread(tell_admins, container, row_id, kind,
                                    problem("blocked", exc, chat_id), now)
        except BadRequest as exc:
            await failed(row_id, kind, attempts, exc, "bad_request", chat_id)
        except (TimedOut, NetworkError) as exc:
            backoff = min(MAX_BACKOFF, 2 ** (attempts + 1))
            await asyncio.to_thread(settle, container, row_id, attempts=attempts + 1,
                                    next_attempt_at=now + timedelta(seconds=backoff),
                                    last_error=str(exc)[:500])
        else:
            sent += 1
            await asyncio.to_thread(settle, container, row_id, status="sent",
                                    attempts=attempts + 1, sent_at=container.clock(),
                                    message_id=message.message_id)
    return sent
