"""Secrets never reach a log line, whichever library writes it."""

from __future__ import annotations

import io
import logging

from bot.logsafe import RedactSecrets

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"


def test_the_token_is_masked_in_messages_and_arguments() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecrets([TOKEN, ""]))
    log = logging.getLogger("uji.logsafe")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        log.info("HTTP Request: POST http://127.0.0.1/bot%s/getMe", TOKEN)
        log.info(f"langsung {TOKEN} di pesan")
        log.info("tanpa rahasia %d", 42)
    finally:
        log.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert lines == ["HTTP Request: POST http://127.0.0.1/bot***/getMe",
                     "langsung *** di pesan", "tanpa rahasia 42"]


def test_the_token_is_masked_in_a_traceback_too() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecrets([TOKEN]))
    log = logging.getLogger("uji.logsafe.traceback")
    log.addHandler(handler)
    try:
        try:
            raise ConnectionError(f"POST https://api.telegram.org/bot{TOKEN}/getMe ditolak")
        except ConnectionError:
            log.exception("bot tidak dapat mulai")
    finally:
        log.removeHandler(handler)
    written = stream.getvalue()
    assert "Traceback" in written and "bot***/getMe ditolak" in written
    assert TOKEN not in written
