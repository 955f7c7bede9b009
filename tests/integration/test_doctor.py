"""`pulih doctor` against a lab: real sshd servers, the local Bot API stand-in, a SQLite
office. Each thing wrong is one line, and nothing right is flagged."""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import main
from bot.db.migrate import head_revision
from bot.demo.lab.loopback import free_port
from bot.demo.lab.sshd import SshServer
from bot.demo.standin import TOKEN, FakeTelegram
from bot.services.office.setup import make_ssh_key
from tests.support.office import inventory_text

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def standin() -> Iterator[FakeTelegram]:
    api = FakeTelegram()
    api.start()
    try:
        yield api
    finally:
        api.stop()


@pytest.fixture
def private_files() -> Iterator[None]:
    """What `pulih` makes is its user's only (the installed program sets this umask)."""
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)



def change_system(text: str, code: str, old: str, new: str) -> str:
    """The inventory text with `old` replaced by `new` in the `[[systems]]` table of `code`."""
    blocks = text.split("[[systems]]")
    index = next(i for i, b in enumerate(blocks) if f'code = "{code}"' in b)
    assert old in blocks[index], (code, old)
    blocks[index] = blocks[index].replace(old, new)
    return "[[systems]]".join(blocks)


def doctor(env: Path) -> tuple[int, list[str]]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["--env-file", str(env), "doctor"], out=out, err=err)
    assert err.getvalue() == ""
    return code, out.getvalue().splitlines()


def test_doctor_names_the_unreachable_system_the_changed_host_key_and_the_open_key_only(
        tmp_path: Path, backup_server: SshServer, target_server: SshServer,
        standin: FakeTelegram, private_files: None) -> None:
    office = tmp_path / "office"
    office.mkdir()
    open_key = office / "simpeg_ed25519"
    shutil.copyfile(target_server.user_key, open_key)
    wrong_known = office / "portal_known_hosts"
    # The portal's recorded key is another server's: as if the VPS had been replaced.
    wrong_known.write_text(f"[127.0.0.1]:{target_server.port} {backup_server.host_public}\n")
    text = inventory_text(
        backup_server.user_key, backup_server.known_hosts, backup_port=backup_server.port,
        target_port=target_server.port, target_key=target_server.user_key,
        target_known=target_server.known_hosts, web_app_dir=str(tmp_path / "www"),
        portal_extra='db_host = "127.0.0.1"')
    text = change_system(text, "simpeg", f'key = "{target_server.user_key}"',
                         f'key = "{open_key}"')
    text = change_system(text, "portal-pendidikan", f'"{target_server.known_hosts}"',
                         f'"{wrong_known}"')
    text = change_system(text, "web-kominfo", f"port = {target_server.port}",
                         f"port = {free_port()}")
    inventory = office / "inventory.toml"
    inventory.write_text(text, encoding="utf-8")
    env = tmp_path / "pulih.env"
    env.write_text(f"PULIH_DATA_DIR={tmp_path / 'data'}\nPULIH_INVENTORY={inventory}\n"
                   f"PULIH_BOT_TOKEN={TOKEN}\nPULIH_BOT_API_URL={standin.url}/bot\n"
                   f"PULIH_BOT_FILE_URL={standin.url}/file/bot\n", encoding="utf-8")
    assert main(["--env-file", str(env), "init"], out=io.StringIO()) == 0
    open_key.chmod(0o644)

    code, lines = doctor(env)

    flagged = [line for line in lines if not line.startswith("OK ")]
    assert code == 2, lines
    assert len(flagged) == 3, lines
    assert f"FAIL kunci SSH: {open_key} dapat dibaca pengguna lain; perbaiki: chmod 600 " \
           f"{open_key}" in flagged
    assert any(line.startswith("FAIL sistem portal-pendidikan: Kunci host portal-pendidikan "
                               f"(127.0.0.1:{target_server.port}) BERBEDA dari yang "
                               "tercatat") for line in flagged), flagged
    assert any(line.startswith("FAIL sistem web-kominfo: Server web-kominfo (127.0.0.1:")
               and "tidak dapat dihubungi: sambungan ditolak (tidak ada layanan SSH di port itu)"
               in line for line in flagged), flagged
    # What is right is said to be right, one line each.
    for expected in ("OK   basis data: sqlite, skema revisi", "OK   sinkron:",
                     "OK   server backup backup-dc: 127.0.0.1:", "OK   sistem simpeg:",
                     "OK   Bot API: token diterima: @pulih_uji_bot", "OK   ruang disk:",
                     "OK   folder data:", "OK   inventaris:"):
        assert sum(line.startswith(expected) for line in lines) == 1, (expected, lines)

    # Put right, nothing is flagged and the exit code says so.
    open_key.chmod(0o600)
    shutil.copyfile(target_server.known_hosts, wrong_known)
    code, lines = doctor(env)
    assert [line for line in lines if not line.startswith("OK ")] == \
        [line for line in lines if "web-kominfo" in line]
    assert code == 2


def test_doctor_without_a_token_or_an_upgraded_database_says_what_to_run(
        tmp_path: Path, private_files: None) -> None:
    env = tmp_path / "pulih.env"
    env.write_text(f"PULIH_DATA_DIR={tmp_path / 'data'}\n"
                   f"PULIH_INVENTORY={tmp_path / 'inventory.toml'}\n", encoding="utf-8")
    (tmp_path / "data").mkdir()
    code, lines = doctor(env)
    assert code == 2
    assert f"FAIL basis data: skema pada revisi (kosong), terbaru {head_revision()}; jalankan: " \
           "pulih db upgrade" in lines
    assert any(line.startswith("FAIL inventaris:") for line in lines), lines
    assert "WARN Bot API: PULIH_BOT_TOKEN belum diisi (wajib untuk pulih run)" in lines


def test_doctor_says_whether_a_target_that_pulls_its_backups_can_and_may_only_read_them(
        tmp_path: Path, backup_server: SshServer, target_server: SshServer,
        standin: FakeTelegram, private_files: None) -> None:
    """SIMPEG's VPS fetches its backups itself with three keys in turn: one the backup
    server restricts to pulih-baca-backup (ready), one it does not know (the VPS cannot
    log in), and one it lets run anything (refused: the key must be restricted)."""
    office = tmp_path / "office"
    office.mkdir()
    keys = {kind: office / f"tarik_{kind}" for kind in ("terbatas", "asing", "bebas")}
    backup_server.allow_pull(keys["terbatas"], tmp_path / "srv" / "simpeg",
                             REPO / "deploy" / "pulih-baca-backup")
    for kind in ("asing", "bebas"):
        make_ssh_key(keys[kind], f"pulih-tarik-{kind}")
    with (backup_server.folder / "authorized_keys").open("a") as authorized:
        authorized.write(keys["bebas"].with_name("tarik_bebas.pub").read_text())
    (tmp_path / "srv" / "simpeg").mkdir(parents=True)
    base = inventory_text(
        backup_server.user_key, backup_server.known_hosts, backup_port=backup_server.port,
        target_port=target_server.port, target_key=target_server.user_key,
        target_known=target_server.known_hosts, web_app_dir=str(tmp_path / "www"),
        portal_extra='db_host = "127.0.0.1"')
    inventory = office / "inventory.toml"
    env = tmp_path / "pulih.env"
    env.write_text(f"PULIH_DATA_DIR={tmp_path / 'data'}\nPULIH_INVENTORY={inventory}\n"
                   f"PULIH_BOT_TOKEN={TOKEN}\nPULIH_BOT_API_URL={standin.url}/bot\n"
                   f"PULIH_BOT_FILE_URL={standin.url}/file/bot\n", encoding="utf-8")

    def pulls_with(kind: str) -> list[str]:
        inventory.write_text(change_system(
            base, "simpeg", 'code = "simpeg"',
            f'code = "simpeg"\npull_key = "{keys[kind]}"\n'
            f'pull_known_hosts = "{backup_server.known_hosts}"'), encoding="utf-8")
        _, lines = doctor(env)
        return [line for line in lines if "tarik simpeg" in line]

    assert main(["--env-file", str(env), "init"], out=io.StringIO()) == 0
    assert pulls_with("terbatas") == [
        f"OK   tarik simpeg: simpeg menarik backup dari 127.0.0.1:{backup_server.port}: "
        "kunci diterima, kunci host cocok, hanya pulih-baca-backup yang dijalankan"]
    [unknown] = pulls_with("asing")
    assert unknown.startswith(f"FAIL tarik simpeg: simpeg tidak dapat masuk ke 127.0.0.1:"
                              f"{backup_server.port} dengan kunci tariknya: "), unknown
    assert "Permission denied" in unknown
    [open_key] = pulls_with("bebas")
    assert open_key.startswith("FAIL tarik simpeg: kunci tarik simpeg di 127.0.0.1 tidak "
                               "dibatasi pada pulih-baca-backup"), open_key
