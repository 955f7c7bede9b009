"""What every handler reaches: the process's runtime (the container, the restores it runs,
the team group), and the nudge that sends what a decision queued without waiting for the
next delivery round."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from telegram.ext import Application, ContextTypes, ExtBot, JobQueue

from bot.bootstrap import Container
from bot.services.paperwork import make_documents
from handlers.delivery import deliver_pending
from handlers.restore_runs import RestoreRunner

DELIVERY_INTERVAL = 1.0  # seconds between outbox rounds
HOUSEKEEPING_FIRST = 60.0  # a minute after start: the day's anchor goes with the first run
# The Application as this bot builds it: PTB's default context, bot and job queue.
PulihApp = Application[ExtBot[None], ContextTypes.DEFAULT_TYPE, dict[Any, Any],
                       dict[Any, Any], dict[Any, Any], JobQueue[ContextTypes.DEFAULT_TYPE]]


@dataclass
class ChatRuntime:
    """What handlers reach through `context.bot_data["pulih"]`."""

    container: Container
    restores: RestoreRunner
    team_chat_id: int = 0
    sweep_interval: float = 30.0  # seconds between deadline sweeps
    delivery_interval: float = DELIVERY_INTERVAL  # seconds between outbox rounds
    housekeeping_first: float = HOUSEKEEPING_FIRST
    # Called with every exception a handler raised (the tests collect them).
    on_error: list[Callable[[BaseException], None]] = field(default_factory=list)
    delivering: asyncio.Lock = field(default_factory=asyncio.Lock)
    documenting: asyncio.Lock = field(default_factory=asyncio.Lock)


def runtime(context: ContextTypes.DEFAULT_TYPE) -> ChatRuntime:
    value = context.bot_data["pulih"]
    assert isinstance(value, ChatRuntime)
    return value


async def deliver_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the outbox; one round at a time, so no row is sent twice by two rounds."""
    chat = runtime(context)
    if chat.delivering.locked():
        return
    async with chat.delivering:
        await deliver_pending(context.bot, chat.container)


async def documents_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Make the documents decisions ordered (in a worker thread), then send them."""
    chat = runtime(context)
    if chat.documenting.locked():
        return
    async with chat.documenting:
        if await asyncio.to_thread(make_documents, chat.container):
            await deliver_job(context)


def kick_delivery(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Deliver (and make ordered documents) now rather than at the next tick."""
    if context.job_queue is not None:
        context.job_queue.run_once(deliver_job, 0)
        context.job_queue.run_once(documents_job, 0)
