"""Read a SQL dump the way the database client will, and name what a dump of one database
should never contain.

The checksums on the backup server prove a file is the one that was written, not that
what wrote it was friendly. So the dump is lexed as it streams past (strings, identifiers,
comments, MariaDB's `/*! ... */` code comments and DELIMITER, PostgreSQL's dollar quotes
and COPY data), each statement is reduced to its code, and the code is judged: an
allowlist of what mariadb-dump and pg_dump write, and a denylist for what may hide inside
a routine body. Client commands (`\\!`, `system`, `\\connect`, ...) are refused outright.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_LINE = 64 << 20
MAX_STATEMENT = 16 << 20
MAX_FINDINGS = 5


@dataclass(frozen=True)
class Finding:
    """One thing the dump should not contain: where, what, and why, in Indonesian."""

    where: str
    text: str
    why: str

    def sentence(self) -> str:
        return f"{self.where}: {self.text!r} ({self.why})" if self.text else \
            f"{self.where}: {self.why}"


def _quote_end(quote: str, backslash: bool) -> re.Pattern[str]:
    body = rf"(?:[^{quote}\\]|\\[\s\S]|{quote}{quote})*" if backslash \
        else rf"(?:[^{quote}]|{quote}{quote})*"
    return re.compile(body + quote + f"(?!{quote})")


_MY_ENDS = {"'": _quote_end("'", True), '"': _quote_end('"', True),
            "`": _quote_end("`", False)}
_PG_ENDS = {"'": _quote_end("'", False), "E'": _quote_end("'", True),
            '"': _quote_end('"', False)}
_BLOCK_END = re.compile(r"[\s\S]*?\*/")
_PG_COMMENT = re.compile(r"/\*|\*/")
_IDENT_CHAR = re.compile(r"[A-Za-z0-9_$\x80-\xff]")
_FIRST_WORD = re.compile(r"\s*([A-Za-z?]+)(?=\s|;|$)")
_DELIMITER = re.compile(r"\s*delimiter\s+(\S+)", re.IGNORECASE)

# The client's own commands, which it runs when a line starts with them.
_MY_NAMED = {"?", "clear", "connect", "edit", "ego", "exit", "go", "help", "nopager",
             "notee", "pager", "print", "prompt", "quit", "rehash", "source", "status",
             "system", "tee", "use", "charset", "warnings", "nowarning", "resetconnection"}

_IDENT = r"(?:`(?:[^`]|``)+`|[A-Z0-9_$]+)"
_QUALIFIED = _IDENT + r"\." + _IDENT

# What mariadb-dump writes, statement by statement (on the code with names neutralized).
_MY_ALLOWED = re.compile(
    r"(?:SET\b|SELECT\b|INSERT\b|REPLACE\b|LOCK TABLES?\b|UNLOCK TABLES?\b|ALTER TABLE\b|"
    r"ALTER SEQUENCE\b|START TRANSACTION\b|BEGIN\b|COMMIT\b|ROLLBACK\b|SAVEPOINT\b|"
    r"RELEASE SAVEPOINT\b|DO SETVAL\([^()]*\)$|"
    r"DROP (?:TEMPORARY )?(?:TABLE|VIEW|TRIGGER|PROCEDURE|FUNCTION|EVENT|INDEX|SEQUENCE)\b|"
    r"CREATE (?:OR REPLACE )?(?:(?:ALGORITHM=\w+|DEFINER=\S+(?: ?@ ?\S+)?|SQL SECURITY \w+|"
    r"TEMPORARY|UNIQUE|FULLTEXT|SPATIAL|AGGREGATE) )*"
    r"(?:TABLE|VIEW|TRIGGER|PROCEDURE|FUNCTION|EVENT|INDEX|SEQUENCE)\b)")

# What must not appear anywhere, routine and trigger bodies included.
_MY_KEYWORDS = [
    (re.compile(r"\bINTO (?:OUTFILE|DUMPFILE)\b"), "menulis berkas di server"),
    (re.compile(r"\bLOAD_FILE\b|\bLOAD (?:DATA|XML)\b"), "membaca berkas di server"),
    (re.compile(r"\b(?:CREATE|DROP|ALTER) (?:DATABASE|SCHEMA)\b"), "mengubah basis data lain"),
    (re.compile(r"^USE\b"), "berpindah ke basis data lain"),
    (re.compile(r"\b(?:GRANT|REVOKE)\b"), "mengubah hak akses"),
    (re.compile(r"\b(?:CREATE|ALTER|DROP|RENAME) (?:USER|ROLE)\b|"
                r"\bSET (?:PASSWORD|ROLE|DEFAULT ROLE)\b"), "mengubah akun"),
    (re.compile(r"\bSET (?:GLOBAL|PERSIST)\b|@@GLOBAL\."), "mengubah setelan server"),
    (re.compile(r"\b(?:INSTALL|UNINSTALL) (?:PLUGIN|SONAME)\b|\bSONAME\b|"
                r"\bSYS_(?:EXEC|EVAL)\b"), "memasang kode di server"),
    (re.compile(r"\bPREPARE\b|\bEXECUTE IMMEDIATE\b"),
     "SQL dinamis yang isinya tidak dapat diperiksa"),
    (re.compile(r"\bRENAME TABLE\b|\bALTER TABLE .*\bRENAME\b"), "memindahkan tabel"),
    (re.compile(r"\b(?:SHUTDOWN|KILL|CHANGE MASTER|CREATE SERVER|ALTER SERVER|FLUSH)\b"),
     "perintah administrasi server"),
    (re.compile(r"\bENGINE=(?:CONNECT|FEDERATED|FEDERATEDX|SPIDER)\b"),
     "tabel yang membaca berkas atau server lain"),
    (re.compile(r"\b(?:DATA|INDEX) DIRECTORY\b"), "menulis di luar folder data"),
]

# Names: other databases, the system's, and Pulih's own copies (the one kept for rollback).
_MY_NAMES = [
    (re.compile(r"\bPULIH_\w+"), "menyentuh salinan kerja Pulih"),
    (re.compile(r"(?:^|[^A-Z0-9_$`])`?(?:MYSQL|INFORMATION_SCHEMA|PERFORMANCE_SCHEMA|SYS)`?\."),
     "menyentuh basis data sistem"),
    (re.compile(_QUALIFIED + r"\." + _IDENT), "menyebut tabel di basis data lain"),
    (re.compile(r"\b(?:INTO|FROM|JOIN|UPDATE|TABLE|TABLES|TRUNCATE|CALL|REFERENCES|VIEW|"
                r"PROCEDURE|FUNCTION|EVENT|EXISTS|TRIGGER) (?!`?NEW`?\.|`?OLD`?\.)"
                + _QUALIFIED + r"|\bON (?!`?NEW`?\.|`?OLD`?\.)" + _QUALIFIED + r" FOR EACH\b"),
     "menyebut tabel di basis data lain"),
]

# What pg_dump writes, statement by statement.
_PG_ALLOWED = re.compile(
    r"(?:SET\b|RESET\b|INSERT\b|COMMENT ON\b|BEGIN\b|COMMIT\b|START TRANSACTION\b|"
    r"SECURITY LABEL\b|REFRESH MATERIALIZED VIEW\b|GRANT\b|REVOKE\b|"
    r"SELECT PG_CATALOG\.(?:SET_CONFIG|SETVAL|LO_CREATE|LO_OPEN|LOWRITE|LO_CLOSE)\(|"
    r"CREATE (?:OR REPLACE )?(?:(?:UNIQUE|UNLOGGED|TEMPORARY|TEMP|CONSTRAINT|MATERIALIZED|"
    r"RECURSIVE|DEFAULT) )*(?:TABLE|SEQUENCE|INDEX|VIEW|FUNCTION|PROCEDURE|TRIGGER|TYPE|"
    r"DOMAIN|SCHEMA|AGGREGATE|RULE|POLICY|COLLATION|TEXT SEARCH|STATISTICS|OPERATOR|CAST|"
    r"CONVERSION|EXTENSION)\b|"
    r"ALTER (?:TABLE|SEQUENCE|INDEX|VIEW|MATERIALIZED VIEW|FUNCTION|PROCEDURE|TYPE|DOMAIN|"
    r"SCHEMA|AGGREGATE|DEFAULT PRIVILEGES|TEXT SEARCH|COLLATION|STATISTICS|OPERATOR|"
    r"LARGE OBJECT|POLICY|TRIGGER|RULE|CONVERSION)\b|"
    r"COPY [^ (]+(?:\([^)]*\))? FROM STDIN$)")

_PG_ROUTINE = re.compile(r"CREATE (?:OR REPLACE )?(?:FUNCTION|PROCEDURE)\b")

_PG_KEYWORDS = [
    (re.compile(r"\b(?:TO|FROM) PROGRAM\b"), "menjalankan program di server"),
    (re.compile(r"\bLO_(?:IMPORT|EXPORT)\b|\bPG_READ_(?:BINARY_)?FILE\b|\bPG_LS_\w+|"
                r"\bPG_STAT_FILE\b|\bPG_FILE_\w+|\bCOPY\b[^;]*\b(?:TO|FROM) E?'"),
     "membaca atau menulis berkas di server"),
    (re.compile(r"\bDBLINK\w*|\bPOSTGRES_FDW\b"), "menyambung ke basis data lain"),
    (re.compile(r"\bALTER SYSTEM\b"), "mengubah setelan server"),
    (re.compile(r"\b(?:CREATE|ALTER|DROP) (?:DATABASE|ROLE|USER|GROUP|TABLESPACE|SUBSCRIPTION|"
                r"PUBLICATION|SERVER|FOREIGN DATA WRAPPER|USER MAPPING|EVENT TRIGGER|"
                r"(?:OR REPLACE )?(?:TRUSTED |PROCEDURAL )*LANGUAGE)\b"),
     "mengubah server di luar basis data ini"),
    (re.compile(r"^LOAD\b|\bLOAD ''"), "memuat pustaka ke server"),
    (re.compile(r"\bSET (?:LOCAL |SESSION )?(?:ROLE|SESSION AUTHORIZATION)\b|"
                r"\bRESET (?:ROLE|SESSION AUTHORIZATION|ALL)\b|\bSET_CONFIG\(''ROLE"),
     "berganti peran"),
    (re.compile(r"\bSECURITY DEFINER\b"), "fungsi yang berjalan dengan hak pemiliknya"),
    (re.compile(r"\bEXECUTE\b(?! (?:FUNCTION|PROCEDURE)\b)"),
     "SQL dinamis yang isinya tidak dapat diperiksa"),
    (re.compile(r"^COPY\b(?!.* FROM STDIN$)"), "COPY selain dari data dump"),
    (re.compile(r"^(?:GRANT|REVOKE) (?!.*\bON\b)"), "mengubah keanggotaan peran"),
    (re.compile(r"^(?:GRANT|REVOKE) .*\bON (?:DATABASE|TABLESPACE|FOREIGN|LANGUAGE|SCHEMA "
                r"PG_CATALOG)\b"), "mengubah hak di luar basis data ini"),
]
_PG_NAMES = re.compile(r"\bPULIH_\w+")

# A whole line that is one statement of plain rows, as the dump tools write them (their
# key words in capitals), is accepted by one match; anything else, lower-case key words or
# an E-string included, takes the slow path. The shape is what keeps this fast
# (restore.inspect_sql is most of the CPU a streamed restore adds on its host): a string is
# `'[^']*'`, which `re` runs as a tight loop, so MariaDB's escaped backslashes and quotes
# are first turned into NULs (text like any other inside a string; outside one the shape
# refuses them, as the server would have read them as something other than a value), and
# values between strings are one run of characters, not one match per character.
_MY_ROW_SHAPE = re.compile(
    rb"INSERT INTO `(?!(?i:pulih_))[A-Za-z0-9_$]+`(?: \((?:`[A-Za-z0-9_$ ]+`(?:, ?)?)*\))? "
    rb"VALUES (?:'[^']*+'|[(,) 0-9.eE+]++|-(?!-)|NULL|_binary)*+;")
_PG_ROW_SHAPE = re.compile(
    rb"INSERT INTO (?!(?i:pulih_))[A-Za-z0-9_.\"]+(?: \([A-Za-z0-9_\", ]*\))? VALUES "
    rb"(?:(?<![eE])'[^']*+'|[(,) 0-9.eE+]++|-(?!-)|NULL|true|false)*+;")


def _my_plain_rows(data: bytes, start: int, end: int) -> bool:
    if data.find(b"\\", start, end) >= 0:
        line = data[start:end].replace(b"\\\\", b"\0\0").replace(b"\\'", b"\0\0")
        return _MY_ROW_SHAPE.fullmatch(line) is not None
    return _MY_ROW_SHAPE.fullmatch(data, start, end) is not None


def _pg_plain_rows(data: bytes, start: int, end: int) -> bool:
    return _PG_ROW_SHAPE.fullmatch(data, start, end) is not None


# pg_dump --inserts writes a short line per row: a run of them is matched at once. (Not
# so for MariaDB, whose backslashes must be read first; its lines are long anyway.)
_PG_ROW_LINES = re.compile(b"(?:" + _PG_ROW_SHAPE.pattern + b"\n)++")


_ROWS = re.compile(r"\s*(?:INSERT|REPLACE)\s+(?:INTO\s+)?([^\s(]+)\s*(?:\([^)]*\)\s*)?VALUES\b")
_VALUES = re.compile(r"[\s0-9.+\-(),']+|\b(?:NULL|TRUE|FALSE|DEFAULT|_BINARY)\b|\b0X[0-9A-F]*\b|"
                     r"\b[XB]''")

_PG_LANGUAGES = {"SQL", "PLPGSQL"}
_PG_EXTENSIONS = {"PLPGSQL", "PGCRYPTO", "UUID-OSSP", "PG_TRGM", "CITEXT", "HSTORE",
                  "UNACCENT", "POSTGIS", "POSTGIS_TOPOLOGY", "BTREE_GIN", "BTREE_GIST",
                  "FUZZYSTRMATCH", "TABLEFUNC", "INTARRAY", "LTREE", "CUBE", "EARTHDISTANCE",
                  "PG_STAT_STATEMENTS", "ISN", "SEG", "TSM_SYSTEM_ROWS", "TSM_SYSTEM_TIME"}
_MY_CHARSETS = {"UTF8", "UTF8MB3", "UTF8MB4", "LATIN1", "BINARY", "ASCII", "DEFAULT"}


class SqlInspector:
    """Feed the dump's bytes in any pieces; `findings()` says what should not be there."""

    def __init__(self, dialect: str) -> None:
        if dialect not in ("mariadb", "postgresql"):
            raise ValueError(dialect)
        self.mysql = dialect == "mariadb"
        self.ends = _MY_ENDS if self.mysql else _PG_ENDS
        self.quote = "`" if self.mysql else '"'  # how a name is quoted
        self._plain_rows = _my_plain_rows if self.mysql else _pg_plain_rows
        self.line = 0
        self.mode = "code"  # code, a quote key of self.ends, block, dollar, copy
        self.tag = ""
        self.depth = 0
        self.delimiter = ";"
        self._sig = self._signals()
        self.code: list[str] = []
        self.code_size = 0
        self.has_code = False
        self.copy_next = False
        self.literals: list[str] = []
        self.literal_size = 0
        self.start = 1
        self.pending = b""
        self.found: list[Finding] = []
        self.saved_modes: set[str] = set()
        self.too_many = False

    # -- feeding --------------------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        # Lines are found and judged where they lie in `data`, not split out: most of a dump
        # is rows and COPY data, judged as bytes without a copy (see _plain_rows, _copy_end).
        if self.too_many:
            return
        pos, end = 0, len(data)
        if self.pending:
            nl = data.find(b"\n")
            if nl < 0:
                self._hold(self.pending + data)
                return
            line = self.pending + data[:nl + 1]
            self.pending, pos = b"", nl + 1
            self._one(line, 0, len(line) - 1)
        while pos < end and not self.too_many:
            if self.mode == "copy" and not self.copy_next:
                pos = self._copy_end(data, pos)
                continue
            if not self.mysql and self.mode == "code" and not self.has_code and \
                    not self.copy_next:
                rows = _PG_ROW_LINES.match(data, pos)
                if rows:
                    self.line += data.count(b"\n", pos, rows.end())
                    pos = rows.end()
                    continue
            nl = data.find(b"\n", pos)
            if nl < 0:
                self._hold(data[pos:])
                return
            self._one(data, pos, nl)
            pos = nl + 1

    def _hold(self, rest: bytes) -> None:
        """The start of a line whose end is still to come."""
        if len(rest) > MAX_LINE:
            self._flag("baris terlalu panjang", f"lebih dari {MAX_LINE >> 20} MiB", self.line)
            rest = b""
        self.pending = rest

    def _one(self, data: bytes, start: int, nl: int) -> None:
        """The line data[start:nl], `nl` being its line break."""
        if self.mode == "copy" and not self.copy_next:
            self.line += 1
            if data.startswith(b"\\.", start) and not data[start + 2:nl].strip(b"\r"):
                self.mode = "code"
            return
        if self.mode == "code" and not self.has_code and not self.copy_next and \
                self.delimiter == ";" and self._plain_rows(data, start, nl):
            self.line += 1
            return
        self._line(data[start:nl + 1].decode("latin-1"))

    def _copy_end(self, data: bytes, pos: int) -> int:
        """COPY data from `pos`: where it ends (after its `\\.` line), or the end of `data`
        with an unfinished last line held back. Only the lines are counted."""
        at = pos
        while True:
            mark = data.find(b"\\.", at)
            if mark < 0:
                break
            if mark == pos or data[mark - 1] == 0x0A:
                after = mark + 2
                while after < len(data) and data[after] == 0x0D:
                    after += 1
                if after == len(data):  # the line may still be the end: decide with the rest
                    self.line += data.count(b"\n", pos, mark)
                    self._hold(data[mark:])
                    return len(data)
                if data[after] == 0x0A:
                    self.line += data.count(b"\n", pos, after + 1)
                    self.mode = "code"
                    return after + 1
            at = mark + 1
        last = data.rfind(b"\n", pos)
        self.line += data.count(b"\n", pos, last + 1)
        self._hold(data[last + 1:])
        return len(data)

    def so_far(self) -> list[Finding]:
        return list(self.found)

    def findings(self) -> list[Finding]:
        if self.pending:
            self._line(self.pending.decode("latin-1"))
            self.pending = b""
        if self.mode not in ("code", "copy"):
            self._flag("akhir dump", "teks atau komentar tidak ditutup; dump terpotong",
                       self.start)
        elif self.mode == "code" and self.has_code:
            self._statement()
        return self.found

    # -- lexing ---------------------------------------------------------------------------

    def _signals(self) -> re.Pattern[str]:
        """The marks the slow path stops at; also builds the fast path for this delimiter."""
        if self.mysql:
            stop = re.escape(self.delimiter[0])
            self._fast = re.compile(
                rf"(?:[^'\"`\\#/*\n{stop}-]+|'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\"|"
                rf"`[^`\n]*`|-(?!-\s)|/(?!\*)|\*(?!/))*+")
            self._blank = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|`[^`]*`")
            return re.compile(r"'|\"|`|/\*|\*/|--(?=\s)|#|\\|" + re.escape(self.delimiter))
        self._fast = re.compile(
            r"(?:[^'\"\\;/$\n\-]+|(?<![A-Za-z0-9_$\x80-\xff])'[^'\n]*'|\"[^\"\n]*\"|"
            r"-(?!-)|/(?!\*))*+")
        self._blank = re.compile(r"'[^']*'|\"[^\"]*\"")
        return re.compile(r"'|\"|/\*|--|\\|;|\$(?:[A-Za-z_\x80-\xff][A-Za-z0-9_\x80-\xff]*)?\$")

    def _unquote(self, found: re.Match[str]) -> str:
        """A quoted piece met on the fast path: names stay, strings become a placeholder."""
        piece = found.group()
        if piece[0] in "`\"" and piece[0] == self.quote:
            return piece
        if self.literal_size < 1 << 16:
            self._literal(piece[1:-1])
        return "''"

    def _line(self, text: str) -> None:
        self.line += 1
        if self.copy_next:
            self.mode, self.copy_next = "copy", False
        if self.mode == "copy":
            if text.rstrip("\r\n") == "\\.":
                self.mode = "code"
            return
        pos, end = 0, len(text)
        if self.mode == "code" and not self.has_code:
            pos = self._line_start(text)
        while pos < end and not self.too_many:
            pos = self._code_step(text, pos) if self.mode == "code" else \
                self._inside_step(text, pos)

    def _line_start(self, text: str) -> int:
        """Commands the client takes from the start of a line before any statement."""
        if self.mysql:
            found = _DELIMITER.match(text)
            if found:
                self.delimiter = found.group(1)
                if "\\" in self.delimiter:
                    self._flag(text.strip(), "pembatas perintah yang tidak lazim", self.line)
                self._sig = self._signals()
                return len(text)
            word = _FIRST_WORD.match(text)
            if word and word.group(1).lower() in _MY_NAMED:
                why = "berpindah ke basis data lain" if word.group(1).lower() in \
                    ("use", "connect") else "perintah klien mysql, bukan SQL"
                self._flag(text.strip()[:120], why, self.line)
                return len(text)
        return 0

    def _code_step(self, text: str, pos: int) -> int:
        run = self._fast.match(text, pos)
        if run is not None and run.end() > pos:
            self._code(self._blank.sub(self._unquote, text[pos:run.end()]))
            pos = run.end()
            if pos >= len(text):
                return pos
        found = self._sig.search(text, pos)
        stop = found.start() if found else len(text)
        self._code(text[pos:stop])
        if found is None:
            return len(text)
        mark, after = found.group(), found.end()
        if mark == self.delimiter or (not self.mysql and mark == ";"):
            self._statement()
            return after
        if mark == "\\":
            return self._backslash(text, found.start())
        if mark in ("--", "#") or mark.startswith("--"):
            return len(text)
        if mark == "*/":
            self._code(" ")
            return after
        if mark == "/*":
            if self.mysql and (text.startswith("!", after) or text.startswith("M!", after)):
                digits = re.match(r"M?!\d*", text[after:])
                self._code(" ")
                return after + (digits.end() if digits else 0)
            self.mode, self.depth = "block", 1
            return after
        if mark.startswith("$"):
            if found.start() > 0 and _IDENT_CHAR.match(text[found.start() - 1]):
                self._code(mark[:-1])  # a `$` inside an identifier, not a quote
                return after - 1
            self.mode, self.tag = "dollar", mark
            self._code(" '' ")
            return after
        if mark == "'" and not self.mysql and found.start() > 0 and \
                text[found.start() - 1] in "eE" and \
                (found.start() < 2 or not _IDENT_CHAR.match(text[found.start() - 2])):
            self.mode = "E'"
        else:
            self.mode = mark
        self._code(f" {mark}" if mark == self.quote else " '' ")
        return after

    def _inside_step(self, text: str, pos: int) -> int:
        if self.mode == "block":
            if self.mysql:
                done = _BLOCK_END.match(text, pos)
                if done is None:
                    return len(text)
                self.mode = "code"
                self._code(" ")
                return done.end()
            for mark in _PG_COMMENT.finditer(text, pos):
                self.depth += 1 if mark.group() == "/*" else -1
                if self.depth == 0:
                    self.mode = "code"
                    self._code(" ")
                    return mark.end()
            return len(text)
        if self.mode == "dollar":
            close = text.find(self.tag, pos)
            if close < 0:
                self._literal(text[pos:])
                return len(text)
            self._literal(text[pos:close])
            self.mode = "code"
            return close + len(self.tag)
        done = self.ends[self.mode].match(text, pos)
        if done is None:
            self._literal(text[pos:])
            return len(text)
        self._literal(text[pos:done.end() - 1])
        if self.mode == self.quote:
            self._code(text[pos:done.end()] + " ")
        self.mode = "code"
        return done.end()

    def _backslash(self, text: str, at: int) -> int:
        rest = text[at:].rstrip("\r\n")
        command = re.match(r"\\([A-Za-z!.?\-]*)", rest)
        name = command.group(1) if command else ""
        if self.mysql and name[:1] == "-":  # mariadb-dump's own "enable the sandbox" line
            return len(text)
        if not self.mysql and name in ("restrict", "unrestrict"):  # pg_dump 17.6 and later
            return len(text)
        self._flag(rest[:120], "perintah klien basis data, bukan SQL", self.line)
        return len(text)

    def _code(self, piece: str) -> None:
        if not piece:
            return
        if not self.has_code and piece.strip():
            self.start, self.has_code = self.line, True
        self.code.append(piece)
        self.code_size += len(piece)
        if self.code_size > MAX_STATEMENT:
            self._flag("pernyataan terlalu panjang", f"lebih dari {MAX_STATEMENT >> 20} MiB",
                       self.start)
            self.code, self.code_size = [], 0

    def _literal(self, piece: str) -> None:
        if self.literal_size < MAX_STATEMENT:
            self.literals.append(piece)
            self.literal_size += len(piece)

    # -- judging --------------------------------------------------------------------------

    def _statement(self) -> None:
        raw = "".join(self.code)
        literals = "".join(self.literals)
        line, self.code, self.code_size, self.has_code = self.start, [], 0, False
        self.literals, self.literal_size = [], 0
        upper = raw.upper()
        rows = _ROWS.match(upper)
        if rows:
            # Rows of plain values are most of a dump: judged by their table's name alone.
            data = _VALUES.sub("", upper[rows.end():])
            name = rows.group(1)
            if not data.strip(" ;") and "PULIH_" not in name and \
                    (not self.mysql or "." not in name):
                return
            upper = upper[:rows.end()] + " " + data
        code = re.sub(r"\s*([.=(])\s*", r"\1", " ".join(upper.split())).strip()
        if not code:
            return
        shown = " ".join(raw.split())[:120]
        # Quoted names keep their text for the name rules; the keyword rules see a neutral
        # name instead, so a column called `grant` is not an order to grant.
        bare = re.sub(r"`(?:[^`]|``)*`" if self.mysql else r'"(?:[^"]|"")*"', "`N`", code)
        why = self._judge_mariadb(code, bare, literals.upper()) if self.mysql else \
            self._judge_postgresql(code, bare, " ".join(literals.upper().split()))
        if why:
            self._flag(shown, why, line)

    def _judge_mariadb(self, code: str, bare: str, literals: str) -> str | None:
        for pattern, why in _MY_KEYWORDS:
            if pattern.search(bare):
                return why
        for pattern, why in _MY_NAMES:
            if pattern.search(code):
                return why
        if not _MY_ALLOWED.match(bare):
            return "bukan pernyataan dump satu basis data"
        if bare.startswith("SET"):
            return self._mariadb_set(bare, literals)
        return None

    def _mariadb_set(self, bare: str, literals: str) -> str | None:
        """Settings that would make the server read text differently from this lexer."""
        if "NO_BACKSLASH_ESCAPES" in literals + bare:
            return "mengubah cara membaca teks"
        for name, value in re.findall(r"(@?@?[A-Z0-9_.]+)=([^, ]+)", bare):
            name = name.removeprefix("@@").removeprefix("SESSION.")
            if name == "SQL_MODE" and value != "''" and value.removeprefix("@") not in \
                    self.saved_modes and value != "@@SQL_MODE":
                return "mengubah cara membaca teks"
            if name.startswith("@"):
                if value in ("@@SQL_MODE", "@@SESSION.SQL_MODE"):
                    self.saved_modes.add(name[1:])
                else:
                    self.saved_modes.discard(name[1:])
        for charset in re.findall(r"(?:\bNAMES |CHARACTER SET |CHARSET |CHARACTER_SET_CLIENT=|"
                                  r"CHARACTER_SET_CONNECTION=)([A-Z0-9_@']+)", bare):
            if charset.startswith("@"):
                continue
            words = re.findall(r"\w+", literals) if charset == "''" else [charset]
            if not words or any(w not in _MY_CHARSETS for w in words):
                return "set karakter yang dapat mengelabui pembacaan teks"
        return None

    def _judge_postgresql(self, code: str, bare: str, literals: str) -> str | None:
        routine = _PG_ROUTINE.match(bare)
        for pattern, why in _PG_KEYWORDS:
            if pattern.search(bare) or (routine and pattern.search(literals)):
                return why
        if _PG_NAMES.search(code) or (routine and _PG_NAMES.search(literals)):
            return "menyentuh salinan kerja Pulih"
        if not _PG_ALLOWED.match(bare):
            return "bukan pernyataan dump satu basis data"
        if "STANDARD_CONFORMING_STRINGS" in bare + literals and \
                not re.fullmatch(r"SET STANDARD_CONFORMING_STRINGS(?:=| TO )ON", bare):
            return "mengubah cara membaca teks"
        if routine:
            languages = re.findall(r"\bLANGUAGE ?([A-Z0-9_`']+)", bare)
            if not languages or any(lang not in _PG_LANGUAGES for lang in languages):
                return "fungsi dalam bahasa yang dapat menjalankan program"
        if bare.startswith("CREATE EXTENSION"):
            name = re.match(r'CREATE EXTENSION (?:IF NOT EXISTS )?"?([A-Z0-9_\-]+)', code)
            if not name or name.group(1) not in _PG_EXTENSIONS:
                return "ekstensi yang tidak lazim dalam dump aplikasi"
        if bare.startswith("COPY"):
            self.copy_next = True
        return None

    def _flag(self, text: str, why: str, line: int) -> None:
        if len(self.found) >= MAX_FINDINGS:
            self.too_many = True
            return
        self.found.append(Finding(f"baris {line}", text, why))

