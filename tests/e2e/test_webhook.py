"""Webhook mode: the bot registers its public URL with the secret, answers updates posted
with that secret, and refuses posts without it."""

from __future__ import annotations

import asyncio
import json
import socket
import urllib.error
import urllib.request
from pathlib import Path

from bot.demo.standin import fake_telegram
from bot.settings import load_settings
from handlers.app import build_application, webhook_options
from handlers.runtime import ChatRuntime
from tests.support.office import NIPS
from tests.support.running_bot import chat_office, has_messages, link, until

SECRET = "rahasia-webhook-uji-0123456789"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def post(port: int, update: dict[str, object], secret: str | None) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/telegram", data=json.dumps(update).encode(),
        headers={"Content-Type": "application/json",
                 **({"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - loopback
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_updates_come_by_webhook_only_with_the_secret(tmp_path: Path) -> None:
    port = free_port()
    (tmp_path / "secret").write_text(SECRET + "\n")
    with fake_telegram() as fake:
        container = chat_office(tmp_path, fake)
        link(container, NIPS["kadis"], 8101)
        env = {"PULIH_BOT_TOKEN": "123456789:TEST-fake-token-for-tests-only",
               "PULIH_WEBHOOK_URL": "https://pulih.kukarkab.go.id/telegram",
               "PULIH_WEBHOOK_LISTEN": f"127.0.0.1:{port}",
               "PULIH_WEBHOOK_SECRET_FILE": str(tmp_path / "secret"),
               "PULIH_ENV_FILE": str(tmp_path / "absent.env")}
        options = webhook_options(load_settings(environ=env))

        def update(update_id: int) -> dict[str, object]:
            return {"update_id": update_id, "message": {
                "message_id": update_id, "date": 0, "text": "/bantuan",
                "chat": {"id": 8101, "type": "private"},
                "from": {"id": 8101, "is_bot": False, "first_name": "Ahmad"},
                "entities": [{"type": "bot_command", "offset": 0, "length": 8}]}}

        async def scenario() -> list[int]:
            application = build_application(container, read_timeout=5)
            errors: list[BaseException] = []
            chat = application.bot_data.runtime
            assert isinstance(chat, ChatRuntime)
            chat.on_error.append(errors.append)
            await application.initialize()
            assert application.updater is not None and application.post_init is not None
            await application.post_init(application)
            await application.updater.start_webhook(**options)
            await application.start()
            try:
                codes = [await asyncio.to_thread(post, port, update(1), None),
                         await asyncio.to_thread(post, port, update(2), "salah-salah-salah"),
                         await asyncio.to_thread(post, port, update(3), SECRET)]
                await until(fake, has_messages(fake, 8101, 1))
                await asyncio.sleep(0.5)
            finally:
                await application.updater.stop()
                await application.stop()
                await application.shutdown()
            assert errors == []
            return codes

        codes = asyncio.run(scenario())
        container.close()
    assert codes == [403, 403, 200]
    assert fake.webhook["url"] == "https://pulih.kukarkab.go.id/telegram"
    assert fake.webhook["secret_token"] == SECRET
    replies = fake.chat(8101).texts()
    assert len(replies) == 1 and "/antrian" in replies[0]
