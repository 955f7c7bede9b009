"""Restore drills in the chat: /uji KODE from the team group (a Tim Teknis member), and the
job that queues the scheduled ones, puts back in line a drill a crash left out of it, and
sends each finished drill's report (bot.services.restores.drills)."""

from __future__ import annotations

import asyncio
import logging

from telegram import Update

from bot.services.restores.drills import (
    Prepared,
    due_drills,
    prepare_drill,
    report_drill,
    unreported,
    waiting_drills,
)
from bot.services.restores.runs import queue_place
from bot.workflow.refusals import Refusal
from bot.workflow.sop import Role
from handlers.common import actor_or_explain, reply, say, text
from handlers.runtime import ChatRuntime, PulihContext, background_round, kick_delivery
from restore.errors import RestoreError

log = logging.getLogger("pulih.chat")


async def command(update: Update, context: PulihContext) -> None:
    """/uji KODE: the system's newest backup checked, then restored as a drill in turn."""
    actor = await actor_or_explain(update, context)
    if actor is None:
        return
    if Role.TIM not in actor.roles:
        await reply(update, context, say(context, "drill_team_only"))
        return
    words = (context.args or [])
    if not words:
        await reply(update, context, say(context, "drill_usage"))
        return
    chat = context.pulih
    try:
        prepared = await asyncio.to_thread(prepare_drill, chat.container, words[0], actor)
    except (Refusal, RestoreError) as exc:
        await reply(update, context, exc.message)
        return
    if prepared.queued:
        await asyncio.to_thread(put_in_line, chat, prepared.run_id, prepared.uid)
    await reply(update, context, text(context, "drill_queued", prepared=prepared))
    kick_delivery(context, documents=False)


def put_in_line(chat: ChatRuntime, run_id: int, uid: str) -> None:
    """The drill waits in the restore queue like any restore (the same workflow twice is
    one: safe to repeat)."""
    queue = chat.restores.queue
    if queue is None:
        return
    with chat.container.unit_of_work() as session:
        place = queue_place(session, run_id)
    queue.enqueue(run_id, uid, place.slot, place.priority, place.zone)


async def drills_job(context: PulihContext) -> None:
    chat = context.pulih
    await background_round(context, chat.drilling, lambda: _round(chat),
                           "putaran uji pemulihan gagal")


def _round(chat: ChatRuntime) -> bool:
    c = chat.container
    told = False
    for run_id in unreported(c):
        report_drill(c, run_id)
        told = True
    for run_id, uid in waiting_drills(c):
        put_in_line(chat, run_id, uid)
    if chat.watch_first is None:  # no scheduled work in this process
        return told
    for code in due_drills(c):
        try:
            prepared: Prepared = prepare_drill(c, code, None)
        except (Refusal, RestoreError) as exc:
            log.warning("uji pemulihan terjadwal %s tidak dimulai: %s", code, exc)
            continue
        if prepared.queued:
            put_in_line(chat, prepared.run_id, prepared.uid)
    return told
