"""`pulih requests list` and `show`: what an admin reads at the terminal."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest

from bot.bootstrap import Container
from bot.cli import main
from bot.services.requests.records import NewRequest, Scope, apply_action, submit_request
from bot.workflow.rules import Actor
from bot.workflow.sop import Action
from tests.support.clock import WITA, running, ticket, wita
from tests.support.office import NOW


def run(container: Container, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    env_file = Path(str(container.settings.data_dir)).parent / "cli.env"
    env_file.write_text(f"PULIH_DATABASE_URL={container.settings.database_url}\n")
    code = main(["--env-file", str(env_file), *args], out=out, err=err, clock=running())
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """The output does not depend on the database kind: SQLite only here."""
    return f"sqlite:///{tmp_path / 'pulih.sqlite3'}"


@pytest.fixture
def walked(container: Container, actors: dict[str, Actor],
           monkeypatch: pytest.MonkeyPatch) -> str:
    for key in ("PULIH_DATABASE_URL", "PULIH_DATA_DIR", "PULIH_INVENTORY"):
        monkeypatch.delenv(key, raising=False)
    zone = container.settings.timezone
    with container.unit_of_work() as session:
        request = submit_request(session, actors["requester"], NewRequest(
            "portal-pendidikan", Scope.BOTH, "Tabel siswa hilang\x1b[31m merah \u202eterbalik",
            impact="PPDB terhenti"), NOW, WITA)
        ticket = request.ticket
        apply_action(session, request.id, actors["kadis"], Action.DISPOSE,
                     NOW + timedelta(minutes=45), zone, target_id=actors["kabid_a"].person_id)
    return ticket


@pytest.mark.dates
def test_show_prints_the_timeline_with_each_step_against_its_mutu_baku(
        container: Container, walked: str) -> None:
    code, out, err = run(container, "requests", "show", walked)
    assert (code, err) == (0, "")
    assert f"Permohonan {walked}" in out
    assert "Status     : Didisposisikan ke Kepala Bidang" in out
    assert "Lingkup    : Database dan file aplikasi" in out
    assert f"Diajukan   : {wita(NOW)}" in out
    step2 = next(line for line in out.splitlines() if line.strip().startswith("2. "))
    assert "45 menit" in step2 and "30 menit" in step2 and "melebihi" in step2
    step3 = next(line for line in out.splitlines() if line.strip().startswith("3. "))
    assert "berjalan" in step3 and "10 menit" in step3
    assert "Ahmad Rizali (Kepala Dinas): mendisposisikan ke Kepala Bidang" in out
    # control characters from the reason never reach the terminal
    assert "\x1b" not in out and "\u202e" not in out
    assert "Tabel siswa hilang[31m merah terbalik" in out


@pytest.mark.dates
def test_list_shows_each_request_with_its_deadline(container: Container, walked: str) -> None:
    code, out, _ = run(container, "requests", "list")
    assert code == 0
    row = next(line for line in out.splitlines() if line.startswith(walked))
    assert "disposed_to_kabid" in row and wita(NOW + timedelta(minutes=55)) in row
    code, out, _ = run(container, "requests", "list", "--state", "submitted")
    assert code == 0 and out.strip() == "Tidak ada permohonan."


def test_an_unknown_request_is_a_clear_message(container: Container, walked: str) -> None:
    code, out, err = run(container, "requests", "show", ticket(99999))
    assert (code, out) == (1, "")
    assert err.strip() == f"Permohonan {ticket(99999)} tidak ditemukan."
