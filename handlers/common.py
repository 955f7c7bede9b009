"""What every handler does first: find who is writing, by numeric Telegram id."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.orm import Session
from telegram import Update
from telegram.constants import ChatType

from bot.render import render_phrase, render_text
from bot.services.people.actors import actor_by_telegram_id
from bot.workflow.refusals import NotLinked
from bot.workflow.rules import Actor
from handlers.runtime import PulihContext

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
            await message.reply_text(text(context, "not_linked"))
        return None

