"""What every handler does first: find who is writing, by numeric Telegram id."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import TypeVar

from sqlalchemy.orm import Session
from telegram import CallbackQuery, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError

from bot.render import render_phrase, render_text
from bot.services.chats.arrivals import handled
from bot.services.outbox.queue import Reply, enqueue_reply
from bot.services.people.actors import actor_by_telegram_id
from bot.workflow.refusals import NotLinked
from bot.workflow.rules import Actor
from handlers.callbacks import Tap, decode
from handlers.runtime import PulihContext, kick_delivery

log = logging.getLogger("pulih.chat")

T = TypeVar("T")


async def in_session(context: PulihContext, work: Callable[[Session], T]) -> T:
    """Run `work` in a unit of work on a worker thread (the loop keeps answering)."""
    container = context.pulih.container

    def run() -> T:
        with container.unit_of_work() as session:
            return work(session)

    return await asyncio.to_thread(run)


def text(context: PulihContext, template: str, **values: object) -> str:
    return render_text(f"chat/{template}.txt.j2",
                       context.pulih.container.settings.timezone, **values).strip()


def say(context: PulihContext, phrase: str, **values: object) -> str:
    """A short reply, by its name in `chat/phrases.txt.j2`."""
    return render_phrase(phrase, context.pulih.container.settings.timezone, **values)


async def tapped(update: Update, context: PulihContext
                 ) -> tuple[CallbackQuery, Tap, Actor] | None:
    """A tap's query, its button and who tapped; None once the tap is answered (a button
    that is not ours or not current, a person not linked)."""
    query = update.callback_query
    if query is None:
        return None
    tap = decode(query.data)
    if tap is None:
        await answer_tap(query, say(context, "stale_button"), alert=True)
        return None
    actor = await actor_or_explain(update, context)
    if actor is None:
        await answer_tap(query, say(context, "not_linked_short"), alert=True)
        return None
    return query, tap, actor


async def actor_or_explain(update: Update, context: PulihContext) -> Actor | None:
    """The linked person behind this update, or None after a polite explanation."""
    user = update.effective_user
    if user is None:
        return None
    try:
        return await in_session(context, lambda s: actor_by_telegram_id(s, user.id))
    except NotLinked:
        message = update.effective_message
        # A tap is answered to the tapper alone, by the caller; in a group, the
        # explanation is posted at most once an hour per person.
        if update.callback_query is None and message is not None and (
                message.chat.type == ChatType.PRIVATE
                or context.pulih.not_linked.first_in_a_while(user.id)):
            await reply(update, context, text(context, "not_linked"))
        return None



Keyboard = Sequence[Sequence[tuple[str, str]]]


class Answer:
    """What one update answers: messages and rewrites queued in the outbox (so they
    survive Telegram's faults and a crash) under keys made from the update, so the same
    update handled again after a crash queues nothing twice."""

    def __init__(self, update: Update, part: str = "") -> None:
        chat = update.effective_chat
        self.chat_id = chat.id if chat is not None else 0
        query, message = update.callback_query, update.effective_message
        origin = query.id if query is not None else \
            f"{self.chat_id}.{message.message_id if message is not None else 0}"
        self.update_id = update.update_id
        self.key = f"u:{update.update_id}:{origin}{':' + part if part else ''}"
        self.replies: list[tuple[int, Reply]] = []

    def say(self, text: str, keyboard: Keyboard = (), *, force_reply: str | None = None,
            chat_id: int | None = None) -> None:
        self.replies.append((chat_id or self.chat_id, Reply(
            text, _rows(keyboard), force_reply=force_reply)))

    def edit(self, message_id: int, text: str, keyboard: Keyboard = (), *,
             chat_id: int | None = None) -> None:
        self.replies.append((chat_id or self.chat_id, Reply(text, _rows(keyboard),
                                                            edit=message_id)))

    def drop_buttons(self, message_id: int, *, chat_id: int | None = None) -> None:
        self.replies.append((chat_id or self.chat_id, Reply(edit=message_id,
                                                            markup_only=True)))

    def queue(self, session: Session, context: PulihContext) -> None:
        """Queue the answer in `session`'s transaction, the update marked handled in it."""
        now = context.pulih.container.clock()
        handled(session, [self.update_id])
        for number, (chat_id, reply) in enumerate(self.replies):
            enqueue_reply(session, key=f"{self.key}:{number}", chat_id=chat_id, reply=reply,
                          now=now)


def _rows(keyboard: Keyboard) -> tuple[tuple[tuple[str, str], ...], ...]:
    return tuple(tuple(row) for row in keyboard)


async def send(context: PulihContext, answer: Answer,
               work: Callable[[Session], T] | None = None) -> T | None:
    """Commit `work` (the state the answer reports) and the answer together, then send."""

    def run(session: Session) -> T | None:
        result = work(session) if work is not None else None
        answer.queue(session, context)
        return result

    result = await in_session(context, run)
    if answer.replies:
        kick_delivery(context, documents=False)
    return result


async def answer_tap(query: CallbackQuery, words: str | None = None, *,
                     alert: bool = False) -> None:
    """Answer a tap (the spinner stops, `words` shows), through a short fault: Telegram
    takes an answer only for a little while, so after a few tries it is let go."""
    for attempt in range(3):
        try:
            await query.answer(words, show_alert=alert)
            return
        except RetryAfter as exc:
            wait = exc.retry_after
            seconds = wait.total_seconds() if hasattr(wait, "total_seconds") else float(wait)
            if seconds > 5:
                break
            await asyncio.sleep(seconds)
        except BadRequest as exc:  # too old, already answered: nothing to do
            log.info("ketukan tidak dapat dijawab: %s", exc)
            return
        except NetworkError:  # also a timeout
            await asyncio.sleep(0.5 * (attempt + 1))
        except TelegramError as exc:
            log.info("ketukan tidak dapat dijawab: %s", exc)
            return
    log.warning("ketukan tidak dapat dijawab (Telegram sedang bermasalah)")


async def reply(update: Update, context: PulihContext, words: str) -> None:
    """One message back to the chat the update came from, through the outbox."""
    answer = Answer(update)
    answer.say(words)
    await send(context, answer)
