"""The office's daily duties in the bot: a minute's tick asks whether the day's backup
watch is due (bot.services.watch.schedule), and whether last month's service report is
(its first working day); each runs on a thread of its own while the bot answers everyone
else, and what it queued (alerts, the summary, the report) is sent."""

from __future__ import annotations

import logging

from bot.services.reports.monthly import monthly_if_due
from bot.services.watch.run import morning_watch
from handlers.runtime import ChatRuntime, PulihContext, background_round

log = logging.getLogger("pulih.chat")


async def watch_job(context: PulihContext) -> None:
    chat = context.pulih
    await background_round(context, chat.watching, lambda: _duties(chat),
                           "pantauan backup pagi atau laporan bulanan gagal")


def _duties(chat: ChatRuntime) -> bool:
    """The day's watch and last month's report, each when due; True if either was done."""
    outcome = morning_watch(chat.container, chat.watch_stop)
    if outcome is not None:
        log.info("pantauan backup: %d sistem, %d perlu perhatian", len(outcome.results),
                 len(outcome.troubled))
    reported = monthly_if_due(chat.container)
    return outcome is not None or reported
