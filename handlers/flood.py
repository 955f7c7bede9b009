"""Floods are absorbed: each person may send the bot so many messages and taps a minute;
past that the bot says so once a minute, to them alone, and lets the rest go unanswered,
so one person's flood never delays everyone else's answers."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop, ContextTypes

from handlers.common import text

PER_MINUTE = 30  # updates a person may send in any minute
WINDOW = 60.0


class FloodGate:
    """A sliding window of each person's updates, and when each was last told."""

    def __init__(self, per_minute: int = PER_MINUTE,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self.seen: dict[int, deque[float]] = {}
        self.told: dict[int, float] = {}

    def admit(self, user_id: int) -> tuple[bool, bool]:
        """(this update is served, the person should be told to slow down)."""
        now = self.clock()
        recent = self.seen.setdefault(user_id, deque())
        while recent and now - recent[0] >= WINDOW:
            recent.popleft()
        if len(recent) < self.per_minute:
            recent.append(now)
            return True, False
        tell = now - self.told.get(user_id, -WINDOW) >= WINDOW
        if tell:
            self.told[user_id] = now
        return False, tell


async def gate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Runs before every handler: an update over the person's limit stops here."""
    user = update.effective_user
    if user is None:
        return
    flood = context.bot_data.setdefault("pulih_flood", FloodGate())
    served, tell = flood.admit(user.id)
    if served:
        return
    if tell:
        if update.callback_query is not None:
            await update.callback_query.answer(text(context, "slow_down"), show_alert=True)
        elif update.effective_message is not None and \
                update.effective_message.chat.type == ChatType.PRIVATE:
            await update.effective_message.reply_text(text(context, "slow_down"))
    raise ApplicationHandlerStop
