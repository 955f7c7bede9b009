"""How fast a dump is read for hostile content, against reading it with grep.

    python3 benchmarks/inspect_dump.py [--mib 256]

Builds dumps shaped as the tools write them (mariadb-dump's extended INSERT lines,
pg_dump's COPY data, pg_dump --inserts rows), about `--mib` MiB each, and times
Pulih's SQL reader (restore.inspect_sql, as the transfer process runs it: 1 MiB pieces)
against the baseline measured in the same run: `grep -c -i -E` with the line-start
pattern Pulih used before it read statements, over the same bytes. Prints MB/s of both
and their ratio. The reader runs in the transfer's own process, beside the copy.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from restore.inspect_sql import SqlInspector  # noqa: E402

GREP = r"^(USE |CREATE DATABASE|\\connect|\\c )"


def mariadb_rows(size: int) -> bytes:
    row = ("({0},'Pegawai ke-{0} \\'kutip\\' dengan nama cukup panjang',{0}.50,"
           "'catatan baris\\n{0}','2026-01-01 10:00:00',NULL)")
    line = ("INSERT INTO `pegawai` VALUES " + ",".join(row.format(i) for i in range(4000))
            + ";\n").encode()
    return line * max(1, size // len(line))


def postgresql_copy(size: int) -> bytes:
    body = "".join(f"{i}\tPegawai ke-{i} dengan nama cukup panjang\t{i}.50\tcatatan\t\\N\n"
                   for i in range(20000)).encode()
    block = b"COPY public.pegawai (id, nama, gaji, catatan, x) FROM stdin;\n"
    return block + body * max(1, size // len(body)) + b"\\.\n"


def postgresql_inserts(size: int) -> bytes:
    line = "".join(f"INSERT INTO public.pegawai VALUES ({i}, 'Pegawai ke-{i} ''kutip''', "
                   f"{i}.50, 'catatan', NULL);\n" for i in range(20000)).encode()
    return line * max(1, size // len(line))


def read_with_pulih(dialect: str, data: bytes) -> float:
    started = time.perf_counter()
    inspector = SqlInspector(dialect)
    view = memoryview(data)
    for start in range(0, len(data), 1 << 20):
        inspector.feed(bytes(view[start:start + (1 << 20)]))
    assert inspector.findings() == []
    return time.perf_counter() - started


def read_with_grep(path: Path) -> float:
    started = time.perf_counter()
    subprocess.run(["grep", "-c", "-i", "-E", GREP, str(path)], capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=256)
    size = parser.parse_args().mib << 20
    print(f"{'dump':32} {'MB':>7} {'Pulih MB/s':>11} {'grep MB/s':>10} {'ratio':>6}")
    with tempfile.TemporaryDirectory() as folder:
        for name, dialect, data in (
                ("mariadb-dump (extended INSERT)", "mariadb", mariadb_rows(size)),
                ("pg_dump (COPY)", "postgresql", postgresql_copy(size)),
                ("pg_dump --inserts", "postgresql", postgresql_inserts(size))):
            path = Path(folder) / "dump.sql"
            path.write_bytes(data)
            mb = len(data) / 1e6
            ours, grep = read_with_pulih(dialect, data), read_with_grep(path)
            print(f"{name:32} {mb:7.0f} {mb / ours:11.0f} {mb / grep:10.0f} "
                  f"{ours / grep:6.1f}x")


if __name__ == "__main__":
    main()
