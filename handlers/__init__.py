"""Thin Telegram adapters: parse an update, call a service, render, send."""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from handlers import (
    decisions,
    drills,
    flood,
    incidents,
    people,
    request_form,
    start,
    status,
    team,
    typed,
)
from handlers.callbacks import INCIDENT_PATTERN
from handlers.runtime import PulihApp


def register(application: PulihApp) -> None:
    private = filters.ChatType.PRIVATE
    application.add_handler(TypeHandler(Update, flood.gate), group=-1)
    for handler in request_form.handlers():
        application.add_handler(handler)
    application.add_handler(CommandHandler("batal", typed.on_cancel))
    application.add_handler(CommandHandler("start", start.start))
    application.add_handler(CommandHandler(["bantuan", "help"], start.help_, filters=private))
    application.add_handler(CommandHandler("status", status.status, filters=private))
    application.add_handler(CommandHandler("antrian", status.queue, filters=private))
    application.add_handler(CommandHandler("orang", people.orang, filters=private))
    application.add_handler(CommandHandler("insiden", incidents.command, filters=private))
    # Restore drills are the team's own work: asked for in the team group (block=False: the
    # backup check before it may take minutes).
    application.add_handler(CommandHandler("uji", drills.command, block=False))
    # Requests carry personal and system data: in a group, commands get a pointer to the
    # private chat instead of an answer.
    application.add_handler(CommandHandler(["mohon", "status", "antrian", "bantuan", "help",
                                            "orang", "insiden"],
                                           start.private_only, filters=~private))
    # A team step may wait minutes on SSH (a backup check reads the whole backup): it runs
    # beside the other updates, not in front of them. Safe: each tap is re-authorized
    # against the request's version in its own transaction.
    # An incident's shared cards decide many requests in one transaction.
    application.add_handler(CallbackQueryHandler(incidents.on_tap, pattern=INCIDENT_PATTERN,
                                                 block=False))
    application.add_handler(CallbackQueryHandler(team.on_tap, pattern=team.PATTERN,
                                                 block=False))
    application.add_handler(CallbackQueryHandler(decisions.on_tap))
    # What a person types goes to what they are in the middle of: the form's answers and
    # a decision's reason in the private chat; in the team group, the system's name that
    # confirms a restore, a rollback's reason.
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, typed.on_text),
                            group=1)
