"""Documents of the office that belong to no single request (an incident's summary, a
drill's report, the monthly report): numbered in the office's register like a report,
laid out on the office's stationery with a fresh verification code and the activity
record's anchor."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.bootstrap import Container
from bot.services.documents.letters import authenticity
from bot.services.documents.numbering import allocate_number
from bot.services.documents.registry import new_code
from letters.facts import Issue, Official
from letters.render import Sender


def office_number(c: Container, kind: str, now: datetime) -> str:
    """The next number of the office's register, written as its reports' numbers are."""
    letters = c.office.stationery.letters
    return allocate_number(c.sessions, kind=kind, pattern=letters.numbering["laporan"],
                           unit=letters.unit_code, classification=letters.classification,
                           security=letters.security_code, now=now,
                           zone=c.settings.timezone).number


def lay_out(c: Container, render: Callable[..., bytes], facts: Any, *, number: str | None,
            signer: Official, anchor: tuple[int, str], now: datetime) -> tuple[bytes, str]:
    """The PDF that `render` (one of letters.render's office renderers) makes of `facts`,
    and the verification code printed on it."""
    st = c.office.stationery
    code = new_code()
    seq, digest = anchor
    pdf = render(facts, issue=Issue(number, now, st.office.city, signer),
                 sender=Sender(st.letterhead, st.office.city), office=st.info, setup=st.setup,
                 authenticity=authenticity(c, code, anchor=f"#{seq}:{digest[:16]}"),
                 zone=c.settings.timezone, template_dir=st.letters.templates)
    return pdf, code
