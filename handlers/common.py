"""What every handler does first: find who is writing, by numeric Telegram id."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.orm import Session
from telegram import Update
from telegram.ext import ContextTypes

from bot.chat.app import runtime
from bot.render import render_text
from bot.services.actors import actor_by_telegram_id
from bot.workflow.refusals import NotLinked
from bot.workflow.rules import Actor

T = TypeVar("T")


async def in_session(context: ContextTypes.DEFAULT_TYPE, work: Callable[[Session], T]) -> T:
    """Run `work` in a unit of work on a worker thread (the loop keeps answering)."""
    container = runtime(context).container

    def run() -> T:
        with container.unit_of_work() as session:
            return work(session)

    return await asyncio.to_thread(run)


def text(context: ContextTypes.DEFAULT_TYPE, template: str, **values: object) -> str:
    return render_text(f"chat/{template}.txt.j2",
                       runtime(context).container.settings.timezone, **values).strip()


async def actor_or_explain(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Actor | None:
    """The linked person behind this update, or None after a polite explanation."""
    user = update.effective_user
    if user is None:
        return None
    try:
        return await in_session(context, lambda s: actor_by_telegram_id(s, user.id))
    except NotLinked:
        if update.effective_message is not None:
            await update.effective_message.reply_text(text(context, "not_linked"))
        return None
