"""The command line speaks Indonesian, and each mistake a newcomer makes gets one line
that names the fix (and changes nothing)."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import pytest

from bot.cli import _parser, main
from bot.cli.usage import Parser
from bot.settings import load_settings
from tests.support.office import NIPS, write_inventory

ENGLISH = ("usage:", "show this help", "positional arguments", "options:", "error:",
           "required:", "invalid choice", "unrecognized", "expected one argument")


def run(*args: str, env: Path | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    head = ["--env-file", str(env)] if env is not None else []
    try:
        code = main([*head, *args], out=out, err=err)
    except SystemExit as stop:  # argparse ends the process on bad usage and --help
        code = int(stop.code or 0)
    return code, out.getvalue(), err.getvalue()


def every_parser(parser: argparse.ArgumentParser, path: str = "pulih"
                 ) -> list[tuple[str, argparse.ArgumentParser]]:
    found = [(path, parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += every_parser(sub, f"{path} {name}")
    return found


def test_every_command_has_a_one_line_indonesian_description_in_its_help() -> None:
    parsers = every_parser(_parser())
    assert len(parsers) > 30
    for path, parser in parsers:
        assert isinstance(parser, Parser), path
        text = parser.format_help()
        assert parser.description and "\n" not in parser.description, path
        assert parser.description in " ".join(text.split()), path
        assert text.startswith("pemakaian: "), path
        assert not [w for w in ENGLISH if w in text], (path, text)


def test_the_version_is_printed(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    printed = capsys.readouterr().out.strip()
    assert printed.startswith("pulih ") and printed.split()[1][0].isdigit()


@pytest.mark.parametrize(("argv", "said"), [
    (["frob"], "pulih: PERINTAH: pilihan 'frob' tidak dikenal; pilihan yang ada: 'init'"),
    (["restore", "simpeg"], "pulih restore: argumen wajib belum diisi: TITIK, --nip"),
    (["rollback", "satu", "--nip", NIPS["tim_exec"], "--reason", "x"],
     "pulih rollback: NOMOR: 'satu' bukan bilangan bulat"),
    (["requests", "list", "--bogus"], "pulih: argumen tidak dikenal: --bogus"),
    (["restore", "simpeg", "titik", "--nip", "19850312201001100"],
     "pulih restore: --nip: NIP 19850312201001100 ada 17 digit; NIP ASN 18 digit"),
    (["people", "invite", "1985O312201001100"],
     "pulih people invite: NIP: NIP '1985O312201001100' harus berupa angka (18 digit)"),
])
def test_bad_usage_is_told_in_indonesian_with_where_to_find_help(
        argv: list[str], said: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert said in err, err
    assert err.startswith("pemakaian: pulih") and "Bantuan: pulih" in err
    assert not [w for w in ENGLISH if w in err], err


def test_a_misspelled_env_key_is_refused_with_the_setting_it_probably_meant(
        tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("PULIH_BOT_TOKN=123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ\n", encoding="utf-8")
    code, out, err = run("requests", "list", env=env)
    assert code == 1 and out == ""
    assert err == f"{env}: PULIH_BOT_TOKN bukan pengaturan Pulih; maksudnya PULIH_BOT_TOKEN?\n"
    env.write_text("SESUATU=1\n", encoding="utf-8")
    assert run("requests", "list", env=env)[2] == (
        f"{env}: SESUATU bukan pengaturan Pulih; daftar pengaturan ada di .env.example\n")


def test_a_sqlite_database_in_a_missing_folder_is_refused_and_nothing_is_created(
        tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text(f"PULIH_DATABASE_URL=sqlite:///{tmp_path}/slah/pulih.sqlite3\n"
                   f"PULIH_DATA_DIR={tmp_path}/data\n", encoding="utf-8")
    code, out, err = run("requests", "list", env=env)
    assert code == 1 and out == ""
    assert err == (f"PULIH_DATABASE_URL: folder {tmp_path}/slah tidak ada, jadi basis data di "
                   "sana belum pernah dibuat; periksa path-nya, atau buat baru dengan: "
                   "pulih init\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".env"]


def test_a_postgres_url_without_a_driver_name_uses_psycopg() -> None:
    settings = load_settings(environ={"PULIH_DATABASE_URL": "postgres://pulih@db/pulih"},
                             env_file=Path("/nonexistent.env"))
    assert settings.database_url == "postgresql+psycopg://pulih@db/pulih"


def test_a_system_in_the_inventory_file_but_not_yet_synced_names_the_sync_command(
        tmp_path: Path) -> None:
    inventory = write_inventory(tmp_path / "office")
    env = tmp_path / ".env"
    env.write_text(f"PULIH_DATA_DIR={tmp_path}/data\nPULIH_INVENTORY={inventory}\n",
                   encoding="utf-8")
    (tmp_path / "data").mkdir()
    assert run("db", "upgrade", env=env)[0] == 0
    code, out, err = run("backups", "list", "simpeg", env=env)
    assert code == 1 and out == ""
    assert err == (f"Sistem 'simpeg' ada di {inventory} tetapi belum dimuat ke basis data; "
                   "muat dulu: pulih inventory sync\n")
    code, _, err = run("backups", "list", "tidakada", env=env)
    assert code == 1 and err == "Sistem 'tidakada' tidak terdaftar di inventaris.\n"


def test_a_seventeen_digit_nip_in_the_inventory_is_named_with_its_line(tmp_path: Path) -> None:
    inventory = write_inventory(tmp_path / "office")
    text = inventory.read_text(encoding="utf-8")
    short = NIPS["tim_exec"][:-1]
    inventory.write_text(text.replace(f'nip = "{NIPS["tim_exec"]}"', f'nip = "{short}"', 1),
                         encoding="utf-8")
    line = next(n for n, row in enumerate(inventory.read_text().splitlines(), 1)
                if short in row)
    code, _, err = run("inventory", "check", "--file", str(inventory),
                       env=tmp_path / "absent.env")
    assert code == 1
    assert f"{inventory}:{line}: " in err and f"{short!r} tidak sah; seharusnya NIP: 18 digit " \
        "angka" in err, err
