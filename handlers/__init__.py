"""Thin Telegram adapters: parse an update, call a service, render, send."""

from __future__ import annotations

from telegram.ext import Application, CommandHandler

from handlers import start, status


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("start", start.start))
    application.add_handler(CommandHandler("bantuan", start.help_))
    application.add_handler(CommandHandler("help", start.help_))
    application.add_handler(CommandHandler("status", status.status))
    application.add_handler(CommandHandler("antrian", status.queue))
