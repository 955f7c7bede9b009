"""Build the python-telegram-bot Application from a Container: the Bot API base URL
from the settings (a self-hosted Bot API server in real deployments, a local fake in
tests), the handlers, the command list, and an error handler that reports instead of
swallowing."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import re
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from telegram import BotCommand, Update
from telegram.error import TelegramError
from telegram.ext import ApplicationBuilder, JobQueue

from bot.bootstrap import Container
from bot.durable.engine import DurableQueue, system_database_url
from bot.errors import ConfigError
from bot.mail.sender import RECEIPTS_FILE as MAIL_RECEIPTS_FILE
from bot.mail.sender import reconcile_mail
from bot.render import render_phrase
from bot.services.audit.anchors import post_daily_anchor
from bot.services.chats import arrivals, conversations
from bot.services.documents.paperwork import prune_drafts
from bot.services.office.bot_identity import remember_channels
from bot.services.office.self_backup import daily_self_backup
from bot.services.outbox.queue import prune_outbox
from bot.services.outbox.receipts import Receipts
from bot.services.outbox.sending import reconcile
from bot.services.requests.deadline_alerts import sweep
from bot.services.requests.filing import prune_uploads
from bot.services.restores.rollbacks import prune_rollbacks, warn_expiring
from bot.services.restores.runs import progress_messages, recover_interrupted
from bot.services.restores.teamwork import after_interruption
from bot.services.restores.worker import BOT_WORKER
from bot.settings import Settings
from handlers import register
from handlers.arrivals import Arrivals, PulihApplication, catch_up
from handlers.backup_checks import CheckRunner
from handlers.common import say
from handlers.drills import drills_job
from handlers.health import start_health
from handlers.incidents import cards_job
from handlers.mail import mail_job
from handlers.outage import Outage
from handlers.restore_runs import RestoreRunner
from handlers.runtime import (
    CONTEXT_TYPES,
    DELIVERY_INTERVAL,
    HOUSEKEEPING_FIRST,
    ChatRuntime,
    PulihApp,
    PulihContext,
    deliver_job,
    documents_job,
    kick_delivery,
)
from handlers.watch import watch_job

log = logging.getLogger("pulih.chat")

HOUSEKEEPING_INTERVAL = 24 * 3600.0
WATCH_FIRST = 60.0  # a minute after start, the first ask whether the backup watch is due
RECEIPTS_FILE = "outbox-receipts.log"
COMMANDS = ("mohon", "status", "antrian", "bantuan")  # described by `command_<name>`


async def _post_init(application: PulihApp) -> None:
    chat = application.bot_data.runtime
    container = chat.container
    # Restores a crash cut off are settled before anything else (live data put right),
    # and the team group hears of each.
    recovered = await asyncio.to_thread(
        functools.partial(recover_interrupted, executor=BOT_WORKER), container,
        after_interruption(container))
    if recovered:
        log.warning("restore terputus dibereskan saat mulai: %s", recovered)
        # The dead runs' progress messages still offer "Batal": their buttons go.
        for chat_id, message_id in await asyncio.to_thread(
                progress_messages, container, recovered):
            try:
                await application.bot.edit_message_reply_markup(chat_id, message_id,
                                                                reply_markup=None)
            except TelegramError as exc:
                log.warning("tombol pesan restore lama tidak dapat dihapus: %s", exc)
    chat.restores.ready()
    # The restore queue starts here, after recovery: a run cut off mid-way was settled
    # above; one that was still waiting its turn is taken up, and watched again.
    await chat.restores.resume(application.bot)
    # A message caught mid-send by a crash goes again (README: the one window left).
    chat.receipts = Receipts(container.settings.data_dir / RECEIPTS_FILE)
    settled, again = await asyncio.to_thread(reconcile, container, container.clock(),
                                             chat.receipts)
    if settled or again:
        log.warning("pesan keluar terputus saat bot berhenti: %d ternyata terkirim, %d "
                    "dikirim lagi", settled, again)
    # E-mails caught mid-send: settled from their receipts, or sent again when their data
    # had not begun to travel (one that had is never sent twice: the admins are told).
    # The bot's username is kept for the e-mails' link to it.
    chat.mail_receipts = Receipts(container.settings.data_dir / MAIL_RECEIPTS_FILE)
    await asyncio.to_thread(_mail_start, container, chat.mail_receipts,
                            application.bot.username)
    # Taps received and never answered are answered; messages never handled are handled
    # once the application runs.
    replays = await catch_up(application, container)
    zone = container.settings.timezone
    try:
        await application.bot.set_my_commands(
            [BotCommand(name, render_phrase(f"command_{name}", zone)) for name in COMMANDS])
    except TelegramError as exc:  # the menu is a convenience; the bot serves without it
        log.warning("menu perintah tidak dapat dipasang: %s", exc)
    assert application.job_queue is not None
    for update in replays:
        application.job_queue.run_once(_replay(update), 0)
    # A round may outlast the interval (a long render, a slow Telegram): the next tick
    # then finds the lock taken and returns, rather than the scheduler warning each time.
    overlap = {"max_instances": 2}
    application.job_queue.run_repeating(deliver_job, interval=chat.delivery_interval, first=0,
                                        name="outbox", job_kwargs=overlap)
    application.job_queue.run_repeating(documents_job, interval=chat.delivery_interval, first=0,
                                        name="documents", job_kwargs=overlap)
    # An incident's board and cards follow its requests (edited, never sent again).
    application.job_queue.run_repeating(cards_job, interval=chat.cards_interval, first=0,
                                        name="incidents", job_kwargs=overlap)
    # Deadlines live in the database: a sweep at start-up fires what fell due while the
    # bot was down, then sweeps keep watching.
    application.job_queue.run_repeating(sweep_job, interval=chat.sweep_interval, first=0,
                                        name="deadlines")
    if container.settings.health_listen is not None:
        chat.health = start_health(container, chat.outage, *container.settings.health_listen)
    # The morning backup watch: asked every minute whether it is due (a day's watch that a
    # stop cut off, or that fell while the bot was down, runs when the bot is back).
    if chat.watch_first is not None:
        application.job_queue.run_repeating(watch_job, interval=chat.watch_tick,
                                            first=chat.watch_first, name="backup-watch")
    # Restore drills: each finished one's report goes out; the scheduled ones (only where
    # the watch runs) are put in line.
    application.job_queue.run_repeating(drills_job, interval=chat.drill_tick, first=2,
                                        name="drills")
    if container.settings.smtp_host is not None:
        application.job_queue.run_repeating(mail_job, interval=chat.mail_tick, first=1,
                                            name="email")
    application.job_queue.run_repeating(_probe_job, interval=chat.outage_probe,
                                        first=chat.outage_probe, name="outage")
    application.job_queue.run_repeating(housekeeping_job, interval=HOUSEKEEPING_INTERVAL,
                                        first=chat.housekeeping_first, name="housekeeping")


async def _probe_job(context: PulihContext) -> None:
    await context.pulih.outage.probe(context.bot)


async def housekeeping_job(context: PulihContext) -> None:
    """Once a day: the activity record's anchor goes to the team group; Pulih backs itself
    up and tells the team group how that went; copies kept for
    rollback past their keeping time are removed (the team warned a day before); KONSEP
    drafts and settled outbox rows past their keeping time are deleted."""
    chat = context.pulih
    if await asyncio.to_thread(post_daily_anchor, chat.container):
        kick_delivery(context)
    if await asyncio.to_thread(daily_self_backup, chat.container):
        kick_delivery(context)
    gone = await asyncio.to_thread(prune_drafts, chat.container)
    if gone:
        log.info("%d konsep lama dihapus", gone)
    if left := await asyncio.to_thread(prune_uploads, chat.container):
        log.info("%d unggahan surat dari formulir yang ditinggalkan dihapus", left)

    if await asyncio.to_thread(warn_expiring, chat.container):
        kick_delivery(context)
    for copy, what in await asyncio.to_thread(prune_rollbacks, chat.container):
        log.info("salinan rollback restore #%d: %s", copy.run_id, what)

    def settled_messages() -> int:
        with chat.container.unit_of_work() as session:
            now = chat.container.clock()
            conversations.prune(session, now)
            arrivals.prune(session, now)
            return prune_outbox(session, now)

    if old := await asyncio.to_thread(settled_messages):
        log.info("%d pesan keluar lama dihapus", old)


async def sweep_job(context: PulihContext) -> None:
    chat = context.pulih
    container = chat.container

    def run() -> int:
        with container.unit_of_work() as session:
            return sweep(session, container.clock(), container.settings.timezone,
                         chat.team_chat_id)

    if await asyncio.to_thread(run):
        kick_delivery(context)


def _replay(update: Update) -> Callable[[PulihContext], Coroutine[Any, Any, None]]:
    async def replay(context: PulihContext) -> None:
        await context.application.process_update(update)
    return replay


def _mail_start(container: Container, receipts: Receipts, username: str | None) -> None:
    with container.unit_of_work() as session:
        remember_channels(session, username, container.settings.smtp_host is not None)
    settled, again, doubt = reconcile_mail(container, receipts)
    if settled or again or doubt:
        log.warning("e-mail terputus saat bot berhenti: %d ternyata terkirim, %d dikirim lagi, "
                    "%d mungkin terkirim (tidak dikirim lagi)", settled, again, doubt)


async def _post_stop(application: PulihApp) -> None:
    """Restores still running stop before their swap (live data untouched) and end."""
    chat = application.bot_data.runtime
    if chat.health is not None:
        chat.health.stop()
        chat.health = None
    if isinstance(application.update_queue, Arrivals):
        await application.update_queue.flush()
    chat.watch_stop.set()  # a watch under way ends between commands; run again at start
    await chat.checks.stop()
    await chat.restores.stop()
    if chat.receipts is not None:
        chat.receipts.close()
        chat.receipts = None
    if chat.mail_receipts is not None:
        chat.mail_receipts.close()
        chat.mail_receipts = None


async def _on_error(update: object, context: PulihContext) -> None:
    error = context.error
    if update is None and error is not None and context.pulih.outage.failed(error):
        return  # a poll that failed: an outage, told once (handlers/outage.py)
    log.error("handler gagal: %r", error, exc_info=error)
    if error is not None:
        for hook in context.pulih.on_error:
            hook(error)
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await context.bot.send_message(update.effective_chat.id,
                                           say(context, "something_went_wrong"))
        except Exception:
            log.warning("pesan gangguan tidak terkirim")


@contextlib.asynccontextmanager
async def polling(application: PulihApp,
                  poll_timeout: int = 1) -> AsyncIterator[list[BaseException]]:
    """Run the application's polling inside the caller's event loop (the demo, the tests);
    yields the list that collects every exception a handler raised."""
    errors: list[BaseException] = []
    chat = application.bot_data.runtime
    chat.on_error.append(errors.append)
    await application.initialize()
    assert application.updater is not None
    if application.post_init is not None:  # run_polling would call it; here we must
        await application.post_init(application)
    def poll_failed(exc: TelegramError) -> None:  # to the error handler, as run_polling does
        application.create_task(application.process_error(update=None, error=exc))

    await application.updater.start_polling(poll_interval=0, timeout=poll_timeout,
                                            error_callback=poll_failed)
    await application.start()
    try:
        yield errors
    finally:
        await application.updater.stop()
        await application.stop()
        if application.post_stop is not None:  # as run_polling would
            await application.post_stop(application)
        await application.shutdown()


def build_application(container: Container, *, token: str | None = None,
                      read_timeout: float = 10.0,
                      sweep_interval: float = 30.0,
                      restore_slots: int = 2,
                      progress_every: float = 3.0,
                      delivery_interval: float = DELIVERY_INTERVAL,
                      housekeeping_first: float = HOUSEKEEPING_FIRST,
                      outage_probe: float = 15.0, outage_quiet: float = 65.0,
                      watch_first: float | None = WATCH_FIRST,
                      mail_tick: float = 5.0,
                      ) -> PulihApp:
    """The Application for this process; start it with `run_polling` or manually.
    `watch_first`: seconds after start of the first ask whether the morning backup watch
    is due (None: this process runs no watch)."""

    # Durations from Telegram as timedelta now, as PTB's next major version will have it
    # (and without its deprecation warning on every 429).
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    settings = container.settings
    # The inventory is read (and any problem in it reported) now, not at the first tap.
    _ = container.office
    jobs = JobQueue[PulihContext]()
    queue = Arrivals()
    application = (
        ApplicationBuilder()
        .application_class(PulihApplication)
        .update_queue(queue)
        .token(token or settings.require_bot_token())
        .base_url(settings.bot_api_url)
        .base_file_url(settings.bot_file_url)
        .read_timeout(read_timeout)
        .get_updates_read_timeout(read_timeout + 5)
        .context_types(CONTEXT_TYPES)
        .job_queue(jobs)
        .post_init(_post_init)
        .post_stop(_post_stop)
        .build()
    )
    application.bot_data.runtime = ChatRuntime(
        container, RestoreRunner(container, restore_slots, progress_every, DurableQueue(
            system_database_url(settings.database_url, settings.data_dir),
            limit=settings.restores_at_once, zone=settings.worker_zone,
            carries=settings.restore_in_bot)),
        CheckRunner(container, restore_slots, progress_every),
        jobs=jobs, sweep_interval=sweep_interval,
        delivery_interval=delivery_interval, housekeeping_first=housekeeping_first,
        outage_probe=outage_probe, outage=Outage(outage_quiet), watch_first=watch_first,
        mail_tick=mail_tick)
    queue.container = container
    queue.writer = application.bot_data.runtime.outbox_writer
    register(application)
    application.add_error_handler(_on_error)
    return application


WEBHOOK_PATH = "telegram"
_SECRET = re.compile(r"^[A-Za-z0-9_-]{16,256}$")


def webhook_options(settings: Settings) -> dict[str, Any]:
    """Arguments for PTB's webhook server: listen address, path, public URL, secret.

    Telegram sends the secret in a header with every update; requests without it are
    refused, so only Telegram (through the reverse proxy) can feed the bot."""
    assert settings.webhook_url is not None and settings.webhook_secret_file is not None
    try:
        secret = settings.webhook_secret_file.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError([f"PULIH_WEBHOOK_SECRET_FILE: {settings.webhook_secret_file} tidak "
                           f"dapat dibaca ({exc.strerror})"]) from exc
    if not _SECRET.match(secret):
        raise ConfigError(["PULIH_WEBHOOK_SECRET_FILE: token rahasia harus 16-256 huruf, "
                           "angka, _ atau -"])
    host, port = settings.webhook_listen
    return {"listen": host, "port": port, "url_path": WEBHOOK_PATH,
            "webhook_url": settings.webhook_url, "secret_token": secret,
            "allowed_updates": ["message", "callback_query"]}
