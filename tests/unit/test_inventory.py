"""`pulih inventory check`: the example passes; each broken inventory gets one clear line."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.errors import ConfigError
from bot.examples import example as example_file
from bot.inventory.loader import load_inventory
from bot.services.office.setup import prepare
from bot.workflow.sop import Role
from restore.safety import confined, url
from tests.support.clock import NOW
from tests.support.office import write_inventory

ROOT = Path(__file__).parents[2]


def check(path: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["--env-file", str(path.parent / "absent.env"), "inventory", "check",
                 "--file", str(path)], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """The shipped example next to the data folder that `pulih init` prepares."""
    target = tmp_path / "inventory.toml"
    prepare(tmp_path / "data", target, example_file("inventory.example.toml"))
    return target


def test_the_shipped_example_is_accepted(example: Path) -> None:
    code, out, err = check(example)
    assert (code, err) == (0, "")
    assert "3 OPD" in out and "3 sistem" in out
    inventory = load_inventory(example)
    assert {s.recipe for s in inventory.systems} == {"mariadb", "postgresql", "files"}
    assert inventory.office.name == "Dinas Komunikasi dan Informatika"
    assert {Role.KADIS, Role.KABID, Role.TIM, Role.OPD} <= {
        r for p in inventory.people for r in p.roles}


def _broken(tmp_path: Path, old: str, new: str, count: int = 1) -> Path:
    path = write_inventory(tmp_path / "office")
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, count), encoding="utf-8")
    return path


def _line_of(path: Path, fragment: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if fragment in line:
            return number
    raise AssertionError(fragment)


def test_an_unknown_role_is_named_with_its_line(tmp_path: Path) -> None:
    path = _broken(tmp_path, 'roles = ["auditor"]', 'roles = ["superuser"]')
    code, out, err = check(path)
    assert code == 1 and out == ""
    assert err.splitlines() == [
        f"{path}:{_line_of(path, 'superuser')}: people[13] (Yohanes Lembang).roles: peran "
        "'superuser' tidak dikenal; pilihan: opd, kadis, kabid, tim, admin, auditor"]


def test_a_duplicate_telegram_id_is_refused(tmp_path: Path) -> None:
    path = write_inventory(tmp_path / "office")
    text = path.read_text(encoding="utf-8")
    for name in ("Ahmad Rizali", "Fajar Setiawan"):
        text = text.replace(f'name = "{name}"\n', f'name = "{name}"\ntelegram_id = 5550001\n')
    path.write_text(text, encoding="utf-8")
    code, _, err = check(path)
    assert code == 1
    assert err.splitlines() == [
        f"{path}:{_line_of(path, 'Fajar Setiawan') + 1}: people[5] (Fajar Setiawan)"
        ".telegram_id: Telegram id 5550001 ganda; setiap nilai harus unik"]


def test_a_system_without_an_owner_agency_is_refused(tmp_path: Path) -> None:
    path = _broken(tmp_path, 'agency = "BKPSDM"\nrecipe', 'recipe')
    code, _, err = check(path)
    assert code == 1
    header = _line_of(path, 'code = "simpeg"') - 1
    assert err.splitlines() == [
        f"{path}:{header}: systems[2] (simpeg).agency: belum diisi; seharusnya teks"]


def test_a_system_of_an_unknown_agency_is_refused(tmp_path: Path) -> None:
    path = _broken(tmp_path, 'agency = "BKPSDM"\nrecipe', 'agency = "DISHUB"\nrecipe')
    code, _, err = check(path)
    assert code == 1 and len(err.splitlines()) == 1
    assert "systems[2] (simpeg).agency: instansi 'DISHUB' tidak dikenal" in err


def test_an_import_role_is_read_for_databases_and_refused_for_files(tmp_path: Path) -> None:
    path = _broken(tmp_path, 'recipe = "mariadb"',
                   'recipe = "files"\napp_dir = "/srv/a"\ndb_import_user = "x"')
    code, _, err = check(path)
    assert code == 1
    assert err.splitlines() == [f"{path}:{_line_of(path, 'db_import_user')}: systems[2] "
                                "(simpeg).db_import_user: hanya untuk resep mariadb dan "
                                "postgresql"]
    path = _broken(tmp_path, 'recipe = "mariadb"',
                   'recipe = "postgresql"\ndb_import_user = "pulih_import"')
    systems = {s.code: s for s in load_inventory(path).systems}
    assert systems["simpeg"].db_import_user == "pulih_import"


def test_systems_whose_backups_load_with_more_rights_than_needed_are_advised(
        tmp_path: Path) -> None:
    code, _, err = check(write_inventory(tmp_path / "kantor"))
    advice = [line for line in err.splitlines() if line.startswith("SARAN")]
    assert code == 0 and advice and all("lihat README" in line for line in advice)
    assert any(line.startswith("SARAN: sistem portal-pendidikan: isi db_import_user") and
               "dan run_as" in line for line in advice)


def test_the_reading_user_is_a_plain_system_name_and_not_for_mariadb(tmp_path: Path) -> None:
    path = _broken(tmp_path, 'recipe = "mariadb"', 'recipe = "mariadb"\nrun_as = "nobody"')
    code, _, err = check(path)
    assert code == 1 and "(simpeg).run_as: belum didukung untuk resep mariadb" in err
    path = _broken(tmp_path, 'recipe = "mariadb"', 'recipe = "files"\napp_dir = "/srv/a"\n'
                   'run_as = "root; rm -rf /"')
    code, _, err = check(path)
    assert code == 1 and "(simpeg).run_as:" in err and "nama pengguna sistem" in err
    path = _broken(tmp_path, 'recipe = "mariadb"',
                   'recipe = "postgresql"\nrun_as = "pulih-restore"')
    assert {s.code: s for s in load_inventory(path).systems}["simpeg"].run_as == \
        "pulih-restore"
    path = _broken(tmp_path, 'recipe = "postgresql"', 'recipe = "postgresql"\nrun_as = "x"')
    code, _, err = check(path)  # an SSH user that is neither root nor allowed sudo
    assert code == 1 and "(portal-pendidikan).run_as: memerlukan sudo = true" in err


ODD = ["-rf", "--yes", "a b", "simpeg/-x", ".rahasia", "ü", "a/../b", "$(id)", "`id`", "a|b",
       "a'b", 'a"b', "x" * 300, "a//b", "/abs", "ok-name", "ok/sub_2", "simpeg.v2"]
URLS = ["https://simpeg.kukarkab.go.id/health", "http://10.20.5.21:8080/cek?x=1&y=2",
        "https://a/$(id)", "https://a/`id`", "https://a/'x'", "https://a/b|c", "https://a b",
        "ftp://a/", "https://-a/", "https://a/" + "x" * 3000, "https://ü.id/"]


@pytest.mark.parametrize(("key", "values", "engine"), [
    ("backup_path", ODD, lambda v: confined("/srv/backup", v)),
    ("health_url", URLS, url)])
def test_every_odd_value_the_inventory_accepts_the_engine_uses_and_the_rest_are_named(
        tmp_path: Path, key: str, values: list[str], engine: Any) -> None:
    accepted = refused = 0
    for index, value in enumerate(values):
        path = _broken(tmp_path / str(index), 'recipe = "mariadb"',
                       f'recipe = "mariadb"\n{key} = {json.dumps(value)}')
        code, _, err = check(path)
        if code == 0:
            accepted += 1
            system = {s.code: s for s in load_inventory(path).systems}["simpeg"]
            engine(getattr(system, key))  # the engine takes it as it is
        else:
            refused += 1
            assert f"{path}:{_line_of(path, key + ' =')}: systems[2] (simpeg).{key}:" in err
    assert accepted >= 2 and refused >= 5, (accepted, refused)


def test_a_bad_recipe_kind_is_refused(tmp_path: Path) -> None:
    path = _broken(tmp_path, 'recipe = "mariadb"', 'recipe = "oracle"')
    code, _, err = check(path)
    assert code == 1
    assert err.splitlines() == [
        f"{path}:{_line_of(path, 'oracle')}: systems[2] (simpeg).recipe: jenis resep "
        "'oracle' tidak dikenal; pilihan: mariadb, postgresql, files"]


def test_an_unreadable_key_path_is_refused(tmp_path: Path) -> None:
    path = write_inventory(tmp_path / "office")
    key = tmp_path / "office" / "ssh" / "id_ed25519"
    key.unlink()
    code, _, err = check(path)
    assert code == 1
    lines = err.splitlines()
    # one line for each entry that names the missing key: the backup server and 3 systems
    assert len(lines) == 4
    assert all(f"'{key}': berkas tidak ada" in line and ".key:" in line for line in lines)


def test_a_key_the_bot_user_cannot_read_is_refused(tmp_path: Path) -> None:
    import os
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="pulih-inv-"))
    try:
        folder.chmod(0o755)
        path = write_inventory(folder)
        (folder / "ssh").chmod(0o755)
        for name in ("inventory.toml", "ssh/known_hosts"):
            (folder / name).chmod(0o644)
        (folder / "ssh" / "id_ed25519").chmod(0o000)
        if os.geteuid() != 0:
            code, _, err = check(path)
            assert code == 1 and "tidak dapat dibaca oleh pengguna ini" in err
            return
        # Root reads everything: load the inventory as `nobody`, in a child process.
        reader, writer = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child
            os.close(reader)
            try:
                os.setgid(65534)
                os.setuid(65534)
                load_inventory(path)
                message = "accepted"
            except ConfigError as error:
                message = str(error)
            except BaseException as error:
                message = f"crash: {error!r}"
            os.write(writer, message.encode())
            os._exit(0)
        os.close(writer)
        with os.fdopen(reader) as pipe:
            message = pipe.read()
        os.waitpid(pid, 0)
        lines = message.splitlines()
        assert len(lines) == 4, message
        assert all("id_ed25519': tidak dapat dibaca oleh pengguna ini" in line for line in lines)
    finally:
        shutil.rmtree(folder)


def test_several_problems_are_all_reported_in_file_order(tmp_path: Path) -> None:
    path = _broken(tmp_path, 'recipe = "mariadb"', 'recipe = "oracle"')
    text = path.read_text(encoding="utf-8").replace('roles = ["auditor"]', 'roles = ["raja"]')
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_inventory(path)
    assert len(error.value.problems) == 2
    assert "raja" in error.value.problems[0] and "oracle" in error.value.problems[1]


def test_hostile_values_are_refused_not_passed_on(tmp_path: Path) -> None:
    path = _broken(tmp_path, 'database = "simpeg"', 'database = "simpeg; DROP DATABASE x"')
    text = path.read_text(encoding="utf-8").replace(
        'app_dir = "/var/www/kominfo"', 'app_dir = "/var/www/../../etc"').replace(
        'host = "127.0.0.1"\nport = 22\n', 'host = "$(reboot)"\nport = 22\n', 1)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_inventory(path)
    joined = "\n".join(error.value.problems)
    assert "systems[2] (simpeg).database: 'simpeg; DROP DATABASE x' tidak sah" in joined
    assert "systems[3] (web-kominfo).app_dir" in joined
    assert "backup_servers[1] (backup-dc).host: '$(reboot)' bukan nama host" in joined


def test_a_file_that_is_not_toml_gets_one_line(tmp_path: Path) -> None:
    path = tmp_path / "inventory.toml"
    path.write_text("[office\nname = 1\n")
    code, _, err = check(path)
    assert code == 1 and len(err.splitlines()) == 1 and "bukan TOML yang sah" in err


def test_document_page_settings_are_read_and_bad_ones_named(tmp_path: Path) -> None:
    path = write_inventory(tmp_path / "office")
    (tmp_path / "office" / "templat").mkdir()
    good = path.read_text(encoding="utf-8") + (
        '\n[letters]\npaper = "A4"\nmargins_mm = [25, 20, 25, 35]\nfont_size = 11\n'
        'templates = "templat"\ntembusan = ["Sekretaris Daerah", "Arsip"]\n')
    path.write_text(good, encoding="utf-8")
    letters = load_inventory(path).letters
    assert (letters.paper, letters.margins, letters.font_size) == ("A4", (25, 20, 25, 35), 11)
    assert letters.templates == (tmp_path / "office" / "templat").resolve()
    assert letters.tembusan == ("Sekretaris Daerah", "Arsip")

    bad = good.replace("[25, 20, 25, 35]", "[25, 20]").replace("font_size = 11",
                                                                 "font_size = 40")
    bad = bad.replace('templates = "templat"', 'templates = "tidak-ada"')
    path.write_text(bad + 'font_files = ["a.ttf"]\n', encoding="utf-8")
    code, _, err = check(path)
    assert code == 1
    lines = err.splitlines()
    assert any("letters.margins_mm: seharusnya 4 angka" in line for line in lines)
    assert any("letters.font_size: seharusnya angka antara 8 dan 16" in line for line in lines)
    assert any("letters.templates: folder" in line and "tidak ada" in line for line in lines)
    assert any("letters.font_files: seharusnya 3 path TTF" in line for line in lines)


def test_a_key_others_can_read_and_a_known_hosts_others_can_change_are_warned_about(
        tmp_path: Path) -> None:
    path = write_inventory(tmp_path / "kantor")
    key, known = tmp_path / "kantor" / "ssh" / "id_ed25519", tmp_path / "kantor" / "ssh" / \
        "known_hosts"
    key.chmod(0o644)
    known.chmod(0o666)
    code, out, err = check(path)
    assert code == 0 and "OK" in out
    assert [line for line in err.splitlines() if line.startswith("PERINGATAN")] == [
        f"PERINGATAN: {key} (server backup backup-dc): kunci SSH dapat dibaca pengguna lain "
        f"(mode 0644); perbaiki dengan: chmod 600 {key}",
        f"PERINGATAN: {known} (server backup backup-dc): known_hosts dapat diubah pengguna "
        f"lain (mode 0666); perbaiki dengan: chmod 644 {known}"]
    key.chmod(0o600)
    known.chmod(0o644)
    assert "PERINGATAN" not in check(path)[2]


def test_a_systems_own_staging_folder_is_read_and_a_dangerous_one_named(
        tmp_path: Path) -> None:
    path = _broken(tmp_path, 'recipe = "mariadb"',
                   'recipe = "mariadb"\nstaging_dir = "/home/pulih/staging"')
    systems = {s.code: s for s in load_inventory(path).systems}
    assert systems["simpeg"].staging_dir == "/home/pulih/staging"
    assert systems["portal-pendidikan"].staging_dir is None  # the default, unchanged
    for bad in ("/", "/srv/../etc", "/srv/a/tmp", "staging"):
        path = _broken(tmp_path, 'recipe = "mariadb"',
                       f'recipe = "files"\napp_dir = "/srv/a"\nstaging_dir = "{bad}"')
        code, _, err = check(path)
        assert code == 1 and "(simpeg).staging_dir" in err, bad


def test_a_transfer_rate_limit_is_read_in_the_units_people_write_and_nonsense_named(
        tmp_path: Path) -> None:
    path = _broken(tmp_path, 'recipe = "mariadb"', 'recipe = "mariadb"\nmax_rate = "100 Mbit/s"')
    systems = {s.code: s for s in load_inventory(path).systems}
    assert systems["simpeg"].max_rate == 12_500_000
    assert systems["portal-pendidikan"].max_rate is None  # no limit unless written
    for written, value in (("20 MB/s", 20_000_000), ("1,5 MiB/s", 1_572_864),
                           ("512 KiB/s", 524_288)):
        path = _broken(tmp_path, 'recipe = "mariadb"',
                       f'recipe = "mariadb"\nmax_rate = "{written}"')
        systems = {s.code: s for s in load_inventory(path).systems}
        assert systems["simpeg"].max_rate == value, written
    for bad, why in (("cepat", "tidak sah"), ("20 MB", "tidak sah"), ("1 KB/s", "terlalu kecil")):
        path = _broken(tmp_path, 'recipe = "mariadb"',
                       f'recipe = "mariadb"\nmax_rate = "{bad}"')
        code, _, err = check(path)
        assert code == 1 and "(simpeg).max_rate" in err and why in err, bad


def test_restores_at_once_per_backup_server_priorities_and_zones_are_read_and_nonsense_named(
        tmp_path: Path) -> None:
    inventory = load_inventory(write_inventory(tmp_path / "office"))
    assert [(s.max_restores, s.zone) for s in inventory.backup_servers] == [(2, None)]
    assert {(s.priority, s.zone) for s in inventory.systems} == {(5, None)}  # defaults
    path = _broken(tmp_path, 'recipe = "mariadb"',
                   'recipe = "mariadb"\npriority = 1\nzone = "dc-tenggarong"')
    systems = {s.code: s for s in load_inventory(path).systems}
    assert (systems["simpeg"].priority, systems["simpeg"].zone) == (1, "dc-tenggarong")
    assert (systems["portal-pendidikan"].priority, systems["portal-pendidikan"].zone) == \
        (5, None)
    for bad in ("0", "10", '"tinggi"', "true", "1.5"):
        path = _broken(tmp_path, 'recipe = "mariadb"', f'recipe = "mariadb"\npriority = {bad}')
        code, _, err = check(path)
        assert code == 1 and "(simpeg).priority" in err and "bilangan bulat 1 sampai 9" in err, \
            bad
    path = _broken(tmp_path, 'recipe = "mariadb"', 'recipe = "mariadb"\nzone = "dc 1; rm"')
    code, _, err = check(path)
    assert code == 1 and "(simpeg).zone" in err
    server = load_inventory(write_inventory(tmp_path / "office")).backup_servers[0]
    path = _broken(tmp_path, f'root = "{server.root}"',
                   f'root = "{server.root}"\nmax_restores = 3\nzone = "dc-samarinda"')
    assert [(s.max_restores, s.zone) for s in load_inventory(path).backup_servers] == \
        [(3, "dc-samarinda")]
    for bad in ("0", "17", '"dua"'):
        path = _broken(tmp_path, f'root = "{server.root}"',
                       f'root = "{server.root}"\nmax_restores = {bad}')
        code, _, err = check(path)
        assert code == 1 and ".max_restores" in err and "1 sampai 16" in err, bad


def test_a_target_that_pulls_its_backups_needs_its_key_and_known_hosts_both(
        tmp_path: Path) -> None:
    pulled = ('recipe = "mariadb"\npull_key = "/etc/pulih/tarik_ed25519"\n'
              'pull_known_hosts = "/etc/pulih/known_hosts_backup"\npull_host = "10.20.1.11"')
    systems = {s.code: s for s in load_inventory(_broken(tmp_path, 'recipe = "mariadb"',
                                                         pulled)).systems}
    pull = systems["simpeg"].pull
    assert pull is not None and pull.key == "/etc/pulih/tarik_ed25519"
    assert pull.known_hosts == "/etc/pulih/known_hosts_backup" and pull.host == "10.20.1.11"
    assert pull.user is None and systems["portal-pendidikan"].pull is None
    for bad, named in (('pull_key = "/etc/pulih/k"', "pull_known_hosts"),
                       ('pull_known_hosts = "/etc/pulih/kh"', "pull_key"),
                       ('pull_host = "10.0.0.1"', "pull_key"),
                       ('pull_key = "kunci"\npull_known_hosts = "/etc/kh"', "pull_key"),
                       ('pull_key = "/etc/../k"\npull_known_hosts = "/etc/kh"', "pull_key")):
        path = _broken(tmp_path, 'recipe = "mariadb"', f'recipe = "mariadb"\n{bad}')
        code, _, err = check(path)
        assert code == 1 and f"(simpeg).{named}" in err, bad


def test_one_month_style_for_every_number_of_the_office(tmp_path: Path) -> None:
    path = write_inventory(tmp_path / "office")
    path.write_text(path.read_text() + '\n[letters]\nmonth_style = "romawi"\n')
    letters = load_inventory(path).letters
    assert all("{month_roman}" in p and "{month:02d}" not in p
               for p in letters.numbering.values()), letters.numbering
    path.write_text(path.read_text() + '\n[letters.numbering]\n'
                    'laporan = "{seq}/{unit}/{classification}/{month:02d}/{year}"\n')
    code, out, err = check(path)
    assert code == 1 and out == ""
    assert err.strip().endswith(
        "letters.numbering.laporan: '{seq}/{unit}/{classification}/{month:02d}/{year}' "
        "memakai bulan angka, padahal month_style kantor ini romawi: satu gaya bulan untuk "
        "semua surat"), err


def test_an_agency_letter_signer_without_a_name_is_named_with_its_line(tmp_path: Path) -> None:
    path = _broken(tmp_path, 'name = "Dinas Pendidikan dan Kebudayaan"\n',
                   'name = "Dinas Pendidikan dan Kebudayaan"\n'
                   'letter_signer = { jabatan = "Kepala Dinas" }\n')
    code, _, err = check(path)
    assert code == 1
    assert f"{path}:{_line_of(path, 'letter_signer')}: " in err and \
        "letter_signer: seharusnya { name" in err, err


def test_the_backup_watch_settings_and_each_systems_backup_schedule_are_read_and_nonsense_named(
        tmp_path: Path) -> None:
    inventory = load_inventory(write_inventory(tmp_path / "office"))
    assert (inventory.watch.at.strftime("%H.%M"), inventory.watch.shrink,
            inventory.watch.full_cycle_days, inventory.watch.grace_hours) == ("06.00", 0.3, 7, 2)
    assert {s.backup_every_hours for s in inventory.systems} == {24}
    path = _broken(tmp_path, "[team]", '[watch]\nat = "05.15"\nshrink = 0.4\n'
                   "full_cycle_days = 14\ngrace_hours = 6\n\n[team]")
    path.write_text(path.read_text().replace('recipe = "mariadb"',
                                             'recipe = "mariadb"\nbackup_every_hours = 168'))
    inventory = load_inventory(path)
    assert (inventory.watch.at.strftime("%H.%M"), inventory.watch.shrink,
            inventory.watch.full_cycle_days, inventory.watch.grace_hours) == ("05.15", 0.4, 14, 6)
    assert {s.code: s.backup_every_hours for s in inventory.systems}["simpeg"] == 168
    for key, bad, said in (("at", '"25.00"', "seharusnya jam"), ("at", '"pagi"', "seharusnya jam"),
                           ("shrink", "1.5", "pecahan antara 0 dan 1"),
                           ("shrink", '"30%"', "pecahan antara 0 dan 1"),
                           ("full_cycle_days", "0", "1 sampai 31"),
                           ("kapan", "1", "tidak dikenal")):
        path = _broken(tmp_path, "[team]", f"[watch]\n{key} = {bad}\n\n[team]")
        code, _, err = check(path)
        assert code == 1 and f"watch.{key}" in err and said in err, (key, bad, err)
    path = _broken(tmp_path, 'recipe = "mariadb"', 'recipe = "mariadb"\nbackup_every_hours = 0')
    code, _, err = check(path)
    assert code == 1 and "(simpeg).backup_every_hours" in err


def test_office_hours_holidays_and_working_time_steps_are_read_and_nonsense_named(
        tmp_path: Path) -> None:
    inventory = load_inventory(write_inventory(tmp_path / "office"))
    assert inventory.office_hours.working_steps == frozenset()  # 24/7 until the office says
    assert inventory.office_hours.hours[4] is not None and inventory.office_hours.hours[5] is None
    year = NOW.year + 1
    path = _broken(tmp_path, "[team]", '[office_hours]\njumat = "07.30-11.30"\n'
                   'sabtu = "08.00-12.00"\nworking_time_steps = [2, 3, 6]\ncuti_bersama = false\n'
                   f'days_off = [{year}-12-24, {{ tanggal = {year}-12-31, nama = "Libur daerah" }}]'
                   "\n\n[team]")
    path.write_text(path.read_text().replace('recipe = "mariadb"',
                                             'recipe = "mariadb"\nrestore_24_7 = true'))
    inventory = load_inventory(path)
    hours = inventory.office_hours
    assert [h and (h[0].strftime("%H.%M"), h[1].strftime("%H.%M")) for h in hours.hours[4:6]] \
        == [("07.30", "11.30"), ("08.00", "12.00")]
    assert hours.working_steps == {2, 3, 6} and not hours.joint_leave and hours.national
    assert [(d.isoformat(), n) for d, n in hours.days_off] == [
        (f"{year}-12-24", "libur kantor"), (f"{year}-12-31", "Libur daerah")]
    assert {s.code: s.restore_24_7 for s in inventory.systems}["simpeg"]
    for key, bad, said in (("senin", '"16.00-07.30"', "jam buka-tutup"),
                           ("rabu", '"pagi"', "jam buka-tutup"),
                           ("working_time_steps", "[0, 9]", "1 sampai 8"),
                           ("days_off", '["besok"]', "seharusnya tanggal"),
                           ("jam_kerja", "1", "tidak dikenal")):
        path = _broken(tmp_path, "[team]", f"[office_hours]\n{key} = {bad}\n\n[team]")
        code, _, err = check(path)
        assert code == 1 and f"office_hours.{key}" in err and said in err, (key, bad, err)
    closed = "\n".join(f'{d} = "libur"' for d in ("senin", "selasa", "rabu", "kamis", "jumat"))
    code, _, err = check(_broken(tmp_path, "[team]", f"[office_hours]\n{closed}\n\n[team]"))
    assert code == 1 and "paling sedikit satu hari" in err


def test_an_email_address_is_read_and_one_that_could_carry_a_header_is_named(
        tmp_path: Path) -> None:
    path = write_inventory(tmp_path / "office", emails={
        "kadis": "Kadis@Diskominfo.Kukarkab.go.id", "requester": "andi@disdikbud.go.id"})
    inventory = load_inventory(path)
    addresses = {p.name: p.email for p in inventory.people if p.email}
    assert addresses == {"Ahmad Rizali": "kadis@diskominfo.kukarkab.go.id",
                         "Andi Saputra": "andi@disdikbud.go.id"}
    for bad in ("andi@disdikbud.go.id\\r\\nBcc: semua@contoh.id", "andi", "a b@c.id",
                "andi@disdikbud.go.id, lain@contoh.id", "<andi@disdikbud.go.id>"):
        path = write_inventory(tmp_path / "office", emails={"requester": bad})
        code, _, err = check(path)
        assert code == 1, bad
        assert f"{path}:{_line_of(path, 'email = ')}: people[1] (Andi Saputra).email: " in err
        assert "seharusnya alamat e-mail seperti nama@kukarkab.go.id" in err, err
