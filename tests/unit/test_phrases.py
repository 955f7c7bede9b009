"""Every short reply the chat wing says is written in `chat/phrases.txt.j2`, by the name and
with the values the handler gives it: a reply renamed or reworded there cannot leave a
handler saying nothing (or failing) in front of a user."""

from __future__ import annotations

import ast
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.render import _phrases, render_phrase
from handlers.app import COMMANDS

WITA = ZoneInfo("Asia/Makassar")
HANDLERS = Path(__file__).resolve().parents[2] / "handlers"


def said() -> list[tuple[str, str, frozenset[str]]]:
    """(where, phrase, keyword names) of every say(context, "name", ...) and
    render_phrase("name", ...) in the handlers."""
    found = []
    for path in sorted(HANDLERS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue
            position = {"say": 1, "render_phrase": 0}.get(node.func.id)
            if position is None or len(node.args) <= position:
                continue
            name = node.args[position]
            if isinstance(name, ast.Constant) and isinstance(name.value, str):
                found.append((f"{path.name}:{node.lineno}", name.value,
                              frozenset(k.arg for k in node.keywords if k.arg)))
    return found


def test_the_handlers_say_their_replies_by_name() -> None:
    assert len(said()) > 40  # the scan finds them (not an empty pass)


@pytest.mark.parametrize(("where", "phrase", "keywords"), said())
def test_each_reply_exists_and_takes_the_values_given(where: str, phrase: str,
                                                      keywords: frozenset[str]) -> None:
    macro = getattr(_phrases(WITA.key), phrase, None)
    assert macro is not None, f"{where}: no macro {phrase!r} in chat/phrases.txt.j2"
    assert frozenset(macro.arguments) == keywords, where
    words = render_phrase(phrase, WITA, **{k: "X" for k in keywords})
    assert words and words == words.strip(), where


def test_the_bot_menu_describes_every_command_in_indonesian() -> None:
    assert [render_phrase(f"command_{name}", WITA) for name in COMMANDS] == [
        "Ajukan permohonan restore", "Lihat perjalanan sebuah permohonan",
        "Apa yang menunggu tindakan saya", "Petunjuk memakai Pulih"]
