"""The bot's Telegram username, kept where the core can read it (an e-mail says where to
open the bot); recorded by the running bot at each start."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.db.models import OfficeSetting

KEY = "bot_username"


def remember_username(session: Session, username: str) -> None:
    row = session.get(OfficeSetting, KEY)
    if row is None:
        session.add(OfficeSetting(key=KEY, value=username))
    elif row.value != username:
        row.value = username


def telegram_link(session: Session) -> str | None:
    """https://t.me/<bot>, once the bot has started at least once."""
    row = session.get(OfficeSetting, KEY)
    return f"https://t.me/{row.value}" if row is not None and row.value else None
