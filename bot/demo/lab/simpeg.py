"""SIMPEG, the lab agency's MariaDB application: a good state, a backup point of it on the
backup server (dump, SHA256SUMS, manifest), then the damage that calls for a restore."""

from __future__ import annotations

import subprocess
from pathlib import Path

from bot.demo.lab.backup_point import gz, write_point
from bot.demo.lab.mariadb import MariaDB

States = dict[str, dict[str, str]]


def snapshot(db: MariaDB) -> dict[str, str]:
    """Every table of the live `simpeg` database, row by row."""
    return {t: db.sql(f"SELECT * FROM simpeg.`{t}` ORDER BY 1") for t in
            db.sql("SELECT table_name FROM information_schema.tables WHERE "
                   "table_schema = 'simpeg' ORDER BY 1").split()}


def damaged_simpeg(db: MariaDB, backup_root: Path, point: str, rows: int = 3) -> States:
    """Live SIMPEG with `rows` employees, backed up under `backup_root` as restore point
    `point` (YYYYmmdd-HHMM, office time), then damaged; returns both states."""
    db.sql("DROP DATABASE IF EXISTS simpeg; CREATE DATABASE simpeg")
    names = ["Andi", "Budi", "Citra"]
    values = ",".join(f"({i},'{name}')" for i, name in enumerate(names[:rows], start=1))
    # Many rows come from MariaDB's sequence engine: a statement of any length stays short.
    more = (f"INSERT INTO pegawai SELECT seq, CONCAT('Pegawai ', seq) FROM seq_4_to_{rows};"
            if rows > len(names) else "")
    db.sql(f"CREATE TABLE pegawai (id INT PRIMARY KEY, nama VARCHAR(80));"
           f"INSERT INTO pegawai VALUES {values};{more}", "simpeg")
    good = snapshot(db)
    dump = subprocess.run(["mariadb-dump", "-S", str(db.socket), "-u", db.user, "simpeg"],
                          check=True, capture_output=True).stdout
    write_point(backup_root / "simpeg", point, {"simpeg.sql.gz": gz(dump)},
                manifest={"pegawai": rows})
    db.sql("DELETE FROM pegawai WHERE id > 1; UPDATE pegawai SET nama = 'RUSAK'", "simpeg")
    return {"good": good, "damaged": snapshot(db)}


def drop_simpeg(db: MariaDB) -> None:
    """Remove what a test left: the database and any shadow or kept copy."""
    for name in db.sql("SHOW DATABASES").split():
        if name == "simpeg" or name.startswith("pulih_"):
            db.sql(f"DROP DATABASE IF EXISTS `{name}`")
