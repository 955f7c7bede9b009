"""Find the line of a table or key in TOML text, so problems can say where they are."""

from __future__ import annotations

import re

_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\]?\s*(#.*)?$")


class Locator:
    """Maps (table, index, key) to a line number in the file's text."""

    def __init__(self, text: str) -> None:
        self._lines = text.splitlines()
        # (name, index or None) -> (first line, last line), 1-based
        self._blocks: dict[tuple[str, int | None], tuple[int, int]] = {}
        counters: dict[str, int] = {}
        current: tuple[str, int | None] = ("", None)
        start = 1
        for number, line in enumerate(self._lines, start=1):
            match = _HEADER.match(line)
            if not match:
                continue
            self._blocks.setdefault(current, (start, number - 1))
            name = match.group(2).replace('"', "").replace("'", "").strip()
            if match.group(1) == "[[":
                index = counters.get(name, 0)
                counters[name] = index + 1
                current = (name, index)
            else:
                current = (name, None)
            start = number
        self._blocks.setdefault(current, (start, len(self._lines)))

    def line(self, table: str, index: int | None = None, key: str | None = None) -> int | None:
        """The line of `key` inside the table (or array element), else of its header."""
        block = self._blocks.get((table, index))
        if block is None:
            return None
        first, last = block
        if key is not None:
            key_re = re.compile(rf"^\s*{re.escape(key)}\s*=")
            for number in range(first, last + 1):
                if key_re.match(self._lines[number - 1]):
                    return number
        return first
