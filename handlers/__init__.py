"""Thin Telegram adapters: parse an update, call a service, render, send."""

from __future__ import annotations

from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from handlers import decisions, request_form, start, status


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(request_form.conversation())
    application.add_handler(CommandHandler("start", start.start))
    application.add_handler(CommandHandler("bantuan", start.help_))
    application.add_handler(CommandHandler("help", start.help_))
    application.add_handler(CommandHandler("status", status.status))
    application.add_handler(CommandHandler("antrian", status.queue))
    application.add_handler(CallbackQueryHandler(decisions.on_tap))
    reasons = filters.ChatType.PRIVATE & filters.TEXT & (
        ~filters.COMMAND | filters.Regex(r"^/batal$"))
    application.add_handler(MessageHandler(reasons, decisions.on_text), group=1)
