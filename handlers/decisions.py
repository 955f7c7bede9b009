"""Button taps on decision cards (steps 2, 3, 6 and 8), and the reason typed after a
"Kembalikan", "Tolak" or "Belum sesuai" tap. Every tap is answered; every tap is
re-authorized against the database and checked against the card's version."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime

from telegram import CallbackQuery, MaybeInaccessibleMessage, Update
from telegram.error import BadRequest

from bot.services.outbox.queue import fit
from bot.services.requests.decisions import decidable, decide
from bot.workflow.refusals import AlreadyDecided, Refusal
from handlers.callbacks import Tap, decode
from handlers.common import actor_or_explain, in_session, say, text
from handlers.runtime import PulihContext, kick_delivery

PENDING = "pulih_pending_reason"


@dataclass(frozen=True)
class Card:
    """The card message a tap came from, as it read then."""

    chat_id: int
    message_id: int
    text: str


@dataclass(frozen=True)
class PendingReason:
    tap: Tap
    card: Card


async def on_tap(update: Update, context: PulihContext) -> None:
    query = update.callback_query
    if query is None:
        return
    tap = decode(query.data)
    if tap is None:
        await query.answer(say(context, "stale_button"),
                           show_alert=True)
        return
    actor = await actor_or_explain(update, context)
    if actor is None:
        await query.answer(say(context, "not_linked_short"), show_alert=True)
        return
    if tap.kind.team:  # a team step's button, tapped outside the team group
        await query.answer(say(context, "team_only"), show_alert=True)
        return
    container = context.pulih.container
    action = tap.kind.action
    now, zone = container.clock(), container.settings.timezone
    if tap.kind.asks:
        try:  # refuse now what the decision would refuse, before asking for a reason
            ticket = await in_session(context, lambda s: decidable(
                s, tap.request_id, tap.version, actor, action, now, zone))
        except Refusal as refusal:
            await query.answer(_short(context, refusal), show_alert=True)
            return
        message = query.message
        if context.user_data is not None and message is not None:
            context.user_data[PENDING] = PendingReason(tap, _card(message))
        await query.answer(say(context, "type_reason_here"))
        if update.effective_chat is not None:
            await context.bot.send_message(update.effective_chat.id, text(
                context, "ask_reason", prompt=tap.kind.asks, ticket=ticket))
        return
    target = tap.argument or None
    try:
        await in_session(context, lambda s: decide(
            s, tap.request_id, actor, action, now, zone, context.pulih.team_chat_id,
            version=tap.version, target_id=target, instruction=tap.kind.instruction or None))
    except Refusal as refusal:
        await query.answer(_short(context, refusal), show_alert=True)
        if isinstance(refusal, AlreadyDecided):
            await _drop_buttons(query)
        return
    await query.answer(say(context, "saved"))
    if query.message is not None:
        await _stamp(context, _card(query.message), tap.kind.verdict, actor.name, now, "")
    kick_delivery(context)


def _short(context: PulihContext, refusal: Refusal) -> str:
    message = refusal.message
    if isinstance(refusal, AlreadyDecided):
        message = say(context, "already_done", message=message)
    return message[:200]


async def _unless_unchanged(edit: Awaitable[object]) -> None:
    """Run an edit; Telegram's "message is not modified" (a repeated tap) is no error."""
    try:
        await edit
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise


async def _drop_buttons(query: CallbackQuery) -> None:
    await _unless_unchanged(query.edit_message_reply_markup(reply_markup=None))


def _card(message: MaybeInaccessibleMessage) -> Card:
    return Card(message.chat.id, message.message_id, getattr(message, "text", "") or "")


async def _stamp(context: PulihContext, card: Card, verdict: str, by: str,
                 at: datetime, note: str) -> None:
    """Write the decision, who and when on top of the card; its buttons go."""
    stamped = text(context, "stamp", original=card.text, verdict=verdict, by=by, at=at,
                   note=note)
    await _unless_unchanged(context.bot.edit_message_text(
        fit(stamped), chat_id=card.chat_id, message_id=card.message_id))


async def on_text(update: Update, context: PulihContext) -> None:
    """A typed reason for a pending "Kembalikan"/"Tolak"/"Belum sesuai"."""
    message = update.effective_message
    pending = (context.user_data or {}).get(PENDING)
    if message is None or not isinstance(pending, PendingReason):
        return
    actor = await actor_or_explain(update, context)
    if actor is None or context.user_data is None:
        return
    reason = (message.text or "").strip()
    if reason == "/batal":
        context.user_data.pop(PENDING, None)
        await message.reply_text(say(context, "cancelled"))
        return
    container = context.pulih.container
    now, zone = container.clock(), container.settings.timezone
    action = pending.tap.kind.action
    try:
        await in_session(context, lambda s: decide(
            s, pending.tap.request_id, actor, action, now, zone, context.pulih.team_chat_id,
            version=pending.tap.version, reason=reason,
            target_id=pending.tap.argument or None,
            instruction=pending.tap.kind.instruction or None))
    except Refusal as refusal:
        if not isinstance(refusal, AlreadyDecided):
            await message.reply_text(refusal.message)  # e.g. too long: type it again
            return
        context.user_data.pop(PENDING, None)
        await message.reply_text(_short(context, refusal))
        return
    context.user_data.pop(PENDING, None)
    await message.reply_text(say(context, "saved_requester_told"))
    await _stamp(context, pending.card, pending.tap.kind.verdict, actor.name, now, reason)
    kick_delivery(context)
