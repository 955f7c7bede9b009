"""`pulih run`: the bot itself."""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import signal
from typing import TextIO

from telegram import Bot
from telegram.error import InvalidToken, NetworkError, TimedOut

from bot.bootstrap import Container
from bot.inventory.exposure import exposed_files
from bot.inventory.loader import load_inventory
from handlers.app import build_application, webhook_options

log = logging.getLogger("pulih")


def chat_commands(args: argparse.Namespace, c: Container, out: TextIO, err: TextIO) -> int:
    return _run(c, out, err)


# Pauses between attempts to reach a Bot API that does not answer, in seconds.
RETRY_PAUSES = (5, 10, 30, 60, 120, 300)


def _run(c: Container, out: TextIO, err: TextIO) -> int:
    if c.settings.inventory_path.is_file():
        for warning in exposed_files(load_inventory(c.settings.inventory_path)):
            print(warning, file=err, flush=True)
    try:
        if not asyncio.run(_reach_bot_api(c, err)):
            return 1
        return _serve(c, out)
    except KeyboardInterrupt:
        print("Pulih dihentikan.", file=out, flush=True)
        return 0


async def _reach_bot_api(c: Container, err: TextIO) -> bool:
    """Ask the Bot API who the bot is before serving: a rejected token ends the command
    with one line (False); a Bot API that cannot be reached is retried with growing
    pauses, one line each time, until it answers. Ctrl+C ends the waiting wherever it
    lands (KeyboardInterrupt), a request under way included: it is watched here rather
    than left to the cancellation of whatever the loop was awaiting at that moment."""
    loop = asyncio.get_running_loop()
    asked = asyncio.Event()
    loop.add_signal_handler(signal.SIGINT, asked.set)
    trying = asyncio.ensure_future(_ask_until_answered(c, err, asked))
    stopping = asyncio.ensure_future(asked.wait())
    try:
        await asyncio.wait({trying, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        loop.remove_signal_handler(signal.SIGINT)
        stopping.cancel()
    if asked.is_set():
        trying.cancel()
        await asyncio.wait({trying}, timeout=5)
        raise KeyboardInterrupt
    return trying.result()


async def _ask_until_answered(c: Container, err: TextIO, asked: asyncio.Event) -> bool:
    token = c.settings.require_bot_token()
    server = c.settings.bot_api_url.rsplit("/", 1)[0]
    for attempt in itertools.count():
        if asked.is_set():
            return False
        try:
            async with Bot(token, base_url=c.settings.bot_api_url,
                           base_file_url=c.settings.bot_file_url) as bot:
                await bot.get_me()
            return True
        except InvalidToken:
            print(f"Token bot ditolak oleh Bot API di {server}: periksa PULIH_BOT_TOKEN "
                  "(token dari BotFather untuk bot ini).", file=err, flush=True)
            return False
        except (NetworkError, TimedOut) as exc:
            pause = RETRY_PAUSES[min(attempt, len(RETRY_PAUSES) - 1)]
            print(f"Bot API di {server} tidak dapat dihubungi ({type(exc).__name__}); "
                  f"mencoba lagi dalam {pause} detik.", file=err, flush=True)
            await asyncio.sleep(pause)
    return False  # pragma: no cover - the loop above returns


def _serve(c: Container, out: TextIO) -> int:
    application = build_application(c)
    if c.settings.webhook_url:
        options = webhook_options(c.settings)
        print(f"Pulih berjalan (webhook {c.settings.webhook_url}, mendengar di "
              f"{options['listen']}:{options['port']}/{options['url_path']}); hentikan dengan "
              "Ctrl+C.", file=out, flush=True)
        application.run_webhook(**options, bootstrap_retries=-1)
        return 0
    print(f"Pulih berjalan (long polling ke {c.settings.bot_api_url.rsplit('/', 1)[0]}); "
          "hentikan dengan Ctrl+C.", file=out, flush=True)
    # Network failures while starting (bootstrap_retries=-1) and while polling are
    # retried without end: a data-centre outage must not need a person to restart Pulih.
    application.run_polling(allowed_updates=["message", "callback_query"],
                            drop_pending_updates=False, bootstrap_retries=-1)
    return 0
