"""Text templates for what people read (CLI output now, chat messages later)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import PackageLoader, StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from letters import timefmt

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def plain(value: object) -> str:
    """Text with control characters removed, so a reason cannot drive a terminal."""
    return _CONTROL.sub("", str(value))


@cache
def _environment(zone_key: str) -> ImmutableSandboxedEnvironment:
    # Sandboxed like the documents' templates: a template reads what it is given, nothing
    # more, should one ever come from outside the package.
    env = ImmutableSandboxedEnvironment(
        loader=PackageLoader("bot", "templates"),
        # Plain text for terminals, not HTML: values pass through `plain` instead.
        autoescape=False,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=lambda v: plain(v) if isinstance(v, str) else ("" if v is None else v),
    )
    zone = ZoneInfo(zone_key)
    env.filters["waktu"] = lambda m: timefmt.waktu(m, zone) if isinstance(m, datetime) else "-"
    env.filters["tanggal"] = lambda d: timefmt.tanggal(d) if isinstance(d, date) else "-"
    env.filters["durasi"] = lambda s: timefmt.durasi(s) if isinstance(s, timedelta) else "-"
    env.filters["ukuran"] = lambda n: timefmt.ukuran(int(n))
    return env


@cache
def _phrases(zone_key: str) -> Any:
    return _environment(zone_key).get_template("chat/phrases.txt.j2").make_module()


def render_phrase(name: str, zone: ZoneInfo, **values: Any) -> str:
    """One of the chat's short replies (`bot/templates/chat/phrases.txt.j2`), by name."""
    return str(getattr(_phrases(zone.key), name)(**values)).strip()


def render_text(template: str, zone: ZoneInfo, **values: Any) -> str:
    """Render `bot/templates/<template>` with Indonesian date and time filters."""
    return _environment(zone.key).get_template(template).render(**values)
