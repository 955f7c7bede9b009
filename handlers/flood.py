"""Floods are absorbed: each person may send the bot so many messages and taps a minute;
past that the bot says so once a minute, to them alone, and lets the rest go unanswered,
so one person's flood never delays everyone else's answers."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop

from handlers.common import text
from handlers.runtime import PulihContext


async def gate(update: Update, context: PulihContext) -> None:
    """Runs before every handler: an update over the person's limit stops here."""
    user = update.effective_user
    if user is None:
        return
    served, tell = context.pulih.flood.admit(user.id)
    if served:
        return
    if tell:
        if update.callback_query is not None:
            await update.callback_query.answer(text(context, "slow_down"), show_alert=True)
        elif update.effective_message is not None and \
                update.effective_message.chat.type == ChatType.PRIVATE:
            await update.effective_message.reply_text(text(context, "slow_down"))
    raise ApplicationHandlerStop
