"""The daily anchor: the activity record's head, posted to the team group once a day, so
a rewrite of the record (even by someone holding its key) shows against a copy kept in
Telegram's history."""

from __future__ import annotations

from bot.bootstrap import Container
from bot.render import render_text
from bot.services.audit import chain as audit
from bot.services.outbox.queue import enqueue


def post_daily_anchor(c: Container) -> bool:
    """Queue today's anchor for the team group (once a day, however often it is asked);
    True if it was queued now."""
    now, zone = c.clock(), c.settings.timezone
    with c.unit_of_work() as session:
        audit.ensure_chain_key(session)
        seq, digest = audit.head_anchor(session)
        text = render_text("chat/audit_anchor.txt.j2", zone, seq=seq, hash=digest, now=now)
        return enqueue(session, key=f"anchor:{now.astimezone(zone).date().isoformat()}",
                       chat_id=c.office.team_chat_id, kind="anchor", text=text, now=now)
