"""/status NOMOR (a request's timeline against the Mutu Baku) and /antrian (what waits
on me, most urgent first)."""

from __future__ import annotations

from telegram import Update

from bot.services.requests.views import queue_of, status_of
from bot.workflow.refusals import Refusal
from handlers.common import actor_or_explain, in_session, reply, text
from handlers.runtime import PulihContext


async def status(update: Update, context: PulihContext) -> None:
    actor = await actor_or_explain(update, context)
    message = update.effective_message
    if actor is None or message is None:
        return
    if not context.args:
        await reply(update, context, text(context, "status_usage"))
        return
    key = context.args[0][:40]
    now = context.pulih.container.clock()
    try:
        zone = context.pulih.container.settings.timezone
        values = await in_session(context, lambda s: status_of(s, actor, key, now, zone))
    except Refusal as refusal:
        await reply(update, context, refusal.message)
        return
    await reply(update, context, text(context, "status", now=now, **values))


async def queue(update: Update, context: PulihContext) -> None:
    actor = await actor_or_explain(update, context)
    message = update.effective_message
    if actor is None or message is None:
        return
    container = context.pulih.container
    now, zone = container.clock(), container.settings.timezone
    rows = await in_session(context, lambda s: queue_of(s, actor, now, zone))
    await reply(update, context, text(context, "queue", rows=rows, now=now))
