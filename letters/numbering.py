"""Letter numbers from the office's patterns (Tata Naskah Dinas style), e.g.
`B-441/Diskominfo/000.6/06/2025`: security code, sequence in the year, unit code,
archive classification (KKA), month, year."""

from __future__ import annotations

import string
from dataclasses import dataclass

from letters.timefmt import ROMAN_MONTHS

FIELDS = frozenset({"security", "seq", "unit", "classification", "month", "month_roman",
                    "year"})


@dataclass(frozen=True)
class NumberParts:
    seq: int
    unit: str
    classification: str
    security: str
    month: int
    year: int


def format_number(pattern: str, parts: NumberParts) -> str:
    """Fill `pattern` ({seq}, {unit}, {classification}, {security}, {month:02d},
    {month_roman}, {year}); ValueError for a pattern with other fields or without {seq}."""
    fields = {f for _, f, _, _ in string.Formatter().parse(pattern) if f is not None}
    if "seq" not in fields or not fields <= FIELDS:
        raise ValueError(f"pola nomor {pattern!r} tidak sah")
    return pattern.format(seq=parts.seq, unit=parts.unit, classification=parts.classification,
                          security=parts.security, month=parts.month,
                          month_roman=ROMAN_MONTHS[parts.month - 1], year=parts.year)
