"""The page's HTML, from `bot/templates/web/` with autoescaping: every value a template
prints is escaped, whatever a database row holds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from jinja2 import PackageLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import ImmutableSandboxedEnvironment
from starlette.responses import HTMLResponse

from bot.bootstrap import Container
from bot.services.documents.letters import MAX_UPLOAD
from letters import timefmt


class Pages:
    def __init__(self, c: Container) -> None:
        self._c = c
        env = ImmutableSandboxedEnvironment(
            loader=PackageLoader("bot", "templates/web"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
        zone = c.settings.timezone
        env.filters["waktu"] = lambda m: timefmt.waktu(m, zone) \
            if isinstance(m, datetime) else "-"
        env.filters["tanggal"] = lambda m: timefmt.tanggal(
            timefmt.as_utc(m).astimezone(zone).date()) if isinstance(m, datetime) else "-"
        env.filters["ukuran"] = lambda n: timefmt.ukuran(int(n))
        self._env = env

    def answer(self, template: str, status: int, headers: dict[str, str] | None = None,
               **values: Any) -> HTMLResponse:
        """The page `template` as an answer with `status`."""
        st = self._c.office.stationery
        html = self._env.get_template(template).render(
            government=st.office.government, office=st.office.name,
            upload_limit=MAX_UPLOAD, **values)
        return HTMLResponse(html, status_code=status, headers=headers)
