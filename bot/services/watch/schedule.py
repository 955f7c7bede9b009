"""When the morning watch is due: past the office's watch time, and no watch of the
schedule finished today. A watch cut off (the bot stopped, a crash) is therefore run again,
however late in the day the bot comes back; one that keeps failing stops being retried
after a few attempts that day (the logs say why)."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db.models import WatchRun

ATTEMPTS_A_DAY = 3


def due(session: Session, now: datetime, zone: ZoneInfo, at: time) -> bool:
    local = now.astimezone(zone)
    if local.time() < at:
        return False
    finished, started = session.execute(
        select(func.count(WatchRun.finished_at), func.count(WatchRun.id))
        .where(WatchRun.trigger == "jadwal", WatchRun.day == local.date())).one()
    return finished == 0 and started < ATTEMPTS_A_DAY
