"""Step 4 in the background: a backup check reads the whole backup over SSH (minutes for
a large one), so it runs on its own threads while the bot answers everyone else; the team
group sees a progress message (phase, time running) that the result replaces. The result
is queued in the outbox in the same transaction that records the check, so it is shown
once even if Telegram fails or the bot stops right after."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session
from telegram import Bot
from telegram.error import BadRequest, RetryAfter, TelegramError

from bot.bootstrap import Container
from bot.services.restores.teamwork import CheckDone
from letters.timefmt import durasi
from restore.check import CHECK_PHASES

log = logging.getLogger("pulih.chat")


@dataclass
class LiveCheck:
    """A check under way, as its progress message shows it."""

    chat_id: int
    ticket: str
    point: str
    by: str
    started: datetime
    phase: str = "menyiapkan sambungan ke server backup"
    message_id: int = 0
    values: dict[str, str] = field(default_factory=dict)

    def heard(self, phase: str) -> None:
        self.phase = CHECK_PHASES.get(phase, phase)


# The check itself: given the phase listener and the transaction hook for the result.
Work = Callable[[Callable[[str], None], Callable[[Session, CheckDone], None]], CheckDone]


class CheckRunner:
    """Runs checks beside the bot, a few at a time, and shows their progress."""

    def __init__(self, container: Container, slots: int = 2, refresh: float = 3.0) -> None:
        self.container = container
        self.refresh = refresh
        self.pool = ThreadPoolExecutor(max_workers=slots, thread_name_prefix="pulih-check")
        self.tasks: set[asyncio.Task[None]] = set()

    def start(self, bot: Bot, live: LiveCheck, work: Work,
              render: Callable[[LiveCheck], str],
              result: Callable[[Session, CheckDone, int], None],
              failed: Callable[[Exception, int], None],
              done: Callable[[], None]) -> None:
        """Run `work` in the background. `result(session, done, message id)` queues the
        result in the check's own transaction; `failed(problem, message id)` queues the
        reason a check could not run; `done` is called after either."""
        task = asyncio.get_running_loop().create_task(
            self._run(bot, live, work, render, result, failed, done))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def stop(self) -> None:
        """On shutdown: checks running are let go (they record nothing until they end, and
        the team taps again after the restart)."""
        for task in self.tasks:
            task.cancel()
        self.pool.shutdown(wait=False, cancel_futures=True)

    async def _run(self, bot: Bot, live: LiveCheck, work: Work,
                   render: Callable[[LiveCheck], str],
                   result: Callable[[Session, CheckDone, int], None],
                   failed: Callable[[Exception, int], None],
                   done: Callable[[], None]) -> None:
        live.message_id = await self._post(bot, live, render(live))
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(
            self.pool, work, live.heard,
            lambda session, checked: result(session, checked, live.message_id))
        shown = render(live)
        try:
            while True:
                finished, _ = await asyncio.wait({future}, timeout=self.refresh)
                if finished:
                    break
                text = render(live)
                if text != shown and live.message_id:
                    await self._edit(bot, live, text)
                    shown = text
            future.result()
        except asyncio.CancelledError:
            raise
        except Exception as problem:  # a refusal, an unreachable server, a bug: said
            await asyncio.to_thread(failed, problem, live.message_id)
        done()

    async def _post(self, bot: Bot, live: LiveCheck, text: str) -> int:
        for attempt in range(3):
            try:
                return (await bot.send_message(live.chat_id, text)).message_id
            except RetryAfter:
                await asyncio.sleep(1 + attempt)
            except BadRequest:
                break
            except TelegramError:
                await asyncio.sleep(0.5 * (attempt + 1))
        log.warning("pesan kemajuan pemeriksaan %s tidak terkirim", live.ticket)
        return 0  # the result then comes as a new message

    @staticmethod
    async def _edit(bot: Bot, live: LiveCheck, text: str) -> None:
        try:
            await bot.edit_message_text(text, chat_id=live.chat_id, message_id=live.message_id)
        except TelegramError as exc:  # a refresh skipped: the next one, or the result, comes
            log.debug("kemajuan pemeriksaan tidak diperbarui: %s", exc)


def elapsed(live: LiveCheck, now: datetime) -> str:
    return durasi(timedelta(seconds=int((now - live.started).total_seconds())))
