"""An outage of the Bot API, told once: the first failed poll logs one line, the polls
that fail after it are quiet, and one line says when the Bot API answers again. Pulih
never stops for it: PTB's polling retries without end, and the outbox keeps what waits."""

from __future__ import annotations

import logging
import time

from telegram import Bot
from telegram.error import NetworkError, TelegramError, TimedOut

log = logging.getLogger("pulih")


class Outage:
    """`quiet`: seconds without a failed poll before the outage may be over. PTB waits at
    most 30 s between retries, so a longer quiet means polls have been answered (a getMe
    that works says nothing of getUpdates alone)."""

    def __init__(self, quiet: float = 65.0) -> None:
        self.quiet = quiet
        self.since: float | None = None
        self.last_failure = 0.0
        self.failures = 0

    def failed(self, error: BaseException) -> bool:
        """Whether `error` is an outage's (then it is recorded, and logged if it is the
        first of one)."""
        if not isinstance(error, NetworkError | TimedOut):
            return False
        self.failures += 1
        self.last_failure = time.monotonic()
        if self.since is None:
            self.since = time.monotonic()
            log.warning("Bot API tidak dapat dihubungi (%s); Pulih terus mencoba tanpa henti, "
                        "pesan keluar menunggu di antrean", type(error).__name__)
        return True


    async def probe(self, bot: Bot) -> None:
        """While an outage lasts: ask the Bot API who the bot is; an answer ends it."""
        if self.since is None or time.monotonic() - self.last_failure < self.quiet:
            return
        try:
            await bot.get_me()
        except TelegramError:
            return
        minutes = (time.monotonic() - self.since) / 60
        log.warning("Bot API terhubung lagi setelah %.1f menit (%d percobaan gagal)",
                    minutes, self.failures)
        self.since, self.failures = None, 0
