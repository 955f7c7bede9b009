"""Incident mode in chat: /insiden (declare, list, close), the taps on an incident's
shared cards (all at once, or one request set apart), "Periksa & pulihkan semua" on the
team's board, what an agency adds to a request opened for it, and the job that keeps
every live message of an incident up to date (sent once through the outbox, then edited
in place, never sent again)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session
from telegram import Bot, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, RetryAfter, TelegramError

from bot.bootstrap import Container
from bot.db.models import Incident, IncidentMessage, OutboxMessage
from bot.services.chats.conversations import DETAIL, INCIDENT, Pending, forget, remember
from bot.services.incidents.batch import (
    assign_all,
    dispose_all,
    find_incident,
    items,
    ratify_all,
    set_apart,
)
from bot.services.incidents.cards import LiveCard, live_cards
from bot.services.incidents.closing import close_incident
from bot.services.incidents.declare import declare, system_codes
from bot.services.incidents.restore_all import (
    add_detail,
    check_and_queue,
    detail_target,
    ready_listed,
)
from bot.services.outbox.queue import enqueue, fit
from bot.services.requests.records import ensure_allowed, find_request
from bot.services.requests.views import run_header
from bot.services.restores.teamwork import after_run
from bot.workflow.refusals import Refusal
from bot.workflow.rules import Actor
from bot.workflow.sop import Action, Role
from handlers.callbacks import Tap, choice_button, decode
from handlers.common import (
    Answer,
    actor_or_explain,
    answer_tap,
    in_session,
    reply,
    say,
    send,
    tapped,
    text,
)
from handlers.delivery import retry_seconds
from handlers.restore_runs import LiveRun
from handlers.runtime import PulihContext, kick_delivery
from restore.errors import RestoreError

log = logging.getLogger("pulih.incidents")
T = TypeVar("T")
CHECKS_AT_ONCE = 2  # backup checks "Periksa & pulihkan semua" runs side by side
OUTBOX_KEY = "incident-card:"
EDIT_GAP = 3.0  # seconds between two edits of one message
GONE = 0  # IncidentMessage.message_id of a message deleted in Telegram, to send again


# /insiden ------------------------------------------------------------------------------

def _words(update: Update) -> str:
    message = update.effective_message
    parts = ((message.text or "") if message is not None else "").split(maxsplit=1)
    return parts[1].strip() if len(parts) > 1 else ""


def split_declaration(words: str) -> tuple[str, list[str]]:
    """"Gangguan DC1: SIMPEG, SIKD" (or the title's line, then the codes' lines) as the
    title and the codes."""
    if "\n" in words:
        title, _, rest = words.partition("\n")
    else:
        title, _, rest = words.partition(":")
    return title.strip(), system_codes(rest)


async def command(update: Update, context: PulihContext) -> None:
    """/insiden; /insiden buka <judul>: <kode ...>; /insiden tutup <kode insiden>;
    /insiden pisahkan <nomor permohonan>."""
    actor = await actor_or_explain(update, context)
    if actor is None:
        return
    if not actor.roles - {Role.OPD} and not actor.acting:
        await reply(update, context, say(context, "incident_office_only"))
        return
    words = _words(update)
    verb, _, rest = words.partition(" ")
    if "\n" in verb:
        verb, _, more = verb.partition("\n")
        rest = "\n" + more + (" " + rest if rest else "")
    verb = verb.lower()
    answer = Answer(update)
    container = context.pulih.container
    now, zone = container.clock(), container.settings.timezone
    if verb == "buka":
        title, codes = split_declaration(rest.strip())
        await _act(update, context, lambda s: declare(s, actor, title, codes, now, zone),
                   lambda declared: text(context, "incident_declared", declared=declared),
                   "dibuka")
        return
    if verb == "tutup":
        await _close(update, context, actor, rest.strip())
        return
    if verb == "pisahkan":
        await _act(update, context, lambda s: set_apart(
            s, find_request(s, rest.strip() or "-").id, actor, now, zone,
            context.pulih.team_chat_id),
            lambda ticket: say(context, "incident_apart", ticket=ticket), "pisah")
        return
    listing = await in_session(context, _listing)
    answer.say(text(context, "incident_list", incidents=listing))
    await send(context, answer)


async def _act(update: Update, context: PulihContext, work: Callable[[Session], T],
               words: Callable[[T], str], part: str) -> None:
    """Do `work` (what the command changes); say the refusal, or what was done."""
    try:
        done = await send(context, Answer(update), work)
    except Refusal as refusal:
        await reply(update, context, refusal.message)
        return
    answer = Answer(update, part=part)
    answer.say(words(done))  # type: ignore[arg-type]
    await send(context, answer)
    kick_delivery(context)
    kick_cards(context)


def _listing(session: Session) -> list[dict[str, Any]]:
    """The open incidents and their requests, for /insiden."""
    rows = session.execute(select(Incident).where(Incident.closed_at.is_(None))
                           .order_by(Incident.id)).scalars().all()
    return [{"row": row, "items": items(session, row.id)} for row in rows]


async def _close(update: Update, context: PulihContext, actor: Actor, key: str) -> None:
    container = context.pulih.container
    answer = Answer(update)
    if not key:
        answer.say(say(context, "incident_close_usage"))
        await send(context, answer)
        return
    try:
        closed = await asyncio.to_thread(close_incident, container, key, actor)
    except Refusal as refusal:
        answer.say(refusal.message)
        await send(context, answer)
        return
    answer.say(text(context, "incident_closed", closed=closed))
    await send(context, answer)
    kick_delivery(context)
    kick_cards(context)


# Taps ----------------------------------------------------------------------------------

_ALL = {"ia": dispose_all, "it": assign_all, "iy": ratify_all}


async def on_tap(update: Update, context: PulihContext) -> None:
    got = await tapped(update, context)
    if got is None:
        return
    query, tap, actor = got
    chat = context.pulih
    now, zone = chat.container.clock(), chat.container.settings.timezone
    answer = Answer(update)
    try:
        if tap.verb in _ALL:
            decided = _ALL[tap.verb]
            tickets = await send(context, answer, lambda s: decided(
                s, tap.request_id, actor, tap.argument or 0, tap.version, now, zone,
                chat.team_chat_id))
            await answer_tap(query, say(context, "incident_all_saved",
                                        count=len(tickets or [])))
        elif tap.verb == "ip":
            ticket = await send(context, answer, lambda s: set_apart(
                s, tap.request_id, actor, now, zone, chat.team_chat_id))
            await answer_tap(query, say(context, "incident_apart", ticket=ticket))
        elif tap.verb == "ir":
            await _ask_restore_all(update, context, tap, actor)
            return
        elif tap.verb == "ik":
            await _ask_detail(update, context, tap, actor)
            return
    except Refusal as refusal:
        await answer_tap(query, refusal.message[:200], alert=True)
        kick_cards(context)  # a card its requests outgrew is rewritten
        return
    kick_delivery(context)
    kick_cards(context)


async def _ask_restore_all(update: Update, context: PulihContext, tap: Tap,
                           actor: Actor) -> None:
    query, chat = update.callback_query, context.pulih
    assert query is not None
    message = query.message
    if message is None or message.chat.id != chat.team_chat_id:
        await answer_tap(query, say(context, "team_only"), alert=True)
        return
    now, zone = chat.container.clock(), chat.container.settings.timezone

    def allowed(session: Session) -> tuple[str, int]:
        listed = ready_listed(session, tap.request_id, tap.version)
        ensure_allowed(session, listed[0], actor, Action.CHECK_BACKUP, now, zone)
        return find_incident(session, str(tap.request_id)).code, len(listed)

    try:
        code, count = await in_session(context, allowed)
    except Refusal as refusal:
        await answer_tap(query, refusal.message[:200], alert=True)
        kick_cards(context)
        return
    answer = Answer(update)
    answer.say(text(context, "incident_confirm", who=query.from_user.full_name, code=code,
                    count=count), force_reply=code)
    user_id = query.from_user.id
    await send(context, answer, lambda s: remember(s, answer.chat_id, user_id, Pending(
        INCIDENT, {"tap": tap.encode(), "expected": code}), now))
    await answer_tap(query, say(context, "incident_type_code"))


async def _ask_detail(update: Update, context: PulihContext, tap: Tap, actor: Actor) -> None:
    query, chat = update.callback_query, context.pulih
    assert query is not None
    now = chat.container.clock()

    try:
        ticket = await in_session(context, lambda s: detail_target(
            s, tap.request_id, actor).ticket)
    except Refusal as refusal:
        await answer_tap(query, refusal.message[:200], alert=True)
        return
    answer = Answer(update)
    answer.say(say(context, "incident_detail_prompt", ticket=ticket), force_reply=ticket)
    user_id = query.from_user.id
    await send(context, answer, lambda s: remember(s, answer.chat_id, user_id, Pending(
        DETAIL, {"request": tap.request_id}), now))
    await answer_tap(query, say(context, "incident_detail_here"))


# What is typed -------------------------------------------------------------------------

async def typed(update: Update, context: PulihContext, pending: Pending) -> None:
    """The incident's code typed to confirm "Periksa & pulihkan semua", or an agency's
    added details (the text router sends them here)."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    chat_id, words = message.chat.id, (message.text or "").strip()

    def over(session: Session) -> None:
        forget(session, chat_id, user.id, pending.kind)

    actor = await actor_or_explain(update, context)
    if actor is None:
        await send(context, Answer(update), over)
        return
    if pending.kind == DETAIL:
        await _detail(update, context, actor, int(pending.data.get("request", 0)), words,
                      over)
        return
    tap = decode(str(pending.data.get("tap", "")))
    answer = Answer(update)
    if tap is None or words.casefold() != str(pending.data.get("expected", "")).casefold():
        answer.say(say(context, "incident_code_mismatch",
                       code=str(pending.data.get("expected", ""))))
        await send(context, answer, over)
        return
    await _restore_all(update, context, actor, tap, over)


async def _detail(update: Update, context: PulihContext, actor: Actor, request_id: int,
                  words: str, over: Callable[[Session], None]) -> None:
    container = context.pulih.container
    now, zone = container.clock(), container.settings.timezone
    answer = Answer(update)

    def added(session: Session) -> None:
        request = add_detail(session, request_id, actor, words, now, zone)
        team = context.pulih.team_chat_id
        if team:
            enqueue(session, key=f"detail:{update.update_id}", chat_id=team, kind="notice",
                    now=now, request_id=request.id,
                    text=text(context, "incident_detail_team", r=request, by=actor.name,
                              words=words, system=request.system))
        over(session)

    try:
        await send(context, answer, added)
    except Refusal as refusal:
        answer = Answer(update)
        answer.say(refusal.message)
        await send(context, answer, over)
        return
    answer = Answer(update, part="tersimpan")
    answer.say(say(context, "incident_detail_saved"))
    await send(context, answer)
    kick_delivery(context)


async def _restore_all(update: Update, context: PulihContext, actor: Actor, tap: Tap,
                       over: Callable[[Session], None]) -> None:
    chat = context.pulih
    container = chat.container
    answer = Answer(update)

    def listed(session: Session) -> list[int]:
        found = ready_listed(session, tap.request_id, tap.version)
        over(session)
        return found

    try:
        request_ids = await send(context, answer, listed) or []
    except Refusal as refusal:
        answer = Answer(update)
        answer.say(refusal.message)
        await send(context, answer, over)
        kick_cards(context)
        return
    answer = Answer(update, part="mulai")
    answer.say(say(context, "incident_restoring", count=len(request_ids)))
    await send(context, answer)
    for request_id in request_ids:
        chat.incident_checks.add(request_id)
        chat.incident_problems.pop(request_id, None)
    kick_cards(context)
    gate = asyncio.Semaphore(CHECKS_AT_ONCE)
    bot = context.bot

    async def one(request_id: int) -> None:
        async with gate:
            try:
                begun = await asyncio.to_thread(check_and_queue, container, request_id, actor,
                                                chat.restores.queue is not None)
            except (Refusal, RestoreError) as problem:
                chat.incident_problems[request_id] = problem.message
                return
            except Exception:
                log.exception("pemeriksaan backup permohonan #%s gagal", request_id)
                chat.incident_problems[request_id] = say(context, "check_crashed")
                return
            finally:
                chat.incident_checks.discard(request_id)
                kick_cards(context)
        if begun.ticket is None:
            chat.incident_problems[request_id] = say(context, "incident_check_failed")
            return
        ticket = begun.ticket
        values = await in_session(context, lambda s: run_header(
            s, request_id, ticket.point, actor.name))
        live = LiveRun(ticket, chat.team_chat_id, 0, values, container.clock(),
                       waiting=chat.restores.queue is not None, quiet=True)

        def ended() -> None:
            kick_delivery(context)
            kick_cards(context)

        chat.restores.start(bot, live, after_run(container), ended)
        kick_delivery(context)

    tasks = [asyncio.get_running_loop().create_task(one(r)) for r in request_ids]
    for task in tasks:
        chat.restores.tasks.add(task)
        task.add_done_callback(chat.restores.tasks.discard)


# The live messages ---------------------------------------------------------------------

def kick_cards(context: PulihContext) -> None:
    """Bring the incidents' live messages up to date now, not at the next tick."""
    application = context.application
    if application.running:
        application.create_task(cards_job(context), name="pulih-incident-cards")


async def cards_job(context: PulihContext) -> None:
    """One round: every live message sent (once, through the outbox) or edited to what
    it should say now. A call during a round makes that round go once more."""
    await context.pulih.showing.run(lambda: _show(context))


async def _show(context: PulihContext) -> None:
    chat, bot = context.pulih, context.bot
    container = chat.container
    shown, queued = await asyncio.to_thread(_bring_up, container,
                                            frozenset(chat.incident_checks),
                                            dict(chat.incident_problems))
    if queued:
        kick_delivery(context, documents=False)
    for card, message_id in shown:
        now = time.monotonic()
        if now < chat.cards_paused_until or \
                now - chat.card_edits.get(card.key, -EDIT_GAP) < EDIT_GAP:
            continue  # a later round shows it: Telegram limits edits, a group's above all
        try:
            edited = await _edit(bot, card, message_id)
        except RetryAfter as exc:  # slowed down: no edit at all until Telegram says
            chat.cards_paused_until = time.monotonic() + retry_seconds(exc)
            return
        chat.card_edits[card.key] = time.monotonic()
        if edited is None:
            await asyncio.to_thread(_mark, container, card, message_id, True)
            chat.showing.again = True  # its replacement goes out in the next round
        elif edited:
            await asyncio.to_thread(_mark, container, card, message_id, False)


def _bring_up(c: Container, checking: frozenset[int], problems: dict[int, str]
              ) -> tuple[list[tuple[LiveCard, int]], bool]:
    """The cards to edit (with their message ids), after queueing the new ones; whether
    any was queued."""
    now = c.clock()
    queued = False
    edits: list[tuple[LiveCard, int]] = []
    with c.unit_of_work() as session:
        cards = live_cards(session, now, c.settings.timezone, c.office.team_chat_id,
                           c.settings.restores_at_once, checking, problems)
        for card in cards:
            row = session.execute(select(IncidentMessage).where(
                IncidentMessage.key == card.key)).scalar_one_or_none()
            if row is None or row.message_id == GONE:
                if row is None:
                    row = IncidentMessage(key=card.key, incident_id=card.incident_id,
                                          chat_id=card.chat_id, generation=0)
                    session.add(row)
                else:
                    row.generation += 1
                row.message_id, row.shown = None, card.fingerprint
                enqueue(session, key=_outbox_key(card.key, row.generation),
                        chat_id=card.chat_id, kind="incident", text=card.text, now=now,
                        buttons=card.choices)
                queued = True
                continue
            if row.message_id is None:
                sent = session.execute(select(OutboxMessage.message_id).where(
                    OutboxMessage.dedupe_key == _outbox_key(card.key, row.generation),
                    OutboxMessage.status == "sent")).scalar_one_or_none()
                if sent is None:
                    continue
                row.message_id = sent
            if row.shown != card.fingerprint:
                edits.append((card, int(row.message_id)))
    return edits, queued


def _outbox_key(key: str, generation: int) -> str:
    return OUTBOX_KEY + key + (f":{generation}" if generation else "")


def _mark(c: Container, card: LiveCard, message_id: int, gone: bool) -> None:
    """What the message now says; or, deleted in Telegram, that it is to be sent again."""
    with c.unit_of_work() as session:
        row = session.execute(select(IncidentMessage).where(
            IncidentMessage.key == card.key)).scalar_one_or_none()
        if row is None or row.message_id != message_id:
            return
        if gone:
            row.message_id = GONE
        else:
            row.shown = card.fingerprint


async def _edit(bot: Bot, card: LiveCard, message_id: int) -> bool | None:
    """True once the message says what the card says; None if it is gone (deleted);
    RetryAfter when Telegram asks to slow down."""
    rows = [[choice_button(choice) for choice in row] for row in card.choices]
    try:
        await bot.edit_message_text(fit(card.text), chat_id=card.chat_id,
                                    message_id=message_id,
                                    reply_markup=InlineKeyboardMarkup(rows))
        return True
    except BadRequest as exc:
        words = str(exc).lower()
        if "not modified" in words:
            return True
        if "not found" in words:  # deleted in the chat: sent again
            log.warning("pesan insiden %s telah dihapus di Telegram; dikirim lagi", card.key)
            return None
        log.warning("pesan insiden %s tidak dapat diperbarui: %s", card.key, exc)
        return False
    except TelegramError as exc:
        log.info("pesan insiden %s belum dapat diperbarui: %s", card.key, exc)
        return False
