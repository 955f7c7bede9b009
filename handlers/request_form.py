"""/mohon: step 1 as a guided conversation. System (buttons from the agency's own
systems), scope, recovery point, reason, impact, contact, optional signed PDF; a summary
with Kirim / Ubah / Batal. Nothing is stored until Kirim."""

from __future__ import annotations

import asyncio
import contextlib
import warnings
from datetime import datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.services.documents.letters import MAX_UPLOAD, is_pdf
from bot.services.requests.filing import agency_systems, file_request, parse_point
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
from handlers.common import actor_or_explain, in_session, say, text
from handlers.runtime import PulihContext, kick_delivery

SYSTEM, SCOPE, POINT, REASON, IMPACT, CONTACT, LETTER, CONFIRM = range(8)
FORM = "pulih_form"
TIMEOUT = 30 * 60  # an abandoned form is forgotten after half an hour


def _keyboard(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data)
                                  for label, data in row] for row in rows])


async def _next(update: Update, context: PulihContext, body: str,
                markup: InlineKeyboardMarkup | None = None) -> None:
    """The form's next question, in the chat the answer came from."""
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_message(chat.id, body, reply_markup=markup)


def _form(context: PulihContext) -> dict[str, Any]:
    assert context.user_data is not None
    form = context.user_data.setdefault(FORM, {})
    assert isinstance(form, dict)
    return form


async def begin(update: Update, context: PulihContext) -> int:
    message = update.effective_message
    actor = await actor_or_explain(update, context)
    if actor is None or message is None:
        return ConversationHandler.END
    if Role.OPD not in actor.roles:
        await message.reply_text(say(context, "opd_only"))
        return ConversationHandler.END
    systems = await in_session(context, lambda s: agency_systems(s, actor.agency_id))
    if not systems:
        await message.reply_text(say(context, "no_systems"))
        return ConversationHandler.END
    assert context.user_data is not None
    context.user_data[FORM] = {"systems": {str(i): (code, name) for i, code, name in systems}}
    await message.reply_text(
        text(context, "form_system"),
        reply_markup=_keyboard([[(name, f"m:s:{i}")] for i, _, name in systems]
                               + [[(say(context, "cancel_label"), "m:batal")]]))
    return SYSTEM


async def choose_system(update: Update, context: PulihContext) -> int:
    query = update.callback_query
    assert query is not None
    form = _form(context)
    choice = (query.data or "").removeprefix("m:s:")
    if choice not in form.get("systems", {}):
        await query.answer(say(context, "choice_unavailable"), show_alert=True)
        return SYSTEM
    await query.answer()
    form["system"] = choice
    await query.edit_message_text(text(context, "form_chosen", label="Sistem",
                                       value=form["systems"][choice][1]))
    await _next(update, context, text(context, "form_scope"),
                _keyboard([[(label, f"m:c:{scope.value}")]
                           for scope, label in SCOPE_LABELS.items()]))
    return SCOPE


async def choose_scope(update: Update, context: PulihContext) -> int:
    query = update.callback_query
    assert query is not None
    value = (query.data or "").removeprefix("m:c:")
    if value not in {s.value for s in Scope}:
        await query.answer(say(context, "choice_unavailable"), show_alert=True)
        return SCOPE
    await query.answer()
    _form(context)["scope"] = value
    await query.edit_message_text(text(context, "form_chosen", label=say(context, "scope_chosen"),
                                       value=SCOPE_LABELS[Scope(value)]))
    await _next(update, context, text(context, "form_point"),
                _keyboard([[(say(context, "latest_label"), "m:p:0")]]))
    return POINT


async def point_latest(update: Update, context: PulihContext) -> int:
    query = update.callback_query
    assert query is not None
    await query.answer()
    _form(context)["point"] = None
    await query.edit_message_text(text(context, "form_chosen", label=say(context, "point_chosen"),
                                       value=say(context, "latest_chosen")))
    await _next(update, context, text(context, "form_reason"))
    return REASON


async def point_typed(update: Update, context: PulihContext) -> int:
    message = update.effective_message
    assert message is not None
    container = context.pulih.container
    try:
        point = parse_point(message.text or "", container.settings.timezone, container.clock())
    except NotAllowed as refusal:
        await message.reply_text(refusal.message)
        return POINT
    _form(context)["point"] = point.isoformat()
    await message.reply_text(text(context, "form_reason"))
    return REASON


async def _typed(update: Update, context: PulihContext, *, key: str, field: str,
                 limit: int, required: bool = True) -> bool:
    """Store one typed answer of the form, checked as the request will check it; False
    (after saying why) when the step must be answered again."""
    message = update.effective_message
    assert message is not None
    try:
        value = clean_field(message.text or "", limit, field)
    except NotAllowed as refusal:
        await message.reply_text(say(context, "too_long", problem=refusal.message))
        return False
    if required and not value:
        return False
    _form(context)[key] = "" if value == "-" and not required else value
    return True


async def reason(update: Update, context: PulihContext) -> int:
    if not await _typed(update, context, key="reason", field="alasan", limit=MAX_REASON):
        return REASON
    await _next(update, context, text(context, "form_impact"))
    return IMPACT


async def impact(update: Update, context: PulihContext) -> int:
    if not await _typed(update, context, key="impact", field="dampak", limit=MAX_REASON,
                        required=False):
        return IMPACT
    await _next(update, context, text(context, "form_contact"))
    return CONTACT


async def contact(update: Update, context: PulihContext) -> int:
    if not await _typed(update, context, key="contact", field="kontak", limit=MAX_SHORT):
        return CONTACT
    await _next(update, context, text(context, "form_letter", limit=MAX_UPLOAD // (1024 * 1024)),
                _keyboard([[(say(context, "make_letter_label"), "m:l:auto")]]))
    return LETTER


async def letter_auto(update: Update, context: PulihContext) -> int:
    query = update.callback_query
    assert query is not None
    await query.answer()
    _form(context).pop("upload", None)
    await query.edit_message_text(text(context, "form_chosen", label=say(context, "letter_chosen"),
                                       value=say(context, "letter_by_pulih")))
    return await _summary(update, context)


async def letter_upload(update: Update, context: PulihContext) -> int:
    message = update.effective_message
    assert message is not None and message.document is not None
    document = message.document
    if (document.file_size or 0) > MAX_UPLOAD:
        await message.reply_text(say(context, "file_too_big", limit_mib=MAX_UPLOAD // 1048576))
        return LETTER
    data = bytes(await (await document.get_file()).download_as_bytearray())
    if len(data) > MAX_UPLOAD or not await asyncio.to_thread(is_pdf, data):
        await message.reply_text(say(context, "not_a_pdf"))
        return LETTER
    _form(context)["upload"] = data
    return await _summary(update, context)


async def _summary(update: Update, context: PulihContext) -> int:
    form = _form(context)
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_message(
        chat.id, text(context, "form_summary", system=form["systems"][form["system"]][1],
                      scope=SCOPE_LABELS[Scope(form["scope"])],
                      point=datetime.fromisoformat(form["point"]) if form.get("point") else None,
                      reason=form["reason"], impact=form.get("impact", ""),
                      contact=form["contact"], upload=form.get("upload") is not None),
        reply_markup=_keyboard([[(say(context, "send_label"), "m:kirim"),
                                  (say(context, "change_label"), "m:ubah"),
                                  (say(context, "cancel_label"), "m:batal")]]))
    return CONFIRM


async def submit(update: Update, context: PulihContext) -> int:
    query = update.callback_query
    assert query is not None and context.user_data is not None
    actor = await actor_or_explain(update, context)
    form = context.user_data.pop(FORM, None)
    if actor is None or not isinstance(form, dict) or "contact" not in form:
        await query.answer(say(context, "form_expired"), show_alert=True)
        return ConversationHandler.END
    await query.answer(say(context, "sending"))
    new = NewRequest(system_code=form["systems"][form["system"]][0], scope=Scope(form["scope"]),
                     reason=form["reason"], impact=form.get("impact", ""),
                     contact=form["contact"],
                     recovery_point=datetime.fromisoformat(form["point"])
                     if form.get("point") else None)
    chat = context.pulih
    try:
        await asyncio.to_thread(file_request, chat.container, actor, new, form.get("upload"))
    except Refusal as refusal:
        await query.edit_message_text(say(context, "not_filed", problem=refusal.message))
        return ConversationHandler.END
    # The ticket comes in its own message, from the outbox (written with the request):
    # this edit only takes the buttons away, and nothing is lost if Telegram refuses it.
    kick_delivery(context)
    with contextlib.suppress(TelegramError):
        await query.edit_message_text(say(context, "form_sent"))
    return ConversationHandler.END


async def restart(update: Update, context: PulihContext) -> int:
    query = update.callback_query
    if query is not None:
        await query.answer()
        await query.edit_message_text(say(context, "form_restarted"))
    return await begin(update, context)


async def cancel(update: Update, context: PulihContext) -> int:
    if context.user_data is not None:
        context.user_data.pop(FORM, None)
    query = update.callback_query
    if query is not None:
        await query.answer()
        await query.edit_message_text(say(context, "form_cancelled"))
    elif update.effective_message is not None:
        await update.effective_message.reply_text(say(context, "form_cancelled"))
    return ConversationHandler.END


async def unexpected(update: Update, context: PulihContext) -> None:
    if update.callback_query is not None:
        await update.callback_query.answer(say(context, "tap_a_button"))
    elif update.effective_message is not None:
        await update.effective_message.reply_text(
            say(context, "off_script"))


def conversation() -> ConversationHandler[PulihContext]:
    private = filters.ChatType.PRIVATE
    typed = private & filters.TEXT & ~filters.COMMAND
    with warnings.catch_warnings():
        # Buttons are tracked per chat and user, not per message, on purpose: each step's
        # buttons are only valid while the form waits on that step.
        warnings.simplefilter("ignore", PTBUserWarning)
        return ConversationHandler(
            entry_points=[CommandHandler("mohon", begin, filters=private)],
            states={
                SYSTEM: [CallbackQueryHandler(choose_system, pattern=r"^m:s:\d+$")],
                SCOPE: [CallbackQueryHandler(choose_scope, pattern=r"^m:c:\w+$")],
                POINT: [CallbackQueryHandler(point_latest, pattern=r"^m:p:0$"),
                        MessageHandler(typed, point_typed)],
                REASON: [MessageHandler(typed, reason)],
                IMPACT: [MessageHandler(typed, impact)],
                CONTACT: [MessageHandler(typed, contact)],
                LETTER: [CallbackQueryHandler(letter_auto, pattern=r"^m:l:auto$"),
                         MessageHandler(private & filters.Document.ALL, letter_upload)],
                CONFIRM: [CallbackQueryHandler(submit, pattern=r"^m:kirim$"),
                          CallbackQueryHandler(restart, pattern=r"^m:ubah$")],
            },
            fallbacks=[CommandHandler("batal", cancel),
                       CallbackQueryHandler(cancel, pattern=r"^m:batal$"),
                       MessageHandler(private & ~filters.COMMAND, unexpected),
                       CallbackQueryHandler(unexpected, pattern=r"^m:")],
            conversation_timeout=TIMEOUT, allow_reentry=True, name="mohon",
        )
