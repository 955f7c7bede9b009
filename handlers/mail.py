"""E-mail in the bot: every few seconds, on a thread of its own, the copies that are due
are queued (bot.services.outbox.email_copies) and the queued e-mails sent through the
office's SMTP server (bot.mail.sender)."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from bot.mail.sender import deliver_mail
from bot.services.outbox.email_copies import plan_copies
from handlers.runtime import ChatRuntime, PulihContext

log = logging.getLogger("pulih.mail")


async def mail_job(context: PulihContext) -> None:
    chat = context.pulih

    async def one() -> None:
        try:
            await asyncio.to_thread(_round, chat)
        except Exception:
            log.exception("pengiriman e-mail gagal; dicoba lagi")

    await chat.mailing.run(one)


def _round(chat: ChatRuntime) -> None:
    c = chat.container
    if c.settings.smtp_host is None:
        return
    minutes = c.settings.mail_after_minutes
    with c.unit_of_work() as session:
        queued = plan_copies(session, c.clock(),
                             timedelta(minutes=minutes) if minutes else None)
    if queued:
        log.info("%d pesan juga dikirim lewat e-mail", queued)
    if chat.mail_receipts is not None:
        deliver_mail(c, chat.mail_receipts)
