"""What every handler reaches: the typed context (`context.pulih` is the process's runtime:
the container, the restores it runs, the team group), and the nudge that sends what a
decision queued without waiting for the next delivery round."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot, JobQueue

from bot.bootstrap import Container
from bot.services.documents.paperwork import make_documents
from bot.services.outbox.receipts import Receipts
from handlers.backup_checks import CheckRunner
from handlers.delivery import deliver_pending
from handlers.limits import FloodGate, Quiet
from handlers.outage import Outage
from handlers.restore_runs import RestoreRunner

log = logging.getLogger("pulih.chat")
DELIVERY_INTERVAL = 1.0  # seconds between outbox rounds
HOUSEKEEPING_FIRST = 60.0  # a minute after start: the day's anchor goes with the first run


@dataclass
class Rounds:
    """Work done in rounds, one at a time: a call during a round makes that round go once
    more (what was just asked for is done now, not at the next tick), and returns."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    again: bool = False

    async def run(self, work: Callable[[], Awaitable[object]]) -> None:
        self.again = True
        if self.lock.locked():
            return
        async with self.lock:
            while self.again:
                self.again = False
                await work()


@dataclass
class ChatRuntime:
    """What handlers reach as `context.pulih`."""

    container: Container
    restores: RestoreRunner
    checks: CheckRunner
    sweep_interval: float = 30.0  # seconds between deadline sweeps
    delivery_interval: float = DELIVERY_INTERVAL  # seconds between outbox rounds
    housekeeping_first: float = HOUSEKEEPING_FIRST
    # Called with every exception a handler raised (the tests collect them).
    on_error: list[Callable[[BaseException], None]] = field(default_factory=list)
    delivering: Rounds = field(default_factory=Rounds)  # the outbox's rounds
    # The outbox's own database writer: an attempt and its outcome are recorded at once,
    # never queued behind slow work in the shared thread pool.
    outbox_writer: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(
        max_workers=1, thread_name_prefix="pulih-outbox"))
    documenting: asyncio.Lock = field(default_factory=asyncio.Lock)
    # The Application's job queue, typed (PTB types `context.job_queue` with a type
    # variable it never binds).
    jobs: JobQueue[PulihContext] = field(default_factory=lambda: JobQueue[PulihContext]())
    flood: FloodGate = field(default_factory=FloodGate)
    receipts: Receipts | None = None  # set by build_application
    not_linked: Quiet = field(default_factory=Quiet)
    outage: Outage = field(default_factory=Outage)
    outage_probe: float = 15.0  # seconds between checks whether the Bot API is back
    health: Any = None  # the health endpoint's server, while it listens
    # Incidents (handlers/incidents.py): their live messages are brought up to date one
    # round at a time; the requests whose backup "Periksa & pulihkan semua" is checking
    # now, and why the last one stopped where it did.
    cards_interval: float = 3.0  # seconds between rounds (a board's progress moves)
    showing: Rounds = field(default_factory=Rounds)
    incident_checks: set[int] = field(default_factory=set)
    incident_problems: dict[int, str] = field(default_factory=dict)
    card_edits: dict[str, float] = field(default_factory=dict)  # last edit, by card key
    cards_paused_until: float = 0.0  # monotonic: Telegram asked to slow down
    # The office's daily duties (handlers/watch.py), one round at a time, and how the bot
    # stopping tells a backup watch under way to end.
    watching: Rounds = field(default_factory=Rounds)
    watch_stop: threading.Event = field(default_factory=threading.Event)
    watch_tick: float = 60.0  # seconds between asking whether the day's watch is due
    watch_first: float | None = 60.0  # the first ask, after start (None: no watch here)
    # Restore drills (handlers/drills.py): a round at a time, every `drill_tick` seconds.
    drilling: Rounds = field(default_factory=Rounds)
    # E-mail, the second channel: its rounds (copies planned, e-mails sent) and receipts.
    mailing: Rounds = field(default_factory=Rounds)
    mail_receipts: Receipts | None = None
    mail_tick: float = 5.0  # seconds between e-mail rounds
    drill_tick: float = 15.0

    @property
    def team_chat_id(self) -> int:
        return self.container.office.team_chat_id


class BotData:
    """PTB's `bot_data`: the runtime, set once by `build_application`."""

    runtime: ChatRuntime


class PulihContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    """The context every handler and job gets (PTB builds it through `CONTEXT_TYPES`)."""

    @property
    def pulih(self) -> ChatRuntime:
        return self.bot_data.runtime


CONTEXT_TYPES = ContextTypes(context=PulihContext, bot_data=BotData)
# The Application as this bot builds it: PTB's bot and job queue, Pulih's context.
PulihApp = Application[ExtBot[None], PulihContext, dict[Any, Any], dict[Any, Any], BotData,
                       JobQueue[PulihContext]]


async def deliver_job(context: PulihContext) -> None:
    """Send the outbox; one round at a time, so no row is sent twice by two rounds. A
    call during a round makes that round go once more (what was just queued goes now,
    not at the next tick)."""
    chat = context.pulih
    await chat.delivering.run(lambda: deliver_pending(context.bot, chat.container,
                                                      chat.outbox_writer, chat.receipts))


async def documents_job(context: PulihContext) -> None:
    """Make the documents decisions ordered (in a worker thread), then send them."""
    chat = context.pulih
    if chat.documenting.locked():
        return
    async with chat.documenting:
        if await asyncio.to_thread(make_documents, chat.container):
            await deliver_job(context)


def kick_delivery(context: PulihContext, *, documents: bool = True) -> None:
    """Deliver (and make ordered documents) now rather than at the next tick."""
    application = context.application
    if not application.running:  # stopping: what was queued goes at the next start
        return
    application.create_task(deliver_job(context), name="pulih-deliver")
    if documents:
        application.create_task(documents_job(context), name="pulih-documents")


async def background_round(context: PulihContext, rounds: Rounds, work: Callable[[], bool],
                           failed: str) -> None:
    """Blocking `work` on a thread of its own, one round at a time; True from it means it
    queued messages, sent now. A failure (the database away, a bug) is logged, and the next
    tick tries again."""

    async def one() -> None:
        try:
            told = await asyncio.to_thread(work)
        except Exception:
            log.exception(failed)
            return
        if told:
            kick_delivery(context, documents=False)

    await rounds.run(one)
