"""MariaDB restores over real SSH into a real server: exact content, rollback, refusals."""

from __future__ import annotations

import hashlib
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.demo.lab.mariadb import MariaDB
from bot.demo.lab.sshd import SshServer
from restore.engine import PULLED, Phase, RestoreJob
from restore.pull import Pull
from restore.recipes import RunNames, TargetSpec
from restore.recipes.mariadb import MariaDBRecipe
from restore.ssh import session
from tests.support.backups import gz, write_point
from tests.support.restoring import MemoryJournal, checked_job, unchecked_job

TABLES = ("pegawai", "jabatan")


def snapshot(db: MariaDB, database: str) -> dict[str, str]:
    """Every row of every table, in order: what 'exactly the same' is judged on."""
    tables = db.sql("SELECT table_name FROM information_schema.tables WHERE table_schema = "
                    f"'{database}' ORDER BY table_name").split()
    return {t: db.sql(f"SELECT * FROM `{database}`.`{t}` ORDER BY 1") for t in tables}


@pytest.fixture
def live(mariadb: MariaDB, tmp_path: Path) -> Iterator[tuple[str, Path, dict[str, str]]]:
    """A live database with data, its backup point, and what the backup holds."""
    name = f"simpeg_{tmp_path.name[-8:].replace('-', '_')}"
    mariadb.sql(f"DROP DATABASE IF EXISTS `{name}`; CREATE DATABASE `{name}`")
    mariadb.sql("CREATE TABLE pegawai (id INT PRIMARY KEY, nama VARCHAR(100), gaji DECIMAL(12,2),"
                " catatan TEXT); CREATE TABLE jabatan (id INT PRIMARY KEY, nama VARCHAR(100));"
                "INSERT INTO jabatan VALUES (1, 'Pranata Komputer'), (2, 'Analis');", name)
    rows = ", ".join(f"({i}, 'Pegawai ñ {i} \\'kutip\\'', {i * 1000}.50, 'baris\\n{i}')"
                     for i in range(1, 501))
    mariadb.sql(f"INSERT INTO pegawai VALUES {rows}", name)
    backup_state = snapshot(mariadb, name)
    dump = subprocess.run(["mariadb-dump", "-S", str(mariadb.socket), "-u", "root",
                           "--single-transaction", "--default-character-set=utf8mb4", name],
                          check=True, capture_output=True).stdout
    root = tmp_path / "srv-backup"
    write_point(root / "simpeg", "20261123-0200", {"simpeg.sql.gz": gz(dump)},
                manifest={"pegawai": 500, "jabatan": 2})
    yield name, root, backup_state
    for db in mariadb.sql("SHOW DATABASES").split():
        if db == name or db.startswith("pulih_"):
            mariadb.sql(f"DROP DATABASE IF EXISTS `{db}`")


def damage(db: MariaDB, name: str) -> dict[str, str]:
    db.sql("DELETE FROM pegawai WHERE id > 100; UPDATE jabatan SET nama = 'RUSAK';"
           "CREATE TABLE sampah (x INT); INSERT INTO sampah VALUES (1);", name)
    return snapshot(db, name)


def spec(db: MariaDB, name: str) -> TargetSpec:
    return TargetSpec("mariadb", database=name, db_host=str(db.socket), db_user="root")


def test_a_damaged_database_is_restored_exactly_and_rolled_back_exactly(
        mariadb: MariaDB, backup_server: SshServer, target_server: SshServer,
        live: tuple[str, Path, dict[str, str]], tmp_path: Path) -> None:
    name, root, backup_state = live
    damaged = damage(mariadb, name)
    journal = MemoryJournal()
    job = checked_job(11, backup_server, target_server, root, "simpeg", "20261123-0200",
                      spec(mariadb, name), tmp_path / "staging", journal=journal)
    outcome = job.run()
    assert outcome.status == "succeeded", outcome.message
    assert snapshot(mariadb, name) == backup_state
    assert outcome.verification["tables"] == {"pegawai": 500, "jabatan": 2}
    assert journal.statuses() == [
        "preflight:tag", "preflight:started", "preflight:done", "preflight:live",
        # no staging copy: the dump flows from the backup server into the shadow's import
        "apply:note", "apply:started", "apply:note", "apply:done", "verify:started",
        "verify:done", "verify:result",  # the shadow's verification, kept for a take-over
        "swap:started", "swap:done", "postcheck:started", "postcheck:done", "cleanup:started",
        "cleanup:done"]
    assert not (tmp_path / "staging" / "11").exists()
    assert "pulih_sh_11" not in mariadb.sql("SHOW DATABASES").split()
    # the damaged state was kept, and rollback brings it back exactly
    assert snapshot(mariadb, "pulih_rb_11") == damaged
    with session(target_server.endpoint()) as remote:
        MariaDBRecipe(spec(mariadb, name)).rollback(remote, RunNames(11))
    assert snapshot(mariadb, name) == damaged
    assert snapshot(mariadb, "pulih_un_11") == backup_state


def test_an_import_that_fails_half_way_leaves_live_untouched(
        mariadb: MariaDB, backup_server: SshServer, target_server: SshServer,
        live: tuple[str, Path, dict[str, str]], tmp_path: Path) -> None:
    name, root, _ = live
    dump = subprocess.run(["mariadb-dump", "-S", str(mariadb.socket), "-u", "root", name],
                          check=True, capture_output=True).stdout
    broken = dump.replace(b"INSERT INTO `pegawai`", b"INSERT INTO `pegawai_tidak_ada`", 1)
    write_point(root / "simpeg", "20261123-0300", {"simpeg.sql.gz": gz(broken)})
    damaged = damage(mariadb, name)
    job = checked_job(12, backup_server, target_server, root, "simpeg", "20261123-0300",
                      spec(mariadb, name), tmp_path / "staging")
    outcome = job.run()
    assert outcome.status == "failed"
    assert "Impor dump ke basis data sementara gagal" in outcome.message
    assert "Data live tidak disentuh" in outcome.message
    assert snapshot(mariadb, name) == damaged
    assert not [d for d in mariadb.sql("SHOW DATABASES").split() if d.startswith("pulih_")]


def test_a_dump_that_would_write_to_the_live_database_is_refused(
        mariadb: MariaDB, backup_server: SshServer, target_server: SshServer,
        live: tuple[str, Path, dict[str, str]], tmp_path: Path) -> None:
    name, root, _ = live
    dump = subprocess.run(["mariadb-dump", "-S", str(mariadb.socket), "-u", "root",
                           "--databases", name], check=True, capture_output=True).stdout
    write_point(root / "simpeg", "20261123-0400", {"simpeg.sql": dump})
    damaged = damage(mariadb, name)
    outcome = checked_job(13, backup_server, target_server, root, "simpeg", "20261123-0400",
                          spec(mariadb, name), tmp_path / "staging").run()
    assert outcome.status == "failed" and outcome.error_code == "backup_unsafe"
    assert "CREATE DATABASE" in outcome.message and "mengubah basis data lain" in outcome.message
    assert snapshot(mariadb, name) == damaged


class CancelWhenApplying(MemoryJournal):
    """Presses "Batal" a moment after the import into the shadow has started."""

    job: RestoreJob | None = None

    def phase(self, phase: Phase, status: str, detail: str = "") -> None:
        super().phase(phase, status, detail)
        if (phase, status) == (Phase.APPLY, "started") and self.job is not None:
            threading.Timer(1.0, self.job.cancel.set).start()


def test_batal_during_a_long_import_stops_it_on_the_server_and_touches_nothing(
        mariadb: MariaDB, backup_server: SshServer, target_server: SshServer,
        live: tuple[str, Path, dict[str, str]], tmp_path: Path) -> None:
    name, root, _ = live
    dump = subprocess.run(["mariadb-dump", "-S", str(mariadb.socket), "-u", "root", name],
                          check=True, capture_output=True).stdout
    write_point(root / "simpeg", "20261123-0600",
                {"simpeg.sql": b"SELECT SLEEP(900);\n" + dump})
    damaged = damage(mariadb, name)
    journal = CancelWhenApplying()
    job = checked_job(16, backup_server, target_server, root, "simpeg", "20261123-0600",
                      spec(mariadb, name), tmp_path / "staging", journal=journal)
    journal.job = job
    outcome = job.run()
    assert outcome.status == "cancelled", outcome.message
    assert "dibatalkan saat data dialirkan ke salinan sementara" in outcome.message
    assert "Data live tidak disentuh (diperiksa ulang: basis data" in outcome.message
    # The import that would have slept for 15 minutes is gone, and so is its shadow.
    assert subprocess.run(["pgrep", "-f", "pulih_sh_1[6]( |$)"]).returncode == 1
    assert "pulih_sh_16" not in mariadb.sql("SHOW DATABASES").split()
    assert snapshot(mariadb, name) == damaged


def test_a_swap_the_server_refuses_leaves_live_untouched_and_no_leftovers(
        mariadb: MariaDB, backup_server: SshServer, target_server: SshServer,
        live: tuple[str, Path, dict[str, str]], tmp_path: Path) -> None:
    name, root, _ = live
    damaged = damage(mariadb, name)
    # MariaDB will not move a table with a trigger to another database: RENAME fails whole.
    mariadb.sql("CREATE TRIGGER jaga BEFORE UPDATE ON jabatan FOR EACH ROW SET NEW.nama = "
                "NEW.nama", name)
    journal = MemoryJournal()
    outcome = checked_job(14, backup_server, target_server, root, "simpeg", "20261123-0200",
                          spec(mariadb, name), tmp_path / "staging", journal=journal).run()
    assert outcome.status == "failed" and not outcome.swapped
    assert "MariaDB" in outcome.message and "Data live tidak disentuh" in outcome.message
    assert "swap:started" in journal.statuses() and "swap:done" not in journal.statuses()
    assert snapshot(mariadb, name) == damaged
    assert not [d for d in mariadb.sql("SHOW DATABASES").split() if d.startswith("pulih_")]


class SwappedThen(MemoryJournal):
    """Runs `then` on the live database the moment the swap is done, before the check."""

    def __init__(self, then: Callable[[], object]) -> None:
        super().__init__()
        self.then = then

    def phase(self, phase: Phase, status: str, detail: str = "") -> None:
        super().phase(phase, status, detail)
        if (phase, status) == (Phase.POSTCHECK, "started"):
            self.then()


def test_the_application_writing_right_after_the_swap_does_not_undo_the_restore(
        mariadb: MariaDB, backup_server: SshServer, target_server: SshServer,
        live: tuple[str, Path, dict[str, str]], tmp_path: Path) -> None:
    name, root, backup_state = live
    damage(mariadb, name)
    journal = SwappedThen(lambda: mariadb.sql(
        "INSERT INTO pegawai (id, nama) VALUES (9001, 'baru dari aplikasi')", name))
    outcome = checked_job(15, backup_server, target_server, root, "simpeg", "20261123-0200",
                          spec(mariadb, name), tmp_path / "staging", journal=journal).run()
    assert outcome.status == "succeeded", outcome.message
    assert outcome.post_check == {"tables_present": 2}
    restored = snapshot(mariadb, name)
    assert restored["jabatan"] == backup_state["jabatan"]
    assert restored["pegawai"] == backup_state["pegawai"] + "9001\tbaru dari aplikasi\tNULL\tNULL\n"


def test_a_live_table_gone_between_the_swap_and_its_check_puts_the_old_state_back(
        mariadb: MariaDB, backup_server: SshServer, target_server: SshServer,
        live: tuple[str, Path, dict[str, str]], tmp_path: Path) -> None:
    name, root, _ = live
    damaged = damage(mariadb, name)
    journal = SwappedThen(lambda: mariadb.sql("DROP TABLE jabatan", name))
    outcome = checked_job(16, backup_server, target_server, root, "simpeg", "20261123-0200",
                          spec(mariadb, name), tmp_path / "staging", journal=journal).run()
    assert outcome.status == "failed" and not outcome.swapped
    assert "Pemeriksaan setelah penggantian gagal (tabel basis data live tidak sama dengan " \
           "salinan sementara yang diverifikasi (hilang: jabatan; lebih: -))" in outcome.message
    assert "data live dikembalikan ke kondisi sebelum restore" in outcome.message
    assert snapshot(mariadb, name) == damaged


@pytest.mark.parametrize("byte_pipe", ["openssh", "paramiko"])
@pytest.mark.parametrize("changed_after_check", [True, False])
def test_a_last_statement_cut_off_from_its_semicolon_never_runs(
        mariadb: MariaDB, backup_server: SshServer, target_server: SshServer,
        live: tuple[str, Path, dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        changed_after_check: bool, byte_pipe: str) -> None:
    """A client runs what it holds when its input ends, even without a semicolon. The
    stream lets the import see the end only after the whole file was judged: a backup
    whose last line drops the live database (swapped in after the check, or there all
    along and refused when its end is read) leaves live data as it was."""
    name, root, _ = live
    monkeypatch.setenv("PULIH_SSH_BYTES", byte_pipe)  # read by the transfer process
    damaged = damage(mariadb, name)
    point = root / "simpeg" / "20261123-0200"
    good = subprocess.run(["gzip", "-dc", str(point / "simpeg.sql.gz")], check=True,
                          capture_output=True).stdout
    hostile = good + f"\nDROP DATABASE `{name}`".encode()
    if changed_after_check:
        job = checked_job(19, backup_server, target_server, root, "simpeg", "20261123-0200",
                          spec(mariadb, name), tmp_path / "staging")
        (point / "simpeg.sql.gz").write_bytes(gz(hostile))
    else:
        (point / "simpeg.sql.gz").write_bytes(gz(hostile))
        job = unchecked_job(19, backup_server, target_server, root, "simpeg", "20261123-0200",
                            spec(mariadb, name), tmp_path / "staging")
    outcome = job.run()
    assert outcome.status == "failed", outcome.message
    assert outcome.error_code == ("checksum_mismatch" if changed_after_check
                                  else "backup_unsafe"), outcome.message
    assert name in mariadb.sql("SHOW DATABASES").split()
    assert snapshot(mariadb, name) == damaged
    assert not [d for d in mariadb.sql("SHOW DATABASES").split() if d.startswith("pulih_sh_")]


REPO = Path(__file__).resolve().parents[2]


def pull_for(backup_server: SshServer, root: Path, tmp_path: Path) -> Pull:
    """A key on the target that the backup server lets read SIMPEG's folder and nothing
    else (deploy/pulih-baca-backup as its forced command), its host key pinned."""
    return backup_server.allow_pull(tmp_path / "tarik_ed25519", root / "simpeg",
                                    REPO / "deploy" / "pulih-baca-backup")


def test_a_target_that_pulls_its_backup_itself_is_restored_and_the_digest_checked(
        mariadb: MariaDB, backup_server: SshServer, target_server: SshServer,
        live: tuple[str, Path, dict[str, str]], tmp_path: Path) -> None:
    name, root, backup_state = live
    damaged = damage(mariadb, name)
    pull = pull_for(backup_server, root, tmp_path)
    journal = MemoryJournal()
    job = checked_job(21, backup_server, target_server, root, "simpeg", "20261123-0200",
                      spec(mariadb, name), tmp_path / "staging", journal=journal)
    job.pull, job.pull_base = pull, str(root / "simpeg")
    outcome = job.run()
    assert outcome.status == "succeeded", outcome.message
    assert snapshot(mariadb, name) == backup_state
    assert ("apply", "note", PULLED) in journal.entries
    # The key reads that folder's files and nothing else, and runs nothing else.
    for asked in ("../../../../etc/passwd", "/etc/passwd", "cat /etc/passwd",
                  "20261123-0200", "20261123-0200/../../simpeg/x", "-n"):
        run = subprocess.run([*pull.ssh(asked)], capture_output=True)
        assert run.returncode == 2 and b"ditolak" in run.stderr and run.stdout == b"", asked
    # A file changed after the check: its digest stops it before the swap.
    damaged = damage(mariadb, name)
    again = checked_job(22, backup_server, target_server, root, "simpeg", "20261123-0200",
                        spec(mariadb, name), tmp_path / "staging")
    again.pull, again.pull_base = pull, str(root / "simpeg")
    (root / "simpeg" / "20261123-0200" / "simpeg.sql.gz").write_bytes(
        gz(b"CREATE TABLE jahat (x INT);\n"))
    failed = again.run()
    assert failed.status == "failed" and failed.error_code == "checksum_mismatch", failed.message
    assert "ditarik" in failed.message
    assert snapshot(mariadb, name) == damaged
    assert not [d for d in mariadb.sql("SHOW DATABASES").split() if d.startswith("pulih_sh_")]


def test_many_tables_are_counted_and_fingerprinted_exactly_over_several_connections(
        mariadb: MariaDB, target_server: SshServer, tmp_path: Path) -> None:
    """Rows are counted, and the copy kept for rollback fingerprinted, table by table on
    up to four connections at once: the figures are the same as one connection's, and
    the fingerprint as the one a run recorded before (one CHECKSUM TABLE for all)."""
    name = f"banyak_{tmp_path.name[-8:].replace('-', '_')}"
    rows = {f"t{n:02d}": n * 37 for n in range(1, 10)}
    mariadb.sql(f"DROP DATABASE IF EXISTS `{name}`; CREATE DATABASE `{name}`")
    for table, count in rows.items():
        mariadb.sql(f"CREATE TABLE `{table}` (id INT PRIMARY KEY, isi VARCHAR(40)); INSERT "
                    f"INTO `{table}` SELECT seq, CONCAT('baris ', seq) FROM seq_1_to_{count}",
                    name)
    mariadb.sql("CREATE VIEW tampilan AS SELECT * FROM t01", name)  # not a table: not counted
    recipe = MariaDBRecipe(spec(mariadb, name))
    run = RunNames(31)
    try:
        with session(target_server.endpoint()) as remote:
            assert recipe.counts(remote, name) == rows
            mariadb.sql(f"CREATE DATABASE `{run.rollback_db}`")
            mariadb.sql("RENAME TABLE " + ", ".join(
                f"`{name}`.`{t}` TO `{run.rollback_db}`.`{t}`" for t in rows))
            sums = mariadb.sql("CHECKSUM TABLE " + ", ".join(
                f"`{run.rollback_db}`.`{t}`" for t in rows) + " EXTENDED")
            one_connection = hashlib.sha256("\n".join(sorted(
                f"{line.split(chr(9))[0].split('.', 1)[-1]}:{line.split(chr(9))[-1]}"
                for line in sums.splitlines() if line)).encode()).hexdigest()
            assert recipe.rollback_digest(remote, run) == one_connection
            mariadb.sql(f"UPDATE `{run.rollback_db}`.t05 SET isi = 'diubah' WHERE id = 3")
            assert recipe.rollback_digest(remote, run) != one_connection
    finally:
        mariadb.sql(f"DROP DATABASE IF EXISTS `{name}`; "
                    f"DROP DATABASE IF EXISTS `{run.rollback_db}`")


@pytest.mark.parametrize("names", ["", "SET NAMES utf8mb4;\n"])
def test_text_comes_back_byte_for_byte_whether_or_not_the_dump_names_its_character_set(
        mariadb: MariaDB, backup_server: SshServer, target_server: SshServer,
        tmp_path: Path, names: str) -> None:
    """An old application's latin1 table, dumped without SET NAMES (--skip-set-charset),
    and a utf8mb4 one: each byte of text is restored as the dump holds it."""
    name = f"lama_{tmp_path.name[-8:].replace('-', '_')}"
    mariadb.sql(f"DROP DATABASE IF EXISTS `{name}`; CREATE DATABASE `{name}`; "
                f"CREATE TABLE `{name}`.dummy (x INT)")
    latin1 = "Peñajam Paser Utara, Muara Kaman".encode("latin1") if not names else \
        "Peñajam Paser Utara, Muara Kaman".encode()
    charset = "latin1" if not names else "utf8mb4"
    dump = (names.encode() + f"CREATE TABLE `wilayah` (`id` int PRIMARY KEY, `nama` varchar(60)) "
            f"DEFAULT CHARSET={charset};\nINSERT INTO `wilayah` VALUES (1,'".encode()
            + latin1 + b"');\n")
    root = tmp_path / "srv-backup"
    write_point(root / "lama", "20261123-0200", {"lama.sql.gz": gz(dump)},
                manifest={"wilayah": 1})
    try:
        outcome = checked_job(33, backup_server, target_server, root, "lama", "20261123-0200",
                              spec(mariadb, name), tmp_path / "staging").run()
        assert outcome.status == "succeeded", outcome.message
        stored = mariadb.sql(f"SELECT HEX(nama) FROM `{name}`.wilayah")
        assert bytes.fromhex(stored) == latin1
        assert mariadb.sql(f"SELECT nama FROM `{name}`.wilayah").strip() == \
            "Peñajam Paser Utara, Muara Kaman"
    finally:
        for db in mariadb.sql("SHOW DATABASES").split():
            if db == name or db.startswith("pulih_"):
                mariadb.sql(f"DROP DATABASE IF EXISTS `{db}`")
