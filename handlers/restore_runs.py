"""Restores started from the team group: each waits its turn in the restore queue
(bot.durable: N at once in all, each backup server's own limit, priority per system) and
runs in one of its worker threads, or, without the queue, in a pool of this process; one
message in the group shows its phase (or that it waits), a progress bar, rate and ETA,
edited no more often than Telegram allows. The run's end is recorded by the service; this
module only shows it."""

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
from bot.durable.engine import POSTPONED, SETTLED, DurableQueue
from bot.render import render_phrase, render_text
from bot.services.requests.views import run_header
from bot.services.restores.runs import (
    RunEnd,
    RunTicket,
    cancel_queued,
    execute,
    queue_place,
    take_queued,
    waiting_runs,
)
from bot.services.restores.teamwork import after_run
from bot.services.restores.views import run_result
from bot.workflow.rules import Actor
from handlers.callbacks import Tap, button, choice_button
from letters.timefmt import durasi, ukuran
from restore.engine import PHASE_LABELS, Outcome, Phase, Progress
from restore.errors import RestoreError
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
    waiting: bool = False  # in the restore queue, its turn not yet come

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
        waiting=live.waiting,
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


@dataclass
class _Watch:
    """What the worker carrying out a queued run tells the chat, and how."""

    then: RunEnd
    on_settled: Callable[[Outcome], None]
    on_end: Callable[[Outcome | BaseException], None]


class RestoreRunner:
    """Starts runs, shows their progress, lets the team cancel them."""

    def __init__(self, container: Container, slots: int = 2, refresh: float = 3.0,
                 queue: DurableQueue | None = None) -> None:
        self.container = container
        self.refresh = refresh
        self.queue = queue
        self.pool = ThreadPoolExecutor(max_workers=slots, thread_name_prefix="pulih-restore")
        self.live: dict[int, LiveRun] = {}
        self.watches: dict[int, _Watch] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self.stopping = False

    def start(self, bot: Bot, live: LiveRun,
              then: Callable[[Session, int, Actor, Outcome], None],
              done: Callable[[], None], *, enqueue: bool = True) -> None:
        """Run in the background; `done` is called after the run's end is shown.
        `enqueue` False: the run is already in the queue (watched again after a restart)."""
        self.live[live.ticket.run_id] = live
        task = asyncio.get_running_loop().create_task(
            self._run(bot, live, then, done, enqueue))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def cancel(self, run_id: int, by: str, request_id: int) -> bool:
        """Ask run `run_id` of request `request_id` to stop; False when this process runs
        no such run for that request (a button carried over from another card). A run
        still waiting its turn is settled as cancelled at once."""
        live = self.live.get(run_id)
        if live is None or live.ticket.request_id != request_id:
            return False
        live.cancelled_by = by
        live.cancel.set()
        if live.waiting and self.queue is not None:
            task = asyncio.get_running_loop().create_task(self._drop_waiting(live))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        return True

    async def _drop_waiting(self, live: LiveRun) -> None:
        run_id = live.ticket.run_id
        watch = self.watches.get(run_id)
        message = "Restore dibatalkan sebelum gilirannya tiba; data live tidak disentuh."
        try:
            dropped = await asyncio.to_thread(cancel_queued, self.container, run_id, message,
                                              watch.then if watch else None)
            if dropped and self.queue is not None:
                await asyncio.to_thread(self.queue.drop, live.ticket.uid)
        except Exception:
            log.exception("restore #%s dalam antrean tidak dapat dibatalkan", run_id)
            return
        if dropped and watch is not None:
            watch.on_end(Outcome("cancelled", message))

    async def resume(self, bot: Bot) -> None:
        """At start-up: the restore queue is launched in this process, and each run still
        waiting its turn is watched again by its progress message (what a run had begun
        was settled before, by recovery)."""
        if self.queue is None:
            return
        waiting = await asyncio.to_thread(waiting_runs, self.container)
        for run in waiting:
            ticket = run.ticket
            values = await asyncio.to_thread(self._header, ticket)
            chat_id, message_id = run.message or (self.container.office.team_chat_id, 0)
            live = LiveRun(ticket, chat_id, message_id, values, run.started, waiting=True)
            self.start(bot, live, after_run(self.container), lambda: None, enqueue=False)
        await asyncio.sleep(0)  # each watcher registers before the queue can start its run
        await asyncio.to_thread(self.start_queue)
        for run in waiting:  # put in line again: one cut off before its enqueue is not lost
            await asyncio.to_thread(self._enqueue, run.ticket)

    def _header(self, ticket: RunTicket) -> dict[str, Any]:
        with self.container.sessions() as session:
            return run_header(session, ticket.request_id or 0, ticket.point, ticket.actor.name)

    def start_queue(self) -> None:
        """Launch the restore queue in this process (blocking: call it off the loop);
        what waited, or was cut off, when it last stopped is taken up."""
        if self.queue is not None:
            self.queue.start(self._carry)

    def _carry(self, run_id: int) -> str:
        """A queued run's turn (in one of the queue's worker threads): carried out here,
        shown by the message that watches it. One whose turn comes as the bot stops stays
        queued, for the next start."""
        if self.stopping:
            return POSTPONED
        live, watch = self.live.get(run_id), self.watches.get(run_id)
        try:
            ticket = take_queued(self.container, run_id)
        except BaseException as exc:
            if watch is not None:
                watch.on_end(exc)
            raise
        if ticket is None:  # settled meanwhile (cancelled while waiting; recovery)
            if watch is not None:
                watch.on_end(RestoreError(f"Restore #{run_id} tidak lagi menunggu giliran."))
            return SETTLED
        if live is not None:
            live.waiting = False
        try:
            outcome = execute(self.container, ticket,
                              cancel=live.cancel if live else None,
                              on_progress=live.update if live else (lambda p: None),
                              then=watch.then if watch else after_run(self.container),
                              on_settled=watch.on_settled if watch else (lambda o: None))
        except BaseException as exc:
            if watch is not None:
                watch.on_end(exc)
            raise
        if watch is not None:
            watch.on_end(outcome)
        return outcome.status

    def ready(self) -> None:
        """Have a transfer process started for the next restore (restore.transfer_process:
        its Python start then is not time the team waits); and remove what transfer
        processes killed outright left behind (restore.mux: their sockets' folders)."""
        clear_stale()
        keep_spare()

    async def stop(self) -> None:
        """On shutdown: every run stops before the swap (live data untouched) and ends;
        runs still waiting their turn stay in the queue for the next start."""
        self.stopping = True
        for live in self.live.values():
            # A waiting run is not started any more (it keeps its place); one whose turn
            # came at this very moment stops as any running one does.
            live.cancelled_by = live.cancelled_by or render_phrase(
                "bot_stopping", self.container.settings.timezone)
            live.cancel.set()
        waiting = {run_id for run_id, live in self.live.items() if live.waiting}
        for run_id in waiting:
            watch = self.watches.get(run_id)
            if watch is not None:
                watch.on_end(asyncio.CancelledError())
        if self.tasks:
            await asyncio.wait(self.tasks, timeout=120)
        self.pool.shutdown(wait=False)
        if self.queue is not None:
            await asyncio.to_thread(self.queue.stop)
        await asyncio.to_thread(close_spare)
        await asyncio.to_thread(close_parked)

    async def _run(self, bot: Bot, live: LiveRun,
                   then: Callable[[Session, int, Actor, Outcome], None],
                   done: Callable[[], None], enqueue: bool = True) -> None:
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

        future: asyncio.Future[Outcome]
        if self.queue is None:
            work = functools.partial(execute, self.container, live.ticket, cancel=live.cancel,
                                     on_progress=live.update, then=then, on_settled=on_settled)
            future = loop.run_in_executor(self.pool, work)
        else:
            future = loop.create_future()

            def end(result: Outcome | BaseException) -> None:
                if future.done():
                    return
                if isinstance(result, asyncio.CancelledError):
                    future.cancel()
                elif isinstance(result, BaseException):
                    future.set_exception(result)
                else:
                    future.set_result(result)

            def on_end(result: Outcome | BaseException) -> None:  # from any thread
                loop.call_soon_threadsafe(end, result)

            self.watches[live.ticket.run_id] = _Watch(then, on_settled, on_end)
            live.waiting = True
            if enqueue:
                await asyncio.to_thread(self._enqueue, live.ticket)
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
        except asyncio.CancelledError:  # the bot stops while this run waits its turn
            self.live.pop(live.ticket.run_id, None)
            self.watches.pop(live.ticket.run_id, None)
            return
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
        self.watches.pop(live.ticket.run_id, None)

    def _enqueue(self, ticket: RunTicket) -> None:
        assert self.queue is not None
        with self.container.unit_of_work() as session:
            slot, priority = queue_place(session, ticket.run_id)
        self.queue.enqueue(ticket.run_id, ticket.uid, slot, priority)

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
