"""The team group's buttons (steps 4-5, and the report's next steps): list restore
points, check one, restore it once the member has typed the system's name, cancel,
roll back (with a typed reason), accept a restore a crash left live, submit a returned
report again. Every tap is answered and re-authorized against the database."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from telegram import (
    CallbackQuery,
    ForceReply,
    InlineKeyboardMarkup,
    Message,
    Update,
)

from bot.services.requests.views import run_header, system_code
from bot.services.restores.runs import remember_message, rollback_run
from bot.services.restores.teamwork import (
    CheckDone,
    accept_restored,
    after_rollback,
    after_run,
    begin_restore,
    check_for_request,
    recheck,
    restore_points,
    submit_report,
    team_step_allowed,
)
from bot.workflow.refusals import Refusal
from bot.workflow.rules import Actor
from handlers.callbacks import TEAM_PATTERN, Tap, button, decode
from handlers.common import actor_or_explain, in_session, say, text
from handlers.restore_runs import LiveRun, cancel_markup, progress_text
from handlers.runtime import PulihContext, kick_delivery
from letters.timefmt import durasi, ukuran, waktu
from restore.errors import RestoreError

PATTERN = TEAM_PATTERN
PENDING = "pulih_team_pending"
POINTS_SHOWN = 8
_VERSIONED = {"go", "v", "lp"}  # taps that act on the card's exact state


@dataclass(frozen=True)
class Pending:
    """What a member's next message in the group means: the system's name that confirms
    a restore, or the reason for a rollback."""

    tap: Tap
    chat_id: int
    expected: str  # the system's code, for a restore
    card_id: int


async def on_tap(update: Update, context: PulihContext) -> None:
    query = update.callback_query
    tap = decode(query.data if query else None)
    if query is None or tap is None or not tap.kind.team:
        if query is not None:
            await query.answer(say(context, "stale_button"), show_alert=True)
        return
    chat = context.pulih
    message = query.message
    if message is None or message.chat.id != chat.team_chat_id:
        await query.answer(say(context, "team_only"), show_alert=True)
        return
    actor = await actor_or_explain(update, context)
    if actor is None:
        await query.answer(say(context, "not_linked_short"), show_alert=True)
        return
    container = chat.container
    now, zone = container.clock(), container.settings.timezone
    try:
        ticket = await in_session(context, lambda s: team_step_allowed(
            s, tap.request_id, tap.version, actor, tap.kind.action, tap.verb in _VERSIONED, now,
            zone))
    except Refusal as refusal:
        await query.answer(refusal.message[:200], show_alert=True)
        return
    await _HANDLERS[tap.verb](query, context, tap, actor, ticket)


async def _points(query: CallbackQuery, context: PulihContext, tap: Tap,
                  actor: Actor, ticket: str) -> None:
    await query.answer(say(context, "fetching_points"))
    container = context.pulih.container
    try:
        found = await asyncio.to_thread(restore_points, container, tap.request_id, actor)
    except (Refusal, RestoreError) as problem:
        await _say(context, say(context, "points_failed", ticket=ticket, problem=problem.message))
        return
    now = container.clock()
    shown = found.points[:POINTS_SHOWN]
    rows = [[button(Tap("c", tap.request_id, 0, int(p.taken_at.timestamp())), name=say(
        context, "point_label", taken=_short_time(p.taken_at, context), size=ukuran(p.size),
        age=durasi(now - p.taken_at)))] for p in shown]
    await context.bot.send_message(
        context.pulih.team_chat_id,
        text(context, "team_points", found=found, shown=shown, by=actor.name),
        reply_markup=InlineKeyboardMarkup(rows) if rows else None)


async def _check(query: CallbackQuery, context: PulihContext, tap: Tap,
                 actor: Actor, ticket: str) -> None:
    await query.answer(say(context, "checking"))
    container = context.pulih.container
    try:
        if tap.verb == "u":
            done = await asyncio.to_thread(recheck, container, tap.request_id, actor,
                                           tap.argument or 0)
        else:
            done = await asyncio.to_thread(check_for_request, container, tap.request_id, actor,
                                           tap.argument or 0)
    except (Refusal, RestoreError) as problem:
        await _say(context, say(context, "check_failed", ticket=ticket, problem=problem.message))
        return
    await context.bot.send_message(context.pulih.team_chat_id,
                                   text(context, "team_check", done=done, by=actor.name),
                                   reply_markup=_after_check(tap.request_id, done))


def _after_check(request_id: int, done: CheckDone) -> InlineKeyboardMarkup:
    rows = []
    if done.passed:
        rows.append([button(Tap("go", request_id, done.version, done.check_id))])
    rows.append([button(Tap("b", request_id, done.version), variant="lain")])
    return InlineKeyboardMarkup(rows)


async def _confirm(query: CallbackQuery, context: PulihContext, tap: Tap,
                   actor: Actor, ticket: str) -> None:
    code = await in_session(context, lambda s: system_code(s, tap.request_id))
    _remember(context, Pending(tap, context.pulih.team_chat_id, code,
                               query.message.message_id if query.message else 0))
    await query.answer(say(context, "type_system_name"))
    user = query.from_user
    await context.bot.send_message(
        context.pulih.team_chat_id,
        text(context, "team_confirm", who=user.full_name, code=code, ticket=ticket),
        reply_markup=ForceReply(selective=True, input_field_placeholder=code))


async def _cancel(query: CallbackQuery, context: PulihContext, tap: Tap,
                  actor: Actor, ticket: str) -> None:
    if context.pulih.restores.cancel(tap.argument or 0, actor.name, tap.request_id):
        await query.answer(say(context, "cancel_asked"))
    else:
        await query.answer(say(context, "not_running"), show_alert=True)


async def _ask_rollback_reason(query: CallbackQuery, context: PulihContext,
                               tap: Tap, actor: Actor, ticket: str) -> None:
    _remember(context, Pending(tap, context.pulih.team_chat_id, "",
                               query.message.message_id if query.message else 0))
    await query.answer(say(context, "rollback_reason_in_group"))
    await context.bot.send_message(
        context.pulih.team_chat_id,
        text(context, "ask_reason", ticket=ticket,
             prompt=say(context, "rollback_reason_prompt", who=query.from_user.full_name)),
        reply_markup=ForceReply(selective=True))


async def _report(query: CallbackQuery, context: PulihContext, tap: Tap,
                  actor: Actor, ticket: str) -> None:
    chat = context.pulih
    now, zone = chat.container.clock(), chat.container.settings.timezone
    try:
        if tap.verb == "v":
            await in_session(context, lambda s: accept_restored(
                s, tap.request_id, actor, now, zone, chat.team_chat_id, tap.version))
        else:
            await in_session(context, lambda s: submit_report(
                s, tap.request_id, actor, now, zone, chat.team_chat_id, version=tap.version))
    except Refusal as refusal:
        await query.answer(refusal.message[:200], show_alert=True)
        return
    await query.answer(say(context, "report_submitted"))
    if query.message is not None:
        await query.edit_message_reply_markup(reply_markup=None)
    kick_delivery(context)


_HANDLERS = {"b": _points, "c": _check, "u": _check, "go": _confirm, "s": _cancel,
             "rb": _ask_rollback_reason, "v": _report, "lp": _report}


def _remember(context: PulihContext, pending: Pending) -> None:
    if context.user_data is not None:
        context.user_data[PENDING] = pending


async def on_group_text(update: Update, context: PulihContext) -> None:
    """A member's typed confirmation of a restore, or reason for a rollback."""
    message = update.effective_message
    pending = (context.user_data or {}).get(PENDING)
    if message is None or not isinstance(pending, Pending) or context.user_data is None or \
            message.chat.id != pending.chat_id:
        return
    context.user_data.pop(PENDING, None)
    typed = (message.text or "").strip()
    if typed == "/batal":
        await message.reply_text(say(context, "cancelled"))
        return
    actor = await actor_or_explain(update, context)
    if actor is None:
        return
    if pending.tap.verb == "go":
        await _start_restore(message, context, pending, actor, typed)
    else:
        await _rollback(message, context, pending, actor, typed)


async def _start_restore(message: Message, context: PulihContext,
                         pending: Pending, actor: Actor, typed: str) -> None:
    if typed.casefold() != pending.expected.casefold():
        await message.reply_text(text(context, "team_confirm_mismatch", code=pending.expected))
        return
    chat = context.pulih
    container = chat.container
    tap = pending.tap
    try:
        ticket = await asyncio.to_thread(begin_restore, container, tap.request_id, actor,
                                         tap.argument or 0, tap.version)
    except (Refusal, RestoreError) as problem:
        await message.reply_text(say(context, "restore_not_started", problem=problem.message))
        return
    values = await in_session(context, lambda s: run_header(s, tap.request_id, ticket.point,
                                                            actor.name))
    live = LiveRun(ticket, chat.team_chat_id, 0, values, container.clock())
    shown = await message.reply_text(progress_text(live, container.settings.timezone),
                                     reply_markup=cancel_markup(live))
    live.message_id = shown.message_id
    await asyncio.to_thread(remember_message, container, ticket.run_id, live.chat_id,
                            shown.message_id)
    chat.restores.start(context.bot, live, after_run(container),
                        lambda: kick_delivery(context))
    kick_delivery(context)  # the requester hears the restore has begun


async def _rollback(message: Message, context: PulihContext, pending: Pending,
                    actor: Actor, reason: str) -> None:
    if not reason:
        await message.reply_text(say(context, "rollback_reason_required"))
        return
    container = context.pulih.container
    await message.reply_text(say(context, "rollback_running"))
    try:
        await asyncio.to_thread(rollback_run, container, pending.tap.argument or 0, actor,
                                reason, after_rollback(container, actor.name, reason),
                                pending.tap.request_id)
    except (Refusal, RestoreError) as problem:
        await message.reply_text(say(context, "rollback_not_started", problem=problem.message))
        return
    await message.reply_text(say(context, "rollback_done"))
    kick_delivery(context)


async def _say(context: PulihContext, words: str) -> None:
    await context.bot.send_message(context.pulih.team_chat_id, words)


def _short_time(moment: datetime, context: PulihContext) -> str:
    return waktu(moment, context.pulih.container.settings.timezone)
