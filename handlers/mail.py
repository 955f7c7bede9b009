"""E-mail in the bot: every few seconds, on a thread of its own, the copies that are due
are queued (bot.services.outbox.email_copies) and the queued e-mails sent through the
office's SMTP server (bot.mail.sender)."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.mail.sender import deliver_mail
from bot.services.outbox.email_copies import plan_copies
from handlers.runtime import ChatRuntime, PulihContext, background_round

log = logging.getLogger("pulih.mail")


async def mail_job(context: PulihContext) -> None:
    chat = context.pulih
    await background_round(context, chat.mailing, lambda: _round(chat),
                           "pengiriman e-mail gagal; dicoba lagi")


def _round(chat: ChatRuntime) -> bool:
    """Plan the copies due, send what is queued; nothing for Telegram to send (False)."""
    c = chat.container
    if c.settings.smtp_host is None:
        return False
    minutes = c.settings.mail_after_minutes
    with c.unit_of_work() as session:
        queued = plan_copies(session, c.clock(),
                             timedelta(minutes=minutes) if minutes else None)
    if queued:
        log.info("%d pesan juga dikirim lewat e-mail", queued)
    if chat.mail_receipts is not None:
        deliver_mail(c, chat.mail_receipts)
    return False
