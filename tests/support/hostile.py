"""Hostile backups: what a dump or an archive written by a hostile job could carry, each
with the reason the team should read. `{canary}` is a file the payload would create,
`{live}` the live database, `{other}` another database on the same server."""

from __future__ import annotations

import io
import tarfile
from dataclasses import dataclass


@dataclass(frozen=True)
class Payload:
    name: str
    sql: str
    why: str


MARIADB = [
    Payload("shell escape", "\\! touch {canary}", "perintah klien"),
    Payload("system command", "system touch {canary}", "perintah klien mysql"),
    Payload("pager to a program", "pager touch {canary}\nSELECT 1;", "perintah klien mysql"),
    Payload("tee to a file", "\\T {canary}\nSELECT 1;", "perintah klien"),
    Payload("select into outfile", "SELECT 'x' INTO OUTFILE '{canary}';", "menulis berkas"),
    Payload("dumpfile inside a code comment",
            "/*!50000 SELECT 0x41 INTO DUMPFILE '{canary}' */;", "menulis berkas"),
    Payload("USE inside a code comment",
            "/*!40000 USE `{other}`*/;\nCREATE TABLE direbut (x INT);", "basis data lain"),
    Payload("indented USE", "   USE {other};\nCREATE TABLE direbut (x INT);",
            "basis data lain"),
    Payload("USE after another statement on the line",
            "SELECT 1; USE {other}; CREATE TABLE direbut (x INT);", "basis data lain"),
    Payload("CREATE SCHEMA", "CREATE SCHEMA {other}_baru;", "mengubah basis data lain"),
    Payload("DROP DATABASE of the live one", "DROP DATABASE `{live}`;",
            "mengubah basis data lain"),
    Payload("DROP DATABASE inside a code comment",
            "/*!32312 DROP DATABASE IF EXISTS `{live}`*/;", "mengubah basis data lain"),
    Payload("grant", "GRANT ALL ON *.* TO 'pulih_tamu'@'%' IDENTIFIED BY 'x';",
            "mengubah hak akses"),
    Payload("account change", "ALTER USER 'root'@'localhost' IDENTIFIED BY 'x';",
            "mengubah akun"),
    Payload("trigger writing to another database",
            "DELIMITER ;;\nCREATE TRIGGER jahat AFTER INSERT ON pegawai FOR EACH ROW "
            "INSERT INTO `{other}`.`catatan` VALUES (2) ;;\nDELIMITER ;",
            "tabel di basis data lain"),
    Payload("procedure aimed at the rollback copy",
            "DELIMITER ;;\nCREATE PROCEDURE rusak() BEGIN DELETE FROM pulih_rb_7.pegawai; "
            "END ;;\nDELIMITER ;\nCALL rusak();", "salinan kerja Pulih"),
    Payload("event writing to another database",
            "CREATE EVENT tiap_menit ON SCHEDULE EVERY 1 MINUTE DO "
            "UPDATE {other}.catatan SET x = 3;", "tabel di basis data lain"),
    Payload("load data", "LOAD DATA INFILE '/etc/passwd' INTO TABLE pegawai;",
            "membaca berkas"),
    Payload("system tables", "INSERT INTO mysql.global_priv VALUES ('%', 'x', '{{}}');",
            "basis data sistem"),
    Payload("backslashes turned off", "SET sql_mode = 'NO_BACKSLASH_ESCAPES';",
            "cara membaca teks"),
    Payload("a character set that hides quotes", "SET NAMES gbk;", "set karakter"),
    Payload("dynamic SQL", "PREPARE s FROM 'DROP DATABASE x'; EXECUTE s;", "SQL dinamis"),
    Payload("escape hidden after an escaped backslash",
            "INSERT INTO pegawai VALUES (9, 'a\\\\', 1, 'x'); \\! touch {canary}",
            "perintah klien"),
    Payload("comments do not nest", "/* /* */ \\! touch {canary} */", "perintah klien"),
    Payload("escape after a row on the same line",
            "INSERT INTO `pegawai` VALUES (9,1,'x');\\! touch {canary}", "perintah klien"),
    Payload("escape between rows after an escaped backslash",
            "INSERT INTO `pegawai` VALUES (9,'a\\\\'),(\\! touch {canary} #'),(1);",
            "perintah klien"),
    Payload("table reading a file",
            "CREATE TABLE baca (x TEXT) ENGINE=CONNECT TABLE_TYPE=DOS "
            "FILE_NAME='/etc/passwd';", "membaca berkas atau server lain"),
]

POSTGRESQL = [
    Payload("shell escape", "\\! touch {canary}", "perintah klien"),
    Payload("output to a pipe", "\\o | touch {canary}\nSELECT 1;", "perintah klien"),
    Payload("connect to another database", "\\connect {other}\nCREATE TABLE direbut (x int);",
            "perintah klien"),
    Payload("connect after a statement on the line",
            "SELECT pg_catalog.set_config('search_path', '', false); \\c {other}",
            "perintah klien"),
    Payload("copy to program", "COPY (SELECT 1) TO PROGRAM 'touch {canary}';",
            "menjalankan program"),
    Payload("copy from program", "COPY public.pegawai FROM PROGRAM 'id';",
            "menjalankan program"),
    Payload("copy to a file", "COPY public.pegawai TO '{canary}';", "berkas di server"),
    Payload("create database", "CREATE DATABASE {other}_baru;", "di luar basis data ini"),
    Payload("drop the live database", "DROP DATABASE {live};", "di luar basis data ini"),
    Payload("rename the live database", "ALTER DATABASE {live} RENAME TO {live}_lama;",
            "di luar basis data ini"),
    Payload("role made superuser", "CREATE ROLE pulih_tamu SUPERUSER LOGIN;",
            "di luar basis data ini"),
    Payload("role membership", "GRANT pg_execute_server_program TO PUBLIC;",
            "keanggotaan peran"),
    Payload("function that runs programs",
            "CREATE FUNCTION public.jahat() RETURNS void LANGUAGE plpgsql AS $$ BEGIN "
            "COPY (SELECT 1) TO PROGRAM 'touch {canary}'; END $$;\nSELECT public.jahat();",
            "menjalankan program"),
    Payload("untrusted language",
            "CREATE FUNCTION public.py() RETURNS int LANGUAGE plpython3u AS $$\n"
            "import os\nos.system('touch {canary}')\n$$;", "bahasa"),
    Payload("C function", "CREATE FUNCTION public.sys(cstring) RETURNS int AS "
            "'/lib/x86_64-linux-gnu/libc.so.6', 'system' LANGUAGE c STRICT;", "bahasa"),
    Payload("DO block", "DO $$ BEGIN EXECUTE 'COPY (SELECT 1) TO PROGRAM ''touch "
            "{canary}'''; END $$;", "bukan pernyataan dump"),
    Payload("read a server file", "SELECT pg_read_file('/etc/passwd');", "berkas di server"),
    Payload("switch role", "SET ROLE postgres;", "berganti peran"),
    Payload("backslashes turned on in strings", "SET standard_conforming_strings = off;",
            "cara membaca teks"),
    Payload("escape hidden after an E-string",
            "INSERT INTO public.pegawai (id) VALUES (E'x\\'');\n\\! touch {canary}",
            "perintah klien"),
    Payload("escape hidden after a dollar inside a name",
            "CREATE TABLE public.a$b$ (x int); \\! touch {canary}", "perintah klien"),
    Payload("security definer", "CREATE FUNCTION public.f() RETURNS int LANGUAGE sql "
            "SECURITY DEFINER AS $$ SELECT 1 $$;", "hak pemiliknya"),
    Payload("dblink", "CREATE EXTENSION dblink;", "basis data lain"),
    Payload("escape after a row on the same line",
            "INSERT INTO public.pegawai VALUES (9, 'x', 1);\\! touch {canary}",
            "perintah klien"),
    Payload("statement behind an E-string on a row's line",
            "INSERT INTO public.pegawai VALUES (E'\\'', 1); COPY (SELECT 1) TO PROGRAM "
            "$$touch {canary}$$; --');", "menjalankan program"),
]


@dataclass(frozen=True)
class Member:
    name: str
    kind: bytes = tarfile.REGTYPE
    mode: int = 0o644
    data: bytes = b""
    link: str = ""


@dataclass(frozen=True)
class Archive:
    name: str
    members: tuple[Member, ...]
    why: str  # empty: a legitimate archive, restored


def hostile_archives(canary: str) -> list[Archive]:
    page = Member("index.php", data=b"<?php echo 'baik';")
    return [
        Archive("setuid binary", (page, Member("bin/su", mode=0o4755, data=b"\x7fELF")),
                "bit setuid/setgid"),
        Archive("device node", (page, Member("dev/mem", kind=tarfile.CHRTYPE, mode=0o666)),
                "berkas perangkat"),
        Archive("FIFO", (page, Member("antrian", kind=tarfile.FIFOTYPE)), "FIFO"),
        Archive("hard link out of the tree", (page, Member("sandi", kind=tarfile.LNKTYPE,
                                                           link="/etc/passwd")),
                "tautan keras"),
        Archive("hard link climbing out", (page, Member("sandi", kind=tarfile.LNKTYPE,
                                                        link="../../etc/passwd")),
                "tautan keras"),
        Archive("absolute symlink", (page, Member("sandi", kind=tarfile.SYMTYPE,
                                                  link="/etc/passwd")),
                "tautan simbolik mutlak"),
        Archive("symlink to /dev/zero", (page, Member("nol", kind=tarfile.SYMTYPE,
                                                      link="/dev/zero")),
                "tautan simbolik mutlak"),
        Archive("symlink climbing out", (page, Member("naik", kind=tarfile.SYMTYPE,
                                                      link="../../..")),
                "ke luar folder aplikasi"),
        Archive("symlink climbing out through another link",
                (page, Member("sini", kind=tarfile.SYMTYPE, link="."),
                 Member("naik", kind=tarfile.SYMTYPE, link="sini/../x")),
                "ke luar folder aplikasi"),
        Archive("file written through a link",
                (page, Member("atas", kind=tarfile.SYMTYPE, link=".."),
                 Member("atas/" + canary.rsplit("/", 1)[-1], data=b"owned")),
                "ke luar folder aplikasi"),
        Archive("world-writable folder (extracted without the bit)",
                (page, Member("storage", kind=tarfile.DIRTYPE, mode=0o777),
                 Member("storage/log.txt", mode=0o666, data=b"log")), ""),
        Archive("folder symlink inside the tree (Laravel's public/storage)",
                (page, Member("storage/app/public/foto.jpg", data=b"jpg"),
                 Member("public/storage", kind=tarfile.SYMTYPE,
                        link="../storage/app/public"),
                 Member("kosong", kind=tarfile.SYMTYPE, link="tidak-ada")), ""),
    ]


def tar_of(archive: Archive, compressed: bool = True) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz" if compressed else "w") as out:
        for m in archive.members:
            info = tarfile.TarInfo(m.name)
            info.type, info.mode, info.linkname = m.kind, m.mode, m.link
            info.size = len(m.data) if m.kind == tarfile.REGTYPE else 0
            out.addfile(info, io.BytesIO(m.data) if info.size else None)
    return buffer.getvalue()
