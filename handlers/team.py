"""The team group's buttons (steps 4-5, and the report's next steps): list restore
points, check one, restore it once the member has typed the system's name, cancel,
roll back (with a typed reason), accept a restore a crash left live, submit a returned
report again. Every tap is answered and re-authorized against the database."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session
from telegram import CallbackQuery, InlineKeyboardButton, Update

from bot.services.chats.conversations import CONFIRM, Pending, forget, remember
from bot.services.requests.views import run_header, system_code
from bot.services.restores.runs import expect_run, remember_message, rollback_run
from bot.services.restores.teamwork import (
    CheckDone,
    accept_restored,
    after_rollback,
    after_run,
    begin_restore,
    check_for_request,
    earlier_point,
    restore_points,
    submit_report,
    team_step_allowed,
)
from bot.workflow.refusals import Refusal
from bot.workflow.rules import Actor
from handlers.backup_checks import LiveCheck, elapsed
from handlers.callbacks import TEAM_PATTERN, Tap, button, decode
from handlers.common import (
    Answer,
    Keyboard,
    actor_or_explain,
    answer_tap,
    in_session,
    reply,
    say,
    send,
    text,
)
from handlers.restore_runs import LiveRun, show_progress
from handlers.runtime import PulihContext, kick_delivery
from letters.timefmt import durasi, ukuran, waktu
from restore.errors import RestoreError

PATTERN = TEAM_PATTERN
log = logging.getLogger("pulih.chat")
POINTS_SHOWN = 8
_VERSIONED = {"go", "v", "lp"}  # taps that act on the card's exact state


@dataclass(frozen=True)
class Awaited:
    """What a member's next message in the group means: the system's name that confirms
    a restore, or the reason for a rollback (kept as a conversation, so a restart does
    not lose it)."""

    tap: Tap
    expected: str  # the system's code, for a restore
    card_id: int

    def pending(self) -> Pending:
        return Pending(CONFIRM, {"tap": self.tap.encode(), "expected": self.expected,
                                 "card": self.card_id})

    @staticmethod
    def of(pending: Pending) -> Awaited | None:
        tap = decode(str(pending.data.get("tap", "")))
        if tap is None:
            return None
        return Awaited(tap, str(pending.data.get("expected", "")),
                       int(pending.data.get("card", 0)))


def _keys(markup_rows: list[list[InlineKeyboardButton]]) -> Keyboard:
    return [[(b.text, str(b.callback_data)) for b in row] for row in markup_rows]


async def on_tap(update: Update, context: PulihContext) -> None:
    query = update.callback_query
    tap = decode(query.data if query else None)
    if query is None or tap is None or not tap.kind.team:
        if query is not None:
            await answer_tap(query, say(context, "stale_button"), alert=True)
        return
    chat = context.pulih
    message = query.message
    if message is None or message.chat.id != chat.team_chat_id:
        await answer_tap(query, say(context, "team_only"), alert=True)
        return
    actor = await actor_or_explain(update, context)
    if actor is None:
        await answer_tap(query, say(context, "not_linked_short"), alert=True)
        return
    container = chat.container
    now, zone = container.clock(), container.settings.timezone
    try:
        ticket = await in_session(context, lambda s: team_step_allowed(
            s, tap.request_id, tap.version, actor, tap.kind.action, tap.verb in _VERSIONED, now,
            zone))
    except Refusal as refusal:
        await answer_tap(query, refusal.message[:200], alert=True)
        return
    await _HANDLERS[tap.verb](update, query, context, tap, actor, ticket)


async def _points(update: Update, query: CallbackQuery, context: PulihContext, tap: Tap,
                  actor: Actor, ticket: str) -> None:
    await answer_tap(query, say(context, "fetching_points"))
    container = context.pulih.container
    answer = Answer(update)
    try:
        found = await asyncio.to_thread(restore_points, container, tap.request_id, actor)
    except (Refusal, RestoreError) as problem:
        answer.say(say(context, "points_failed", ticket=ticket, problem=problem.message))
        await send(context, answer)
        return
    now = container.clock()
    shown = found.points[:POINTS_SHOWN]
    rows = [[button(Tap("c", tap.request_id, 0, int(p.taken_at.timestamp())), name=say(
        context, "point_label", taken=_short_time(p.taken_at, context), size=ukuran(p.size),
        age=durasi(now - p.taken_at)))] for p in shown]
    answer.say(text(context, "team_points", found=found, shown=shown, by=actor.name),
               _keys(rows))
    await send(context, answer)


async def _check(update: Update, query: CallbackQuery, context: PulihContext, tap: Tap,
                 actor: Actor, ticket: str) -> None:
    """Start the check in the background (it may read a large backup for minutes); the
    tap is answered at once and a progress message shows where it is."""
    await answer_tap(query, say(context, "checking"))
    chat = context.pulih
    container = chat.container
    if tap.verb == "u":
        try:
            point: int | str = await asyncio.to_thread(earlier_point, container,
                                                       tap.request_id, tap.argument or 0)
        except Refusal as refusal:
            await reply(update, context, say(context, "check_failed", ticket=ticket,
                                             problem=refusal.message))
            return
    else:
        point = tap.argument or 0
    shown_point = point if isinstance(point, str) else \
        _short_time(datetime.fromtimestamp(point, UTC), context)
    live = LiveCheck(chat.team_chat_id, ticket, shown_point, actor.name, container.clock())
    result_key = Answer(update, part="hasil")

    def render(live: LiveCheck) -> str:
        return text(context, "team_check_progress", ticket=live.ticket, point=live.point,
                    phase=live.phase, elapsed=elapsed(live, container.clock()), by=live.by)

    def work(on_phase: Callable[[str], None],
             then: Callable[[Session, CheckDone], None]) -> CheckDone:
        return check_for_request(container, tap.request_id, actor, point, on_phase=on_phase,
                                 then=then)

    def result(session: Session, done: CheckDone, message_id: int) -> None:
        words = text(context, "team_check", done=done, by=actor.name)
        keys = _after_check(tap.request_id, done)
        if message_id:
            result_key.edit(message_id, words, keys)
        else:
            result_key.say(words, keys)
        result_key.queue(session, context)

    def failed(problem: Exception, message_id: int) -> None:
        if isinstance(problem, (Refusal, RestoreError)):
            why = problem.message
        else:
            log.error("pemeriksaan backup %s gagal", ticket, exc_info=problem)
            why = say(context, "check_crashed")
        words = say(context, "check_failed", ticket=ticket, problem=why)
        answer = Answer(update, part="gagal")
        if message_id:
            answer.edit(message_id, words)
        else:
            answer.say(words)
        with container.unit_of_work() as session:
            answer.queue(session, context)

    chat.checks.start(context.bot, live, work, render, result, failed,
                      lambda: kick_delivery(context))


def _after_check(request_id: int, done: CheckDone) -> Keyboard:
    rows = []
    if done.passed:
        rows.append([button(Tap("go", request_id, done.version, done.check_id))])
    rows.append([button(Tap("b", request_id, done.version), variant="lain")])
    return _keys(rows)


async def _await_typed(update: Update, query: CallbackQuery, context: PulihContext,
                       awaited: Awaited, words: str, prompt: str,
                       placeholder: str) -> None:
    """Ask the member to type in the group; what they type next is kept for it (before
    the tap is answered, so what they type at once finds it)."""
    answer = Answer(update)
    answer.say(prompt, force_reply=placeholder)
    user_id, now = query.from_user.id, context.pulih.container.clock()
    await send(context, answer, lambda s: remember(s, answer.chat_id, user_id,
                                                   awaited.pending(), now))
    await answer_tap(query, words)


async def _confirm(update: Update, query: CallbackQuery, context: PulihContext, tap: Tap,
                   actor: Actor, ticket: str) -> None:
    code = await in_session(context, lambda s: system_code(s, tap.request_id))
    await _await_typed(update, query, context,
                       Awaited(tap, code, query.message.message_id if query.message else 0),
                       say(context, "type_system_name"),
                       text(context, "team_confirm", who=query.from_user.full_name, code=code,
                            ticket=ticket), code)
    try:  # while the name is typed; the run logs in itself should this fail
        if context.pulih.restores.carries_here:
            await asyncio.to_thread(expect_run, context.pulih.container, code)
    except Exception:
        log.exception("login awal untuk restore %s gagal", code)


async def _cancel(update: Update, query: CallbackQuery, context: PulihContext, tap: Tap,
                  actor: Actor, ticket: str) -> None:
    if context.pulih.restores.cancel(tap.argument or 0, actor.name, tap.request_id):
        await answer_tap(query, say(context, "cancel_asked"))
    else:
        await answer_tap(query, say(context, "not_running"), alert=True)


async def _ask_rollback_reason(update: Update, query: CallbackQuery, context: PulihContext,
                               tap: Tap, actor: Actor, ticket: str) -> None:
    await _await_typed(update, query, context,
                       Awaited(tap, "", query.message.message_id if query.message else 0),
                       say(context, "rollback_reason_in_group"),
                       text(context, "ask_reason", ticket=ticket, prompt=say(
                           context, "rollback_reason_prompt", who=query.from_user.full_name)),
                       "")


async def _report(update: Update, query: CallbackQuery, context: PulihContext, tap: Tap,
                  actor: Actor, ticket: str) -> None:
    chat = context.pulih
    now, zone = chat.container.clock(), chat.container.settings.timezone
    answer = Answer(update)
    if query.message is not None:
        answer.drop_buttons(query.message.message_id)

    def submitted(session: Session) -> None:
        if tap.verb == "v":
            accept_restored(session, tap.request_id, actor, now, zone, chat.team_chat_id,
                            tap.version)
        else:
            submit_report(session, tap.request_id, actor, now, zone, chat.team_chat_id,
                          version=tap.version)

    try:
        await send(context, answer, submitted)
    except Refusal as refusal:
        await answer_tap(query, refusal.message[:200], alert=True)
        return
    await answer_tap(query, say(context, "report_submitted"))
    kick_delivery(context)


_HANDLERS = {"b": _points, "c": _check, "u": _check, "go": _confirm, "s": _cancel,
             "rb": _ask_rollback_reason, "v": _report, "lp": _report}


async def typed(update: Update, context: PulihContext, pending: Pending) -> None:
    """A member's typed confirmation of a restore, or reason for a rollback (the text
    router sends it here). Whatever it is, the question is then answered: it is
    forgotten in the transaction of the reply that ends it (a crash before that leaves
    the question, and the message is handled again after the restart)."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    awaited = Awaited.of(pending)
    chat_id = message.chat.id

    def over(session: Session) -> None:
        forget(session, chat_id, user.id, CONFIRM)

    actor = await actor_or_explain(update, context)
    if awaited is None or actor is None:
        await send(context, Answer(update), over)
        return
    typed = (message.text or "").strip()
    if awaited.tap.verb == "go":
        await _start_restore(update, context, awaited, actor, typed, over)
    else:
        await _rollback(update, context, awaited, actor, typed, over)


async def _start_restore(update: Update, context: PulihContext, pending: Awaited,
                         actor: Actor, typed: str, over: Callable[[Session], None]) -> None:
    answer = Answer(update)
    if typed.casefold() != pending.expected.casefold():
        answer.say(text(context, "team_confirm_mismatch", code=pending.expected))
        await send(context, answer, over)
        return
    chat = context.pulih
    container = chat.container
    tap = pending.tap
    try:
        ticket = await asyncio.to_thread(begin_restore, container, tap.request_id, actor,
                                         tap.argument or 0, tap.version,
                                         chat.restores.queue is not None)
    except (Refusal, RestoreError) as problem:
        answer.say(say(context, "restore_not_started", problem=problem.message))
        await send(context, answer, over)
        return
    await send(context, answer, over)
    values = await in_session(context, lambda s: run_header(s, tap.request_id, ticket.point,
                                                            actor.name))
    live = LiveRun(ticket, chat.team_chat_id, 0, values, container.clock(),
                   waiting=chat.restores.queue is not None)
    # The progress message is sent directly (its id is needed for the live updates);
    # should Telegram refuse it, the run goes on and its end is posted as a new message.
    shown = await show_progress(context.bot, live, container.settings.timezone)
    if shown is not None:
        live.message_id = shown
        await asyncio.to_thread(remember_message, container, ticket.run_id, live.chat_id,
                                shown)
    chat.restores.start(context.bot, live, after_run(container),
                        lambda: kick_delivery(context))
    kick_delivery(context)  # the requester hears the restore has begun


async def _rollback(update: Update, context: PulihContext, pending: Awaited,
                    actor: Actor, reason: str, over: Callable[[Session], None]) -> None:
    answer = Answer(update)
    if not reason:
        answer.say(say(context, "rollback_reason_required"))
        await send(context, answer, over)
        return
    container = context.pulih.container
    answer.say(say(context, "rollback_running"))
    await send(context, answer, over)
    try:
        await asyncio.to_thread(rollback_run, container, pending.tap.argument or 0, actor,
                                reason, after_rollback(container, actor.name, reason),
                                pending.tap.request_id)
    except (Refusal, RestoreError) as problem:
        done = say(context, "rollback_not_started", problem=problem.message)
    else:
        done = say(context, "rollback_done")
    ended = Answer(update, part="selesai")
    ended.say(done)
    await send(context, ended)
    kick_delivery(context)


def _short_time(moment: datetime, context: PulihContext) -> str:
    return waktu(moment, context.pulih.container.settings.timezone)
