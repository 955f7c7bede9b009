"""People at their Telegram clients, against the stand-in: they type, tap the newest
button with a label, and wait for what the bot shows them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from operator import contains
from typing import Any

from bot.demo.standin import Expect, FakeTelegram

WAIT = 60.0


@dataclass
class Person:
    fake: FakeTelegram
    user_id: int
    name: str

    def chat(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        return list(self.fake.chat(chat_id or self.user_id).messages.values())

    async def says(self, words: str, chat_id: int | None = None) -> None:
        kind = "supergroup" if chat_id and chat_id < 0 else "private"
        self.fake.user_says(self.user_id, words, chat_id=chat_id, first_name=self.name,
                            chat_type=kind)

    async def taps(self, label: str, chat_id: int | None = None) -> str:
        """Tap the newest button whose label contains `label`; the bot's answer."""
        where = chat_id or self.user_id
        for message in reversed(self.chat(where)):
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    if label in button["text"]:
                        query = self.fake.user_taps(self.user_id, where, message["message_id"],
                                                    button["callback_data"],
                                                    first_name=self.name)
                        await wait(self.fake, Expect(
                            f"an answer to {self.name} tapping {button['text']!r}",
                            partial(contains, self.fake.answered, query)))
                        return str(self.fake.answered[query].get("text", ""))
        raise AssertionError(f"no button {label!r} in chat {where}: "
                             f"{[m.get('text') or m.get('caption') for m in self.chat(where)]}")


async def wait(fake: FakeTelegram, condition: Callable[[], object], timeout: float = WAIT,
               what: str | None = None) -> None:
    """Until `condition` holds; on time out, fail with what was awaited and what was seen."""
    await asyncio.to_thread(fake.wait_for, condition, timeout, what)


def text_of(message: dict[str, Any]) -> str:
    return str(message.get("text") or message.get("caption") or "")


async def shown(fake: FakeTelegram, chat_id: int, words: str,
                timeout: float = WAIT) -> dict[str, Any]:
    """The newest message in the chat that contains `words`, once there is one."""

    def find() -> dict[str, Any] | None:
        return next((m for m in reversed(list(fake.chat(chat_id).messages.values()))
                     if words in text_of(m)), None)

    await wait(fake, lambda: find() is not None, timeout,
               f"a message containing {words!r} in chat {chat_id}")
    found = find()
    assert found is not None
    return found


def documents(fake: FakeTelegram, chat_id: int) -> dict[str, bytes]:
    """The PDFs the chat received, by file name."""
    return {m["document"]["file_name"]: fake.files[m["document"]["file_id"]]
            for m in fake.chat(chat_id).messages.values() if "document" in m}
