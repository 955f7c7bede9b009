"""Updates are written down before Telegram is told they arrived (PTB awaits the update
queue's `put` before its next poll confirms them, and before the webhook answers), and
marked handled once handled: in the transaction of the update's answer when it has one
(`handlers.common.Answer`), else with the next update's record (an update that changed
nothing may be looked at again after a crash, to no effect). So after a crash:
- a tap that was received but never answered is answered ("silakan ketuk lagi") when the
  bot starts, while Telegram still takes an answer;
- a typed message that was received but never handled is handled then;
- an update Telegram sends again is recognised and not handled twice."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application

from bot.bootstrap import Container
from bot.render import render_phrase
from bot.services.chats.arrivals import Arrival, handled, receive, unhandled

log = logging.getLogger("pulih.chat")


def _arrival(update: Update) -> Arrival:
    kind = "callback" if update.callback_query is not None else \
        "message" if update.message is not None else "other"
    return Arrival(update.update_id, kind, update.to_dict())


class Arrivals(asyncio.Queue[object]):
    """PTB's update queue, with every update recorded on the way in."""

    def __init__(self) -> None:
        super().__init__()
        self.container: Container | None = None
        self.writer: Executor | None = None
        self.finished: list[int] = []  # handled, to be marked with the next record

    async def _write(self, work: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.writer, work, *args)

    async def put(self, item: object) -> None:
        container = self.container
        if isinstance(item, Update) and container is not None:
            finished, self.finished = self.finished, []
            fresh = await self._write(_receive, container, _arrival(item), finished)
            if not fresh:
                log.info("update %s sudah diterima sebelumnya: tidak diproses lagi",
                         item.update_id)
                return
        await super().put(item)

    def done(self, update: Update) -> None:
        self.finished.append(update.update_id)

    async def flush(self) -> None:
        """Mark what was handled since the last record (on shutdown)."""
        finished, self.finished = self.finished, []
        if finished and self.container is not None:
            await self._write(_handled, self.container, finished)


def _receive(c: Container, arrival: Arrival, finished: list[int]) -> bool:
    with c.unit_of_work() as session:
        handled(session, finished)
        return bool(receive(session, [arrival], c.clock()))


def _handled(c: Container, update_ids: list[int]) -> None:
    with c.unit_of_work() as session:
        handled(session, update_ids)


def _unhandled(c: Container) -> list[Arrival]:
    with c.unit_of_work() as session:
        return unhandled(session)


class PulihApplication(Application[Any, Any, Any, Any, Any, Any]):
    """PTB's Application, marking each update handled once its handlers have run (a
    handler that runs beside the others, `block=False`, counts once started)."""

    async def process_update(self, update: object) -> None:
        try:
            await super().process_update(update)
        finally:
            if isinstance(update, Update) and isinstance(self.update_queue, Arrivals):
                self.update_queue.done(update)


async def catch_up(application: Application[Any, Any, Any, Any, Any, Any],
                   container: Container) -> list[Update]:
    """At start-up, before polling: the taps an earlier process received and never
    finished are answered with a request to tap again (the card may have changed
    since); the messages it never finished are returned, to be handled now."""
    left = await asyncio.to_thread(_unhandled, container)
    again = render_phrase("tap_again", container.settings.timezone)
    messages = []
    for arrival in left:
        update = Update.de_json(arrival.payload, application.bot)
        if update is None:
            continue
        if update.callback_query is not None:
            try:
                await update.callback_query.answer(again, show_alert=True)
            except TelegramError as exc:  # too old by now: Telegram no longer takes it
                log.info("ketukan lama tidak dapat dijawab: %s", exc)
        elif update.message is not None:
            messages.append(update)
    if left:
        log.warning("%d pembaruan dari sebelum bot berhenti: %d ketukan dijawab, %d pesan "
                    "diproses ulang", len(left), len(left) - len(messages), len(messages))
    return messages
