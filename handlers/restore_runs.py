"""Restores started from the team group: each runs in a worker thread of its own pool (a
bounded number at once, so handlers keep their threads), while one message in the group
shows its phase, a progress bar, rate and ETA, edited no more often than Telegram allows.
The run's end is recorded by the service; this module only shows it."""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session
from telegram import Bot, InlineKeyboardMarkup
from telegram.error import BadRequest, RetryAfter, TelegramError

from bot.bootstrap import Container
from bot.render import render_phrase, render_text
from bot.services.restores.runs import RunTicket, execute
from bot.services.restores.views import run_result
from bot.workflow.rules import Actor
from handlers.callbacks import Tap, button, choice_button
from letters.timefmt import durasi, ukuran
from restore.engine import PHASE_LABELS, Outcome, Phase, Progress
from restore.mux import clear_stale
from restore.parked import close_parked
from restore.transfer_process import close_spare, keep_spare

log = logging.getLogger("pulih.restore_runs")
STEPS = (Phase.PREFLIGHT, Phase.TRANSFER, Phase.APPLY, Phase.VERIFY, Phase.SWAP,
         Phase.POSTCHECK)
BAR = 20


@dataclass
class LiveRun:
    """A run this process is carrying out, and the group message that shows it."""

    ticket: RunTicket
    chat_id: int
    message_id: int
    values: dict[str, Any]  # ticket, system, point, who started it
    started: datetime
    cancel: threading.Event = field(default_factory=threading.Event)
    progress: Progress | None = None
    cancelled_by: str = ""

    def update(self, progress: Progress) -> None:  # called from the worker thread
        self.progress = progress


def cancel_markup(live: LiveRun) -> InlineKeyboardMarkup | None:
    """"Batal" under a run's progress, until it is asked for."""
    if live.cancel.is_set():
        return None
    t = live.ticket
    return InlineKeyboardMarkup([[button(Tap("s", t.request_id or 0, 0, t.run_id))]])


def progress_text(live: LiveRun, zone: Any) -> str:
    p = live.progress
    phase = p.phase if p else Phase.PREFLIGHT
    share = p.done / p.total if p and p.total else None
    return render_text(
        "chat/restore_progress.txt.j2", zone, **live.values, cancelled_by=live.cancelled_by,
        index=STEPS.index(phase) + 1 if phase in STEPS else len(STEPS), steps=len(STEPS),
        phase=p.label if p else PHASE_LABELS[phase],
        bar=("#" * int(share * BAR)).ljust(BAR, ".") if share is not None else "",
        percent=int(share * 100) if share is not None else 0,
        rate=ukuran(int(p.rate)) if p and p.rate else "",
        eta=durasi(timedelta(seconds=int(p.eta))) if p and p.eta is not None else "").strip()


async def show_progress(bot: Bot, live: LiveRun, zone: Any) -> int | None:
    """Post a run's progress message (through a short fault); its id, or None."""
    for attempt in range(3):
        try:
            shown = await bot.send_message(live.chat_id, progress_text(live, zone),
                                           reply_markup=cancel_markup(live))
            return shown.message_id
        except RetryAfter as exc:
            await asyncio.sleep(min(_seconds(exc.retry_after), 10))
        except BadRequest:
            break
        except TelegramError:
            await asyncio.sleep(0.5 * (attempt + 1))
    log.warning("pesan kemajuan restore #%s tidak terkirim", live.ticket.run_id)
    return None


class RestoreRunner:
    """Starts runs, shows their progress, lets the team cancel them."""

    def __init__(self, container: Container, slots: int = 2, refresh: float = 3.0) -> None:
        self.container = container
        self.refresh = refresh
        self.pool = ThreadPoolExecutor(max_workers=slots, thread_name_prefix="pulih-restore")
        self.live: dict[int, LiveRun] = {}
        self.tasks: set[asyncio.Task[None]] = set()

    def start(self, bot: Bot, live: LiveRun,
              then: Callable[[Session, int, Actor, Outcome], None],
              done: Callable[[], None]) -> None:
        """Run in the background; `done` is called after the run's end is shown."""
        self.live[live.ticket.run_id] = live
        task = asyncio.get_running_loop().create_task(self._run(bot, live, then, done))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def cancel(self, run_id: int, by: str, request_id: int) -> bool:
        """Ask run `run_id` of request `request_id` to stop; False when this process runs
        no such run for that request (a button carried over from another card)."""
        live = self.live.get(run_id)
        if live is None or live.ticket.request_id != request_id:
            return False
        live.cancelled_by = by
        live.cancel.set()
        return True

    def ready(self) -> None:
        """Have a transfer process started for the next restore (restore.transfer_process:
        its Python start then is not time the team waits); and remove what transfer
        processes killed outright left behind (restore.mux: their sockets' folders)."""
        clear_stale()
        keep_spare()

    async def stop(self) -> None:
        """On shutdown: every run stops before the swap (live data untouched) and ends."""
        for live in self.live.values():
            live.cancelled_by = live.cancelled_by or render_phrase(
                "bot_stopping", self.container.settings.timezone)
            live.cancel.set()
        if self.tasks:
            await asyncio.wait(self.tasks, timeout=120)
        self.pool.shutdown(wait=False)
        await asyncio.to_thread(close_spare)
        await asyncio.to_thread(close_parked)

    async def _run(self, bot: Bot, live: LiveRun,
                   then: Callable[[Session, int, Actor, Outcome], None],
                   done: Callable[[], None]) -> None:
        zone = self.container.settings.timezone
        loop = asyncio.get_running_loop()
        # A run that succeeds is told as soon as its data is live and checked; the
        # fingerprint of the copy kept for rollback and the clean-up go on behind.
        settled: asyncio.Future[Outcome] = loop.create_future()

        def tell(outcome: Outcome) -> None:
            if not settled.done():
                settled.set_result(outcome)

        def on_settled(outcome: Outcome) -> None:  # from the worker thread
            loop.call_soon_threadsafe(tell, outcome)

        work = functools.partial(execute, self.container, live.ticket, cancel=live.cancel,
                                 on_progress=live.update, then=then, on_settled=on_settled)
        future = loop.run_in_executor(self.pool, work)
        shown = ""
        outcome: Outcome | None = None
        try:
            while True:
                finished, _ = await asyncio.wait({future, settled}, timeout=self.refresh,
                                                 return_when=asyncio.FIRST_COMPLETED)
                if finished:
                    break
                text = progress_text(live, zone)
                if text != shown and await self._edit(bot, live, text, cancel_markup(live)):
                    shown = text
            outcome = settled.result() if settled.done() else future.result()
        except Exception:
            log.exception("restore #%s berhenti karena gangguan", live.ticket.run_id)
        finally:
            self.live.pop(live.ticket.run_id, None)
        text, buttons = await asyncio.to_thread(self._result, live, outcome)
        if not await self._edit(bot, live, text, buttons, tries=5):
            try:
                await bot.send_message(live.chat_id, text, reply_markup=buttons)
            except TelegramError:
                log.warning("hasil restore #%s tidak terkirim ke grup", live.ticket.run_id)
        done()
        if not future.done():
            try:
                await future
            except Exception:
                log.exception("restore #%s berhenti karena gangguan setelah berhasil",
                              live.ticket.run_id)

    async def _edit(self, bot: Bot, live: LiveRun, text: str,
                    buttons: InlineKeyboardMarkup | None, tries: int = 1) -> bool:
        if not live.message_id:  # its message never reached the chat
            return False
        for _ in range(tries):
            try:
                await bot.edit_message_text(text, chat_id=live.chat_id,
                                            message_id=live.message_id, reply_markup=buttons)
                return True
            except RetryAfter as exc:  # slowed down: skip this refresh (or wait, at the end)
                if tries > 1:
                    await asyncio.sleep(min(float(_seconds(exc.retry_after)), 30))
            except BadRequest as exc:
                return "not modified" in str(exc).lower()
            except TelegramError:
                if tries > 1:
                    await asyncio.sleep(1)
        return False

    def _result(self, live: LiveRun,
                outcome: Outcome | None) -> tuple[str, InlineKeyboardMarkup | None]:
        """The run's end as recorded, and what the team can do next."""
        result = run_result(self.container, live.ticket.run_id)
        text = render_text("chat/restore_result.txt.j2", self.container.settings.timezone,
                           **live.values, status=result.status,
                           message=result.error or (outcome.message if outcome else ""),
                           checks=result.checks, took=result.ended - live.started,
                           cancelled_by=live.cancelled_by, kept=result.kept).strip()
        rows = [[choice_button(choice) for choice in row] for row in result.next]
        return text, InlineKeyboardMarkup(rows) if rows else None


def _seconds(value: Any) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
