"""The office's daily duties in the bot: a minute's tick asks whether the day's backup
watch is due (bot.services.watch.schedule), and whether last month's service report is
(its first working day); each runs on a thread of its own while the bot answers everyone
else, and what it queued (alerts, the summary, the report) is sent."""

from __future__ import annotations

import asyncio
import logging

from bot.services.reports.monthly import monthly_if_due
from bot.services.watch.run import morning_watch
from handlers.runtime import PulihContext, kick_delivery

log = logging.getLogger("pulih.chat")


async def watch_job(context: PulihContext) -> None:
    chat = context.pulih
    if chat.watching:
        return
    chat.watching = True
    try:
        outcome = await asyncio.to_thread(morning_watch, chat.container, chat.watch_stop)
        reported = await asyncio.to_thread(monthly_if_due, chat.container)
    except Exception:  # a bug or the database away: logged; the next tick tries again
        log.exception("pantauan backup pagi atau laporan bulanan gagal")
        return
    finally:
        chat.watching = False
    if outcome is not None:
        log.info("pantauan backup: %d sistem, %d perlu perhatian", len(outcome.results),
                 len(outcome.troubled))
    if outcome is not None or reported:
        kick_delivery(context, documents=False)

