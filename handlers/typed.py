"""What a person types (and /batal) goes to what they are in the middle of in that chat,
as the database remembers it: the /mohon form, a decision's reason, a restore's typed
confirmation or a rollback's reason."""

from __future__ import annotations

from telegram import Update

from bot.services.chats.conversations import (
    CONFIRM,
    DETAIL,
    FORM,
    INCIDENT,
    REASON,
    Pending,
    current,
    forget,
)
from handlers import decisions, incidents, request_form, team
from handlers.common import Answer, in_session, say, send
from handlers.runtime import PulihContext


async def _pending(update: Update, context: PulihContext) -> Pending | None:
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return None
    now = context.pulih.container.clock()
    return await in_session(context, lambda s: current(s, chat.id, user.id, now))


async def on_text(update: Update, context: PulihContext) -> None:
    pending = await _pending(update, context)
    if pending is None:
        return
    if pending.kind == FORM:
        await request_form.typed(update, context, pending.data)
    elif pending.kind == REASON:
        await decisions.reason_typed(update, context, pending)
    elif pending.kind == CONFIRM:
        await team.typed(update, context, pending)
    elif pending.kind in (INCIDENT, DETAIL):
        await incidents.typed(update, context, pending)


async def on_cancel(update: Update, context: PulihContext) -> None:
    """/batal: what the person was in the middle of here is dropped; nothing is changed."""
    pending = await _pending(update, context)
    user = update.effective_user
    if pending is None or user is None:
        return
    if pending.kind == FORM:
        await request_form.cancel(update, context)
        return
    answer = Answer(update)
    answer.say(say(context, "cancelled"))
    await send(context, answer, lambda s: forget(s, answer.chat_id, user.id, pending.kind))
