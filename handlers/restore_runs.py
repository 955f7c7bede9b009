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
from bot.durable.engine import DurableQueue
from bot.render import render_phrase, render_text
from bot.services.incidents.batch import on_shared_cards
from bot.services.requests.views import run_header
from bot.services.restores.progress import RunView, ask_cancel, run_view
from bot.services.restores.runs import (
    RunEnd,
    RunTicket,
    cancel_queued,
    execute,
    queue_place,
    waiting_runs,
)
from bot.services.restores.teamwork import after_run
from bot.services.restores.views import run_result
from bot.services.restores.worker import RestoreWorker, Watcher
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
    waiting: bool = False  # in the restore queue, its turn not yet come
    quiet: bool = False  # shown elsewhere (an incident's board): no message of its own

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
        # The bot's own worker (the single-host default), unless only `pulih worker`
        # processes carry restores out.
        self.worker = RestoreWorker(container, queue, watcher=self._watcher,
                                    postpone=lambda: self.stopping) \
            if queue is not None and queue.carries else None

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
        if self.queue is not None:  # the worker carrying it may be in another process
            work = self._drop_waiting(live) if live.waiting else \
                asyncio.to_thread(ask_cancel, self.container, run_id, by)
            task = asyncio.get_running_loop().create_task(self._quietly(work, run_id))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        return True

    async def _quietly(self, work: Any, run_id: int) -> None:
        try:
            await work
        except Exception:
            log.exception("permintaan batal restore #%s tidak tercatat", run_id)

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
        if not dropped:  # its turn had just come, maybe on a worker elsewhere: stop it there
            await asyncio.to_thread(ask_cancel, self.container, run_id, live.cancelled_by)
        elif watch is not None:
            watch.on_end(Outcome("cancelled", message))

    async def resume(self, bot: Bot) -> None:
        """At start-up: the restore queue is launched in this process, and each run still
        waiting its turn is watched again by its progress message (what a run had begun
        was settled before, by recovery)."""
        if self.queue is None:
            return
        waiting = await asyncio.to_thread(waiting_runs, self.container, self.queue.executor)
        for run in waiting:
            ticket = run.ticket
            values, quiet = await asyncio.to_thread(self._header, ticket)
            chat_id, message_id = run.message or (self.container.office.team_chat_id, 0)
            live = LiveRun(ticket, chat_id, message_id, values, run.started,
                           waiting=not run.running, quiet=quiet and not message_id)
            self.start(bot, live, after_run(self.container), lambda: None, enqueue=False)
        await asyncio.sleep(0)  # each watcher registers before the queue can start its run
        await asyncio.to_thread(self.start_queue)
        for run in waiting:  # put in line again: one cut off before its enqueue is not lost
            if not run.running:
                await asyncio.to_thread(self._enqueue, run.ticket)

    def _header(self, ticket: RunTicket) -> tuple[dict[str, Any], bool]:
        """The run's message header; whether it is followed on an incident's board."""
        with self.container.sessions() as session:
            return (run_header(session, ticket.request_id or 0, ticket.point,
                               ticket.actor.name),
                    on_shared_cards(session, ticket.request_id or 0))

    def start_queue(self) -> None:
        """Launch the restore queue in this process (blocking: call it off the loop), with
        the bot's own worker, which takes up what waited, or was cut off, when it last
        stopped."""
        if self.worker is not None:
            self.worker.start()
        elif self.queue is not None:
            self.queue.start()

    def _watcher(self, run_id: int) -> Watcher | None:
        """How the bot's worker tells a run's progress message what it does (called when
        the run's turn comes, in one of the queue's threads)."""
        live, watch = self.live.get(run_id), self.watches.get(run_id)
        if live is None or watch is None:
            return None
        live.waiting = False
        return Watcher(live.cancel, live.update, watch.then, watch.on_settled, watch.on_end)

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
        # Runs still waiting, and those other workers carry out, go on without this
        # process: their watchers end (and start again with the next start).
        here = self.worker.running if self.worker is not None else {}
        elsewhere = {run_id for run_id, live in self.live.items()
                     if live.waiting or (self.queue is not None and run_id not in here)}
        for run_id in elsewhere:
            watch = self.watches.get(run_id)
            if watch is not None:
                watch.on_end(asyncio.CancelledError())
        if self.tasks:
            await asyncio.wait(self.tasks, timeout=120)
        self.pool.shutdown(wait=False)
        if self.worker is not None:
            await asyncio.to_thread(self.worker.stop)
        elif self.queue is not None:
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
                if self.queue is not None and not self._carried_here(live.ticket.run_id):
                    view = await asyncio.to_thread(run_view, self.container, live.ticket.run_id)
                    if view is not None and view.worker != self.queue.executor:
                        self._follow(live, view)
                        if view.ended:
                            outcome = Outcome(view.status, view.error)
                            break
                text = progress_text(live, zone)
                if text != shown and await self._edit(bot, live, text, cancel_markup(live)):
                    shown = text
            if outcome is None:
                outcome = settled.result() if settled.done() else future.result()
            elif not future.done():  # carried out elsewhere: it has ended there
                future.set_result(outcome)
        except asyncio.CancelledError:  # the bot stops while this run waits its turn
            self.live.pop(live.ticket.run_id, None)
            self.watches.pop(live.ticket.run_id, None)
            return
        except Exception:
            log.exception("restore #%s berhenti karena gangguan", live.ticket.run_id)
        finally:
            self.live.pop(live.ticket.run_id, None)
        text, buttons = await asyncio.to_thread(self._result, live, outcome)
        if live.quiet:
            pass
        elif not await self._edit(bot, live, text, buttons, tries=5):
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

    @property
    def carries_here(self) -> bool:
        """Whether restores may be carried out in this process (so logins made ahead for
        one are of use)."""
        return self.queue is None or self.worker is not None

    def _carried_here(self, run_id: int) -> bool:
        return self.worker is not None and run_id in self.worker.running

    @staticmethod
    def _follow(live: LiveRun, view: RunView) -> None:
        """A run carried out by a worker in another process, as recorded by it."""
        live.waiting = view.status == "queued"
        if view.progress is not None:
            live.progress = view.progress
        if view.cancel_by and not live.cancelled_by:
            live.cancelled_by = view.cancel_by
            live.cancel.set()

    def _enqueue(self, ticket: RunTicket) -> None:
        assert self.queue is not None
        with self.container.unit_of_work() as session:
            place = queue_place(session, ticket.run_id)
        self.queue.enqueue(ticket.run_id, ticket.uid, place.slot, place.priority, place.zone)

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
