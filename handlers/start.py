"""/start (with a link code: bind this Telegram account) and /bantuan."""

from __future__ import annotations

from telegram import Update

from bot.services.requests.views import linked
from bot.workflow.refusals import Refusal
from bot.workflow.sop import ROLE_LABELS, Role
from handlers.common import actor_or_explain, in_session, reply, text
from handlers.runtime import PulihContext


async def start(update: Update, context: PulihContext) -> None:
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    if update.effective_chat is not None and update.effective_chat.type != "private":
        await reply(update, context, text(context, "private_only"))
        return
    code = (context.args or [""])[0]
    if not code:
        await help_(update, context)
        return
    now = context.pulih.container.clock()
    try:
        person = await in_session(context, lambda s: linked(s, code, user.id, now))
    except Refusal as refusal:
        await reply(update, context, refusal.message)
        return
    await reply(update, context, text(context, "linked", name=person.name,
                                  roles=[ROLE_LABELS[Role(r)] for r in person.roles]))


async def help_(update: Update, context: PulihContext) -> None:
    actor = await actor_or_explain(update, context)
    if actor is None or update.effective_message is None:
        return
    await reply(update, context, text(
        context, "help", name=actor.name, roles=sorted(r.value for r in actor.roles)))


async def private_only(update: Update, context: PulihContext) -> None:
    if update.effective_message is not None:
        await reply(update, context, text(context, "private_only"))
