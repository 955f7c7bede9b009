"""Time in UTC for storage, WITA (or the configured zone) and Indonesian words for people.
It lives with the documents, whose language of dates it is, so that the core, the restore
engine and the documents share it without the engine or the documents depending on the
core."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
          "September", "Oktober", "November", "Desember")
ROMAN_MONTHS = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")
_ZONE_ABBREVIATIONS = {"Asia/Makassar": "WITA", "Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB",
                       "Asia/Jayapura": "WIT"}


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """`moment` as aware UTC; a naive value is taken to be UTC already (as stored)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def zone_label(zone: ZoneInfo) -> str:
    """WITA for Asia/Makassar, and so on; the IANA name otherwise."""
    return _ZONE_ABBREVIATIONS.get(zone.key, zone.key)


def local_date(moment: datetime, zone: ZoneInfo) -> date:
    """The calendar date of `moment` in `zone`."""
    return as_utc(moment).astimezone(zone).date()


def tanggal(day: date) -> str:
    """An Indonesian date, e.g. '23 Juni 2025' (no leading zero)."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def waktu(moment: datetime, zone: ZoneInfo) -> str:
    """Date and time in `zone`, e.g. '23 Juni 2025 14.05 WITA'."""
    local = as_utc(moment).astimezone(zone)
    return f"{tanggal(local.date())} {local:%H.%M} {zone_label(zone)}"


def durasi(span: timedelta) -> str:
    """A duration in Indonesian words, e.g. '1 hari 2 jam 5 menit' or '45 detik'."""
    seconds = int(abs(span.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{n} {unit}" for n, unit in ((days, "hari"), (hours, "jam"), (minutes, "menit")) if n]
    if not parts:
        parts = [f"{secs} detik"]
    return ("-" if span.total_seconds() < 0 else "") + " ".join(parts)


def ukuran(size: int) -> str:
    """A byte count for people, Indonesian style: '1,5 GiB', '820 KiB', '12 bita'."""
    value = float(size)
    for unit in ("bita", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            text = f"{value:.0f}" if unit == "bita" or value >= 100 else f"{value:.1f}"
            return f"{text.replace('.', ',')} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


_ONES = ("", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan")


def terbilang(n: int) -> str:
    """0-999 in Indonesian words, as letters spell a number out: 15 -> 'lima belas'."""
    if not 0 <= n < 1000:
        raise ValueError(n)
    if n == 0:
        return "nol"
    if n < 10:
        return _ONES[n]
    if n == 10:
        return "sepuluh"
    if n == 11:
        return "sebelas"
    if n < 20:
        return f"{_ONES[n - 10]} belas"
    if n < 100:
        tens, ones = divmod(n, 10)
        return f"{_ONES[tens]} puluh" + (f" {_ONES[ones]}" if ones else "")
    hundreds, rest = divmod(n, 100)
    head = "seratus" if hundreds == 1 else f"{_ONES[hundreds]} ratus"
    return head + (f" {terbilang(rest)}" if rest else "")


def tenggat(span: timedelta) -> str:
    """A period as a letter states it: '15 (lima belas) menit', '1 (satu) hari'."""
    minutes = int(span.total_seconds()) // 60
    for size, unit in ((1440, "hari"), (60, "jam"), (1, "menit")):
        if minutes % size == 0 and minutes // size < 1000:
            count = minutes // size
            return f"{count} ({terbilang(count)}) {unit}"
    raise ValueError(span)
