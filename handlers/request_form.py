"""/mohon: step 1 as a guided conversation. System (buttons from the agency's own
systems), scope, recovery point, reason, impact, contact, optional signed PDF; a summary
with Kirim / Ubah / Batal. Nothing is filed until Kirim.

The form's answers so far live in the database (`bot/services/chats/conversations.py`),
written together with the next question in the outbox: after a restart, or a crash, the
person carries on where they were; an abandoned form is forgotten after half an hour."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session
from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.services.chats.conversations import FORM, Pending, current, forget, remember
from bot.services.documents.letters import MAX_UPLOAD, is_pdf, letter_terms
from bot.services.requests.filing import agency_systems, file_request, keep_upload, parse_point
from bot.services.requests.records import (
    MAX_REASON,
    MAX_SHORT,
    SCOPE_LABELS,
    NewRequest,
    Scope,
    clean_field,
)
from bot.workflow.refusals import NotAllowed, Refusal
from bot.workflow.sop import Role
from handlers.common import Answer, actor_or_explain, answer_tap, in_session, say, send, text
from handlers.runtime import PulihContext, kick_delivery

PATTERN = r"^m:"


def _ids(update: Update) -> tuple[int, int]:
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None and user is not None
    return chat.id, user.id


async def _save(context: PulihContext, update: Update, answer: Answer,
                form: dict[str, Any] | None) -> None:
    """Commit the form as it now stands (None: it is over) with the answer."""
    chat_id, user_id = _ids(update)
    now = context.pulih.container.clock()
    if form is not None:
        form["last"] = update.update_id

    def work(session: Session) -> None:
        if form is None:
            forget(session, chat_id, user_id, FORM)
        else:
            remember(session, chat_id, user_id, Pending(FORM, form), now)

    await send(context, answer, work)


async def _form(update: Update, context: PulihContext) -> dict[str, Any] | None:
    """The person's form in this chat, or None when there is none (or it expired)."""
    chat_id, user_id = _ids(update)
    now = context.pulih.container.clock()
    pending = await in_session(context, lambda s: current(s, chat_id, user_id, now, FORM))
    return pending.data if pending is not None else None


async def begin(update: Update, context: PulihContext, answer: Answer | None = None) -> None:
    message = update.effective_message
    actor = await actor_or_explain(update, context)
    if actor is None or message is None:
        return
    answer = answer or Answer(update)
    if Role.OPD not in actor.roles:
        answer.say(say(context, "opd_only"))
        await send(context, answer)
        return
    stationery = context.pulih.container.office.stationery
    systems, terms = await in_session(context, lambda s: (
        agency_systems(s, actor.agency_id), letter_terms(s, stationery, actor.agency_id)))
    if not systems:
        answer.say(say(context, "no_systems"))
        await send(context, answer)
        return
    answer.say(text(context, "form_system"),
               [[(name, f"m:s:{i}")] for i, _, name in systems]
               + [[(say(context, "cancel_label"), "m:batal")]])
    await _save(context, update, answer, {
        "step": "system", "systems": {str(i): [code, name] for i, code, name in systems},
        "letter_terms": terms})


# --- taps ---------------------------------------------------------------------------

async def on_tap(update: Update, context: PulihContext) -> None:
    query = update.callback_query
    assert query is not None
    data = query.data or ""
    form = await _form(update, context)
    if form is None:
        await answer_tap(query, say(context, "form_expired"), alert=True)
        return
    if data == "m:batal":
        await cancel(update, context)
        return
    step = form.get("step")
    for prefix, wanted, act in _TAPS:
        if data.startswith(prefix) and step == wanted:
            await act(update, context, form, data.removeprefix(prefix))
            return
    await answer_tap(query, say(context, "tap_a_button"))


def _card_id(update: Update) -> int:
    query = update.callback_query
    return query.message.message_id if query is not None and query.message is not None else 0


async def _chosen(update: Update, context: PulihContext, label: str, value: str) -> Answer:
    """Answer the tap; the question it answered is rewritten to show the choice."""
    assert update.callback_query is not None
    await answer_tap(update.callback_query)
    answer = Answer(update)
    answer.edit(_card_id(update), text(context, "form_chosen", label=label, value=value))
    return answer


async def _system(update: Update, context: PulihContext, form: dict[str, Any],
                  choice: str) -> None:
    query = update.callback_query
    assert query is not None
    if choice not in form.get("systems", {}):
        await answer_tap(query, say(context, "choice_unavailable"), alert=True)
        return
    form.update(step="scope", system=choice)
    answer = await _chosen(update, context, "Sistem", form["systems"][choice][1])
    answer.say(text(context, "form_scope"),
               [[(label, f"m:c:{scope.value}")] for scope, label in SCOPE_LABELS.items()])
    await _save(context, update, answer, form)


async def _scope(update: Update, context: PulihContext, form: dict[str, Any],
                 value: str) -> None:
    query = update.callback_query
    assert query is not None
    if value not in {s.value for s in Scope}:
        await answer_tap(query, say(context, "choice_unavailable"), alert=True)
        return
    form.update(step="point", scope=value)
    answer = await _chosen(update, context, say(context, "scope_chosen"),
                           SCOPE_LABELS[Scope(value)])
    answer.say(text(context, "form_point"), [[(say(context, "latest_label"), "m:p:0")]])
    await _save(context, update, answer, form)


async def _latest(update: Update, context: PulihContext, form: dict[str, Any],
                  _: str) -> None:
    form.update(step="reason", point=None)
    answer = await _chosen(update, context, say(context, "point_chosen"),
                           say(context, "latest_chosen"))
    answer.say(text(context, "form_reason"))
    await _save(context, update, answer, form)


async def _letter_auto(update: Update, context: PulihContext, form: dict[str, Any],
                       _: str) -> None:
    _drop_upload(form)
    answer = await _chosen(update, context, say(context, "letter_chosen"),
                           say(context, "letter_by_pulih"))
    _summary(context, form, answer)
    await _save(context, update, answer, form)


async def _submit(update: Update, context: PulihContext, form: dict[str, Any],
                  _: str) -> None:
    query = update.callback_query
    assert query is not None
    actor = await actor_or_explain(update, context)
    if actor is None or "contact" not in form:
        await answer_tap(query, say(context, "form_expired"), alert=True)
        return
    await answer_tap(query, say(context, "sending"))
    new = NewRequest(system_code=form["systems"][form["system"]][0], scope=Scope(form["scope"]),
                     reason=form["reason"], impact=form.get("impact", ""),
                     contact=form["contact"],
                     recovery_point=datetime.fromisoformat(form["point"])
                     if form.get("point") else None)
    chat_id, user_id = _ids(update)
    upload = Path(form["upload"]) if form.get("upload") else None
    answer = Answer(update)
    # The ticket comes in its own message, from the outbox (written with the request);
    # the summary loses its buttons, and the form is forgotten, in the filing's own
    # transaction: a second Kirim (or the same tap handled again after a crash) finds no
    # form and files nothing.
    answer.edit(_card_id(update), say(context, "form_sent"))

    def settled(session: Session) -> None:
        forget(session, chat_id, user_id, FORM)
        answer.queue(session, context)

    try:
        await asyncio.to_thread(file_request, context.pulih.container, actor, new, upload,
                                settled)
    except Refusal as refusal:
        answer = Answer(update)
        answer.edit(_card_id(update), say(context, "not_filed", problem=refusal.message))
        await _save(context, update, answer, None)
        return
    kick_delivery(context)


async def _change(update: Update, context: PulihContext, form: dict[str, Any],
                  _: str) -> None:
    assert update.callback_query is not None
    await answer_tap(update.callback_query)
    _drop_upload(form)
    answer = Answer(update)
    answer.edit(_card_id(update), say(context, "form_restarted"))
    await begin(update, context, answer)


_TAPS: list[tuple[str, str, Callable[[Update, PulihContext, dict[str, Any], str],
                                     Any]]] = [
    ("m:s:", "system", _system), ("m:c:", "scope", _scope), ("m:p:0", "point", _latest),
    ("m:l:auto", "letter", _letter_auto), ("m:kirim", "confirm", _submit),
    ("m:ubah", "confirm", _change)]


# --- typed answers --------------------------------------------------------------------

async def typed(update: Update, context: PulihContext, form: dict[str, Any]) -> None:
    """A typed answer in the form (the text router sends it here)."""
    message = update.effective_message
    assert message is not None
    if update.update_id <= int(form.get("last", 0)):
        return  # handled before a crash already
    step = form.get("step")
    answer = Answer(update)
    if step == "point":
        container = context.pulih.container
        try:
            point = parse_point(message.text or "", container.settings.timezone,
                                container.clock())
        except NotAllowed as refusal:
            answer.say(refusal.message)
            await send(context, answer)
            return
        form.update(step="reason", point=point.isoformat())
        answer.say(text(context, "form_reason"))
    elif step in _FIELDS:
        key, field, limit, required, following = _FIELDS[step]
        try:
            value = clean_field(message.text or "", limit, field)
        except NotAllowed as refusal:
            answer.say(say(context, "too_long", problem=refusal.message))
            await send(context, answer)
            return
        if required and not value:
            return
        form[key] = "" if value == "-" and not required else value
        form["step"] = following
        if following == "impact":
            answer.say(text(context, "form_impact"))
        elif following == "contact":
            answer.say(text(context, "form_contact"))
        else:
            answer.say(text(context, "form_letter", limit=MAX_UPLOAD // (1024 * 1024)),
                       [[(say(context, "make_letter_label"), "m:l:auto")]])
    else:  # a step answered with a button (or a file)
        answer.say(say(context, "off_script"))
        await send(context, answer)
        return
    await _save(context, update, answer, form)


# step -> (form key, field name in refusals, limit, required, next step)
_FIELDS = {"reason": ("reason", "alasan", MAX_REASON, True, "impact"),
           "impact": ("impact", "dampak", MAX_REASON, False, "contact"),
           "contact": ("contact", "kontak", MAX_SHORT, True, "letter")}


async def on_document(update: Update, context: PulihContext) -> None:
    """A file sent in the private chat: the signed request letter, when the form asks
    for it."""
    message = update.effective_message
    if message is None or message.document is None:
        return
    form = await _form(update, context)
    if form is None:
        return
    answer = Answer(update)
    if form.get("step") != "letter" or update.update_id <= int(form.get("last", 0)):
        answer.say(say(context, "off_script"))
        await send(context, answer)
        return
    document = message.document
    if (document.file_size or 0) > MAX_UPLOAD:
        answer.say(say(context, "file_too_big", limit_mib=MAX_UPLOAD // 1048576))
        await send(context, answer)
        return
    data = bytes(await (await document.get_file()).download_as_bytearray())
    if len(data) > MAX_UPLOAD or not await asyncio.to_thread(is_pdf, data):
        answer.say(say(context, "not_a_pdf"))
        await send(context, answer)
        return
    _drop_upload(form)
    kept = await asyncio.to_thread(keep_upload, context.pulih.container, data)
    form["upload"] = str(kept)
    _summary(context, form, answer)
    await _save(context, update, answer, form)


def _drop_upload(form: dict[str, Any]) -> None:
    """An uploaded letter the person replaced or gave up is removed at once."""
    upload = form.pop("upload", None)
    if upload:
        Path(upload).unlink(missing_ok=True)


def _summary(context: PulihContext, form: dict[str, Any], answer: Answer) -> None:
    form["step"] = "confirm"
    answer.say(
        text(context, "form_summary", system=form["systems"][form["system"]][1],
             scope=SCOPE_LABELS[Scope(form["scope"])],
             point=datetime.fromisoformat(form["point"]) if form.get("point") else None,
             reason=form["reason"], impact=form.get("impact", ""),
             contact=form["contact"], upload=bool(form.get("upload")),
             letter=form.get("letter_terms")),
        [[(say(context, "send_label"), "m:kirim"), (say(context, "change_label"), "m:ubah"),
          (say(context, "cancel_label"), "m:batal")]])


async def cancel(update: Update, context: PulihContext) -> None:
    """Batal (the button, or /batal while the form is open): the form is forgotten."""
    form = await _form(update, context)
    if form is not None:
        _drop_upload(form)
    answer = Answer(update)
    query = update.callback_query
    if query is not None:
        await answer_tap(query)
        answer.edit(_card_id(update), say(context, "form_cancelled"))
    else:
        answer.say(say(context, "form_cancelled"))
    await _save(context, update, answer, None)


def handlers() -> list[CommandHandler[PulihContext, None] | CallbackQueryHandler[
        PulihContext, None] | MessageHandler[PulihContext, None]]:
    private = filters.ChatType.PRIVATE
    return [CommandHandler("mohon", begin, filters=private),
            CallbackQueryHandler(on_tap, pattern=PATTERN),
            MessageHandler(private & filters.Document.ALL, on_document)]
