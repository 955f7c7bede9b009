"""The team's incident board stays one readable message however many systems an incident
hit: past 30, the systems done or waiting are named on one line per state, and what is
running or failed keeps a line of its own."""

from __future__ import annotations

from types import SimpleNamespace
from zoneinfo import ZoneInfo

from bot.render import render_text
from bot.services.incidents.batch import Item
from bot.services.incidents.cards import Line
from bot.services.outbox.queue import MAX_TEXT
from bot.workflow.sop import State
from tests.support.clock import NOW

WITA = ZoneInfo("Asia/Makassar")
INCIDENT = SimpleNamespace(code=f"INS-{NOW.year}-007", title="Gangguan pusat data DC1",
                           opened_at=NOW, closed_at=None)


def line(n: int, state: State, status: str, label: str) -> Line:
    return Line(Item(n, 3, f"PLH-{NOW.year}-{n:05d}", f"sistem-{n:03d}", f"Sistem {n}",
                     f"Instansi {n % 9}", state, False, 7, 5), status, label)


def board(lines: list[Line]) -> str:
    counts = {s: sum(1 for ln in lines if ln.status == s) for s in
              ("queued", "checking", "restoring", "done", "failed", "waiting", "other")}
    return render_text("chat/incident_board.txt.j2", WITA, incident=INCIDENT, open=True,
                       lines=lines, counts=counts, ready=0, finish=None)


def test_a_board_of_200_systems_fits_one_message_and_names_every_one() -> None:
    lines = ([line(n, State.NOTIFIED, "done", "dipulihkan; surat terkirim")
              for n in range(1, 121)]
             + [line(n, State.SUBMITTED, "waiting", "menunggu disposisi Kepala Dinas")
                for n in range(121, 191)]
             + [line(n, State.RESTORING, "restoring", "memulihkan") for n in range(191, 195)]
             + [line(n, State.RESTORE_FAILED, "failed", "gagal: disk penuh")
                for n in range(195, 201)])
    text = board(lines)
    assert len(text) <= MAX_TEXT
    assert all(f"sistem-{n:03d}" in text for n in range(1, 201))
    assert text.count("gagal: disk penuh") == 6  # each failure on a line of its own
    assert "[tunggu] menunggu disposisi Kepala Dinas: sistem-121, sistem-122" in text
    assert "Selesai 120, gagal 6, berjalan 4" in text


def test_a_small_board_gives_every_system_its_own_line() -> None:
    lines = [line(n, State.NOTIFIED, "done", "selesai") for n in range(1, 13)]
    text = board(lines)
    assert text.count("[selesai]") == 12 and f"PLH-{NOW.year}-00012" in text
