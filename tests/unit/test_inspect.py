"""A hostile dump or archive is named line by line or member by member; an honest one passes."""

from __future__ import annotations

import gzip

import pytest

from restore.inspect import Gunzipped, inspector_for
from restore.inspect_sql import Finding, SqlInspector
from restore.inspect_tar import TarInspector
from tests.support.hostile import MARIADB, POSTGRESQL, Payload, hostile_archives, tar_of

MARIADB_DUMP = r"""/*M!999999\- enable the sandbox mode */
-- MariaDB dump 10.19  Distrib 10.11.19-MariaDB
/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;
/*!40101 SET NAMES utf8mb4 */;
/*!40103 SET TIME_ZONE='+00:00' */;
/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;
DROP TABLE IF EXISTS `pegawai`;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `pegawai` (
  `id` int(11) NOT NULL,
  `grant` int(11) DEFAULT NULL,
  `program` text DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
LOCK TABLES `pegawai` WRITE;
/*!40000 ALTER TABLE `pegawai` DISABLE KEYS */;
INSERT INTO `pegawai` VALUES (1,2,'USE mysql; \\! touch /x'),(2,3,'O\'Brien -- /* x'),(3,4,'a\\');
/*!40000 ALTER TABLE `pegawai` ENABLE KEYS */;
UNLOCK TABLES;
/*!50003 SET @saved_sql_mode       = @@sql_mode */ ;
/*!50003 SET sql_mode              = 'STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION' */ ;
DELIMITER ;;
/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER t1 AFTER INSERT ON
pegawai FOR EACH ROW INSERT INTO log (pesan) VALUES (CONCAT('baru ', NEW.id)) */;;
DELIMITER ;
/*!50003 SET sql_mode              = @saved_sql_mode */ ;
DO SETVAL(`s1`, 1001, 0);
DELIMITER ;;
CREATE DEFINER=`root`@`localhost` PROCEDURE `hitung`(OUT n INT)
BEGIN
  SELECT COUNT(*) INTO n FROM pegawai;
END ;;
DELIMITER ;
/*!50001 CREATE ALGORITHM=UNDEFINED */
/*!50013 DEFINER=`root`@`localhost` SQL SECURITY DEFINER */
/*!50001 VIEW `v` AS select `p`.`id` AS `id` from (`pegawai` `p` join `log` `l`
on(`p`.`id` = `l`.`id`)) */;
/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;
"""

POSTGRESQL_DUMP = r"""--
-- PostgreSQL database dump
--

\restrict 9sWre5D2x4c2hhnGpnaiOCleJrQVj7Ct7rhLtJGlEUtnuerC6TJf9J3iCdpaBuj

SET statement_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
CREATE SCHEMA laporan;
ALTER SCHEMA laporan OWNER TO postgres;
CREATE EXTENSION IF NOT EXISTS "uuid-ossp" WITH SCHEMA public;
CREATE FUNCTION public.catat() RETURNS trigger
    LANGUAGE plpgsql
    AS $_$ BEGIN INSERT INTO laporan.log (pesan) VALUES ('baru $x$ ' || NEW.nama);
    RETURN NEW; END $_$;
CREATE TABLE public.pegawai (
    id integer NOT NULL,
    program text,
    "grant" integer
);
COMMENT ON TABLE public.pegawai IS 'Data pegawai; jangan \! hapus';
COPY public.pegawai (id, program, "grant") FROM stdin;
1	\\! touch /tmp/x; COPY x TO PROGRAM 'id'	1
2	baris\nbaru $$ \\.	2
\.
INSERT INTO public.pegawai VALUES (3, E'it\'s /* not a comment', 4);
SELECT pg_catalog.setval('public.pegawai_id_seq', 3, true);
CREATE TRIGGER t1 AFTER INSERT ON public.pegawai FOR EACH ROW EXECUTE FUNCTION public.catat();
GRANT SELECT ON TABLE public.pegawai TO PUBLIC;

\unrestrict 9sWre5D2x4c2hhnGpnaiOCleJrQVj7Ct7rhLtJGlEUtnuerC6TJf9J3iCdpaBuj
"""

VALUES = {"canary": "/tmp/pulih-canary", "live": "simpeg", "other": "keuangan"}


def inspect(dialect: str, text: str, piece: int = 7) -> list[Finding]:
    inspector = SqlInspector(dialect)
    data = text.encode()
    for start in range(0, len(data), piece):
        inspector.feed(data[start:start + piece])
    return inspector.findings()


@pytest.mark.parametrize(("dialect", "dump"), [("mariadb", MARIADB_DUMP),
                                               ("postgresql", POSTGRESQL_DUMP)])
@pytest.mark.parametrize("piece", [1, 7, 1 << 20])
def test_an_honest_dump_passes_however_it_is_cut(dialect: str, dump: str, piece: int) -> None:
    assert inspect(dialect, dump, piece) == []


def _named(dialect: str, dump: str, payload: Payload, piece: int) -> None:
    first = dump.count("\n") + 1
    text = payload.sql.format(**VALUES)
    found = inspect(dialect, dump + text + "\n", piece)
    assert found, payload.name
    lines = {f"baris {n}" for n in range(first, first + text.count("\n") + 1)}
    assert found[0].where in lines, (payload.name, found)
    assert payload.why in found[0].why, (payload.name, found)


@pytest.mark.parametrize("piece", [7, 1 << 20])
@pytest.mark.parametrize("payload", MARIADB, ids=[p.name for p in MARIADB])
def test_a_hostile_mariadb_dump_is_named_at_its_line(payload: Payload, piece: int) -> None:
    _named("mariadb", MARIADB_DUMP, payload, piece)


@pytest.mark.parametrize("piece", [7, 1 << 20])
@pytest.mark.parametrize("payload", POSTGRESQL, ids=[p.name for p in POSTGRESQL])
def test_a_hostile_postgresql_dump_is_named_at_its_line(payload: Payload, piece: int) -> None:
    _named("postgresql", POSTGRESQL_DUMP, payload, piece)


@pytest.mark.parametrize("piece", [1000, 1 << 16])
@pytest.mark.parametrize("dialect", ["mariadb", "postgresql"])
def test_a_statement_after_thousands_of_rows_is_named_at_its_exact_line(
        dialect: str, piece: int) -> None:
    if dialect == "mariadb":
        rows = "".join(f"INSERT INTO `pegawai` VALUES ({i},2,'O\\'Brien \\\\',-1.5e3,NULL),"
                       f"({i + 1},3,'x',0,NULL);\n" for i in range(0, 6000, 2))
    else:
        copy = "".join(f"{i}\tbaris \\\\. {i}\t{i}\r\n" for i in range(3000))
        rows = (f"COPY public.pegawai (id, program, \"grant\") FROM stdin;\n{copy}\\.\r\n"
                + "".join(f"INSERT INTO public.pegawai VALUES ({i}, 'it''s', -{i});\n"
                          for i in range(3000)))
    dump = MARIADB_DUMP if dialect == "mariadb" else POSTGRESQL_DUMP
    text = dump + rows + "\\! touch /tmp/pulih-canary\n" + rows
    line = text.count("\n", 0, text.index("pulih-canary")) + 1
    assert [f.where for f in inspect(dialect, text, piece)] == [f"baris {line}"]


def test_copy_data_is_data_but_what_follows_it_is_read_again() -> None:
    assert inspect("postgresql", POSTGRESQL_DUMP) == []
    tail = "COPY public.x (a) FROM stdin;\n\\! not a command, data\n\\.\n\\! touch /tmp/x\n"
    found = inspect("postgresql", POSTGRESQL_DUMP + tail)
    assert [f.where for f in found] == [f"baris {POSTGRESQL_DUMP.count(chr(10)) + 4}"]


def test_a_dump_cut_inside_a_string_is_refused() -> None:
    found = inspect("mariadb", MARIADB_DUMP + "INSERT INTO `pegawai` VALUES (9,1,'tidak")
    assert found and "terpotong" in found[0].why


def test_a_gzipped_dump_is_read_decompressed_member_after_member() -> None:
    bad = MARIADB_DUMP + "\\! touch /tmp/x\n"
    data = gzip.compress(bad[:200].encode()) + gzip.compress(bad[200:].encode())
    inspector = inspector_for("mariadb", "simpeg.sql.gz")
    assert isinstance(inspector, Gunzipped)
    for start in range(0, len(data), 100):
        inspector.feed(data[start:start + 100])
    assert [f.why for f in inspector.findings()] == ["perintah klien basis data, bukan SQL"]
    assert inspector_for("postgresql", "simpeg.dump") is None


def test_corrupt_gzip_is_named() -> None:
    inspector = Gunzipped(SqlInspector("mariadb"))
    inspector.feed(b"\x1f\x8b\x08\x00garbage")
    assert "tidak dapat dibuka" in inspector.findings()[-1].why


@pytest.mark.parametrize("archive", hostile_archives("/tmp/pulih-canary"),
                         ids=lambda a: a.name)
def test_an_archive_member_that_is_more_than_a_file_is_named(archive: object) -> None:
    from tests.support.hostile import Archive

    assert isinstance(archive, Archive)
    for compressed in (True, False):
        inspector = TarInspector()
        data = tar_of(archive, compressed)
        for start in range(0, len(data), 333):
            inspector.feed(data[start:start + 333])
        found = inspector.findings()
        if archive.why:
            assert found and archive.why in found[0].why, found
            assert found[0].where.startswith("anggota ")
        else:
            assert found == []


def test_a_file_that_is_not_an_archive_is_named() -> None:
    inspector = TarInspector()
    inspector.feed(b"bukan arsip " * 1000)
    assert "tidak dapat dibaca" in inspector.findings()[0].why
