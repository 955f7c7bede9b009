"""Log lines never carry secrets: a filter that masks them wherever they appear (the bot
token is part of every Bot API URL, which HTTP libraries like to log)."""

from __future__ import annotations

import logging
from collections.abc import Iterable


class RedactSecrets(logging.Filter):
    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s and len(s) >= 8]

    def mask(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        cleaned = self.mask(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        # A traceback is text too (an exception's message may quote a URL with the
        # token): formatted here, masked, and kept where handlers look for it first.
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.mask(record.exc_text)
        if record.stack_info:
            record.stack_info = self.mask(record.stack_info)
        return True


def install(secrets: Iterable[str]) -> None:
    """Mask `secrets` in every record that reaches the root logger's handlers, and keep
    chatty libraries at WARNING."""
    redactor = RedactSecrets(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redactor)
    for noisy in ("httpx", "httpcore", "apscheduler", "telegram.ext.Updater",
                  "telegram.ext.Application"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
