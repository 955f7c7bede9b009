"""Button taps on decision cards (steps 2, 3, 6 and 8), and the reason typed after a
"Kembalikan", "Tolak" or "Belum sesuai" tap. Every tap is answered; every tap is
re-authorized against the database and checked against the card's version."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session
from telegram import MaybeInaccessibleMessage, Update

from bot.services.chats.conversations import REASON, Pending, forget, remember
from bot.services.outbox.queue import fit
from bot.services.requests.decisions import decidable, decide
from bot.workflow.refusals import AlreadyDecided, Refusal
from handlers.callbacks import Tap, decode
from handlers.common import (
    Answer,
    actor_or_explain,
    answer_tap,
    in_session,
    say,
    send,
    tapped,
    text,
)
from handlers.runtime import PulihContext, kick_delivery


@dataclass(frozen=True)
class Card:
    """The card message a tap came from, as it read then."""

    chat_id: int
    message_id: int
    text: str


def _pending(tap: Tap, card: Card) -> Pending:
    return Pending(REASON, {"tap": tap.encode(), "card": [card.chat_id, card.message_id,
                                                         card.text]})


def _unpack(pending: Pending) -> tuple[Tap, Card] | None:
    tap = decode(str(pending.data.get("tap", "")))
    card = pending.data.get("card")
    if tap is None or not isinstance(card, list) or len(card) != 3:
        return None
    return tap, Card(int(card[0]), int(card[1]), str(card[2]))


async def on_tap(update: Update, context: PulihContext) -> None:
    got = await tapped(update, context)
    if got is None:
        return
    query, tap, actor = got
    if tap.kind.team:  # a team step's button, tapped outside the team group
        await answer_tap(query, say(context, "team_only"), alert=True)
        return
    container = context.pulih.container
    action = tap.kind.action
    now, zone = container.clock(), container.settings.timezone
    answer = Answer(update)
    if tap.kind.asks:
        try:  # refuse now what the decision would refuse, before asking for a reason
            ticket = await in_session(context, lambda s: decidable(
                s, tap.request_id, tap.version, actor, action, now, zone))
        except Refusal as refusal:
            await answer_tap(query, _short(context, refusal), alert=True)
            return
        message, user = query.message, query.from_user
        if message is not None:
            answer.say(text(context, "ask_reason", prompt=tap.kind.asks, ticket=ticket))
            await send(context, answer, lambda s: remember(
                s, answer.chat_id, user.id, _pending(tap, _card(message)), now))
        await answer_tap(query, say(context, "type_reason_here"))
        return
    target = tap.argument or None
    card = _card(query.message) if query.message is not None else None
    if card is not None:
        _stamp(context, answer, card, tap.kind.verdict, actor.name, now, "")

    def decided(session: Session) -> None:
        decide(session, tap.request_id, actor, action, now, zone, context.pulih.team_chat_id,
               version=tap.version, target_id=target,
               instruction=tap.kind.instruction or None)

    try:
        await send(context, answer, decided)
    except Refusal as refusal:
        await answer_tap(query, _short(context, refusal), alert=True)
        if isinstance(refusal, AlreadyDecided) and card is not None:
            answer = Answer(update)
            answer.drop_buttons(card.message_id, chat_id=card.chat_id)
            await send(context, answer)
        return
    await answer_tap(query, say(context, "saved"))
    kick_delivery(context)


def _short(context: PulihContext, refusal: Refusal) -> str:
    message = refusal.message
    if isinstance(refusal, AlreadyDecided):
        message = say(context, "already_done", message=message)
    return message[:200]


def _card(message: MaybeInaccessibleMessage) -> Card:
    return Card(message.chat.id, message.message_id, getattr(message, "text", "") or "")


def _stamp(context: PulihContext, answer: Answer, card: Card, verdict: str, by: str,
           at: datetime, note: str) -> None:
    """Write the decision, who and when on top of the card; its buttons go."""
    stamped = text(context, "stamp", original=card.text, verdict=verdict, by=by, at=at,
                   note=note)
    answer.edit(card.message_id, fit(stamped), chat_id=card.chat_id)


async def reason_typed(update: Update, context: PulihContext, pending: Pending) -> None:
    """A typed reason for a pending "Kembalikan"/"Tolak"/"Belum sesuai" (the text router
    sends it here)."""
    message, user = update.effective_message, update.effective_user
    unpacked = _unpack(pending)
    if message is None or user is None:
        return
    answer = Answer(update)
    if unpacked is None:
        await send(context, answer, lambda s: forget(s, answer.chat_id, user.id, REASON))
        return
    tap, card = unpacked
    actor = await actor_or_explain(update, context)
    if actor is None:
        return
    reason = (message.text or "").strip()
    container = context.pulih.container
    now, zone = container.clock(), container.settings.timezone
    answer.say(say(context, "saved_requester_told"))
    _stamp(context, answer, card, tap.kind.verdict, actor.name, now, reason)

    def decided(session: Session) -> Any:
        decide(session, tap.request_id, actor, tap.kind.action, now, zone,
               context.pulih.team_chat_id, version=tap.version, reason=reason,
               target_id=tap.argument or None, instruction=tap.kind.instruction or None)
        forget(session, answer.chat_id, user.id, REASON)

    try:
        await send(context, answer, decided)
    except Refusal as refusal:
        answer = Answer(update)
        if not isinstance(refusal, AlreadyDecided):
            answer.say(refusal.message)  # e.g. too long: type it again
            await send(context, answer)
            return
        answer.say(_short(context, refusal))
        await send(context, answer, lambda s: forget(s, answer.chat_id, user.id, REASON))
        return
    kick_delivery(context)
