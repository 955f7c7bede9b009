"""What the running bot knows of its channels, kept where the core can read it: its
Telegram username (an e-mail says where to open the bot) and whether it sends e-mail (a
notice for someone without Telegram is queued as an e-mail only then, so that nothing
piles up for a channel no process serves). Recorded by the bot at each start."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.db.models import OfficeSetting

USERNAME, EMAIL = "bot_username", "email_channel"


def remember_channels(session: Session, username: str | None, email: bool) -> None:
    for key, value in ((USERNAME, username), (EMAIL, "ya" if email else "tidak")):
        if value is None:
            continue
        row = session.get(OfficeSetting, key)
        if row is None:
            session.add(OfficeSetting(key=key, value=value))
        elif row.value != value:
            row.value = value


def telegram_link(session: Session) -> str | None:
    """https://t.me/<bot>, once the bot has started at least once."""
    row = session.get(OfficeSetting, USERNAME)
    return f"https://t.me/{row.value}" if row is not None and row.value else None


def email_on(session: Session) -> bool:
    """Whether the bot, as it last started, sends e-mail."""
    row = session.get(OfficeSetting, EMAIL)
    return row is not None and row.value == "ya"
