"""MariaDB: load the dump into a new database, check it, then swap tables in one RENAME."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from restore.errors import BackupInvalid, CommandFailed, RestoreError
from restore.recipes import RunNames, Staged, TargetSpec
from restore.recipes.database import DatabaseRecipe
from restore.safety import PIPE, Op, identifier
from restore.ssh import Remote


def quote_ident(name: str) -> str:
    """A MariaDB identifier in backticks, with backticks doubled."""
    return "`" + name.replace("`", "``") + "`"


def quote_text(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


SPREAD = 4  # connections a count or a checksum of a database's tables is spread over

# DEFINER clauses where mariadb-dump writes them (trigger, view, event and routine heads),
# never on a line of rows (INSERT or, with --replace, REPLACE).
_NO_DEFINER = ("/^INSERT INTO \\|^REPLACE INTO /!{"
               "s#/\\*!5001[37] DEFINER=`[^`]*`@`[^`]*`\\*/##g;"
               "s#/\\*!50013 DEFINER=`[^`]*`@`[^`]*` #/*!50013 #g;"
               "s#/\\*!50117 DEFINER=`[^`]*`@`[^`]*`\\*/##g;"
               "s#^CREATE DEFINER=`[^`]*`@`[^`]*` #CREATE #}")


class MariaDBRecipe(DatabaseRecipe):
    kind = "mariadb"

    def __init__(self, spec: TargetSpec) -> None:
        if not spec.database:
            raise BackupInvalid("Sistem MariaDB tanpa nama basis data di inventaris.")
        self.spec = spec
        self.live = identifier(spec.database)
        # Learnt by pre-flight's one query, which saves a round trip each later.
        self._datadir: str | None = None
        self._accounts: str | None = None

    def client(self, *extra: str, importing: bool = False,
               charset: str = "utf8mb4") -> list[str]:
        """The mysql client as `db_user`; `importing`: as `db_import_user`, whose password
        is in the defaults file's `[client_import]` group."""
        words = ["mysql"]
        if self.spec.db_defaults_file:
            words.append(f"--defaults-extra-file={self.spec.db_defaults_file}")
        if importing:
            words.append("--defaults-group-suffix=_import")
        if self.spec.db_host and self.spec.db_host.startswith("/"):
            words += ["-S", self.spec.db_host]
        elif self.spec.db_host:
            words += ["-h", self.spec.db_host, "-P", str(self.spec.db_port or 3306)]
        user = self.spec.db_import_user if importing else self.spec.db_user
        if user:
            words += ["-u", user]
        return [*words, "-N", "-B", f"--default-character-set={charset}", *extra]

    def _accounts_query(self) -> str:
        return ("SELECT GROUP_CONCAT(CONCAT(QUOTE(User), '@', QUOTE(Host)) SEPARATOR ', ') "
                f"FROM mysql.user WHERE User = {quote_text(self.spec.db_import_user or '')}")

    def _importer_accounts(self, remote: Remote) -> str:
        """Every account of `db_import_user` (user@host), quoted, for GRANT and REVOKE."""
        if self._accounts is None:
            self._accounts = self._known_accounts(
                self.sql(remote, self._accounts_query() + ";").strip(), remote)
        return self._accounts

    def _known_accounts(self, found: str, remote: Remote) -> str:
        if found in ("", "NULL"):
            raise RestoreError(f"Akun impor {self.spec.db_import_user!r} tidak ada di server "
                               f"MariaDB {remote.endpoint.label}; buat dulu (lihat README).")
        return found

    def sql(self, remote: Remote, statements: str, *, check: bool = True,
            timeout: float = 600) -> str:
        result = remote.run(*self.client(), input=statements.encode(), check=False,
                            timeout=timeout)
        if check and result.status != 0:
            raise CommandFailed(f"MariaDB di {remote.endpoint.label} menolak perintah: "
                                f"{result.error_text()}")
        return result.text

    def tables(self, remote: Remote, database: str) -> list[str]:
        text = self.sql(remote, "SELECT table_name FROM information_schema.tables WHERE "
                                f"table_schema = {quote_text(database)} AND "
                                "table_type = 'BASE TABLE' ORDER BY table_name;")
        return [line for line in text.splitlines() if line]

    def _shares(self, remote: Remote, database: str) -> list[list[str]]:
        """The database's tables dealt to up to SPREAD connections, largest first to the
        least loaded, so that a count or a checksum takes about its largest table's time
        rather than the sum of all (the server reads each table on its own thread)."""
        text = self.sql(remote, "SELECT table_name, data_length + index_length FROM "
                                "information_schema.tables WHERE table_schema = "
                                f"{quote_text(database)} AND table_type = 'BASE TABLE';")
        sized = sorted(((int(size) if size.isdigit() else 0, name) for name, _, size in
                        (line.rpartition("\t") for line in text.splitlines() if line)),
                       reverse=True)
        count = min(SPREAD, len(sized))
        loads: list[int] = [0] * count
        shares: list[list[str]] = [[] for _ in range(count)]
        for size, name in sized:
            least = loads.index(min(loads))
            loads[least] += size
            shares[least].append(name)
        return [sorted(names) for names in shares]

    def _on_each(self, remote: Remote, shares: list[list[str]],
                 statement: Callable[[list[str]], str]) -> list[str]:
        """`statement` of each share, each on a connection of its own, all at once; their
        outputs in the shares' order."""
        with ThreadPoolExecutor(max(len(shares), 1), thread_name_prefix="pulih-sql") as pool:
            return list(pool.map(lambda share: self.sql(remote, statement(share),
                                                        timeout=6 * 3600), shares))

    def counts(self, remote: Remote, database: str) -> dict[str, int]:
        shares = self._shares(remote, database)
        db = quote_ident(database)
        outputs = self._on_each(remote, shares, lambda names: "".join(
            f"SELECT COUNT(*) FROM {db}.{quote_ident(n)};\n" for n in names))
        counts: dict[str, int] = {}
        for names, output in zip(shares, outputs, strict=True):
            counts.update(zip(names, (int(v) for v in output.split()), strict=True))
        return dict(sorted(counts.items()))

    def database_exists(self, remote: Remote, name: str) -> bool:
        return bool(self.sql(remote, "SELECT schema_name FROM information_schema.schemata "
                                     f"WHERE schema_name = {quote_text(name)};").strip())

    def preflight(self, remote: Remote) -> None:
        # One query: the server answers, the live database is there, where its files are,
        # and (with an import account) that account's every user@host.
        fields = ["1", "(SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = "
                  f"{quote_text(self.live)})", "@@datadir"]
        if self.spec.db_import_user:
            fields.append(f"({self._accounts_query()})")
        row = self.sql(remote, f"SELECT {', '.join(fields)};", check=False).rstrip("\n")
        answer = row.split("\t") if "\n" not in row else []
        if len(answer) != len(fields) or answer[0] != "1":
            raise RestoreError(f"Server MariaDB di {remote.endpoint.label} tidak menjawab.")
        if answer[1] == "0":
            raise RestoreError(f"Basis data live {self.live!r} tidak ada di "
                               f"{remote.endpoint.label}; periksa inventaris.")
        self._datadir = answer[2] if answer[2] not in ("", "NULL") else "/var/lib/mysql"
        if self.spec.db_import_user:
            self._accounts = self._known_accounts(answer[3], remote)

    def datadir(self, remote: Remote) -> str:
        if self._datadir is None:
            self._datadir = self.sql(remote, "SELECT @@datadir;").strip() or "/var/lib/mysql"
        return self._datadir

    def space_needed(self, staged_size: int, names: list[str]) -> list[tuple[str, int]]:
        compressed = any(n.endswith(".gz") for n in names)
        return [("@datadir", staged_size * (6 if compressed else 2))]

    def pick(self, names: list[str]) -> str:
        for name in names:
            if name.endswith((".sql", ".sql.gz")):
                return name
        raise BackupInvalid("Titik backup tidak berisi dump MariaDB (.sql atau .sql.gz).")

    def streams(self, name: str) -> bool:
        return True  # a dump is read once, start to end

    def prepare(self, remote: Remote, staged: Staged, run: RunNames) -> list[str | Op]:
        # The dump is read statement by statement before it reaches the import
        # (restore.inspect_sql); the client's sandbox mode is the second lock: no shell,
        # no files, even so.
        sandbox = ["--sandbox"] if b"--sandbox" in remote.run(
            "mysql", "--help", check=False).stdout else []
        shadow = run.shadow_db
        create = f"CREATE DATABASE {quote_ident(shadow)} CHARACTER SET utf8mb4;"
        unzip: list[str | Op] = ["gzip", "-dc", PIPE] if staged.name.endswith(".gz") else []
        # The dump's bytes reach the server as they are, read in the character set its
        # own SET NAMES names (mariadb-dump always writes one). The client then splits
        # statements byte by byte: a third less of its CPU, which the import waits for.
        words = [*sandbox, shadow]
        if not self.spec.db_import_user:
            self.sql(remote, create)
            return [*unzip, *self.client(*words, charset="binary")]
        # The import account may do anything inside this shadow and nothing elsewhere (no
        # FILE, no SUPER, no other database). Objects in the dump that name a definer
        # (root, typically) would need SUPER: their DEFINER clauses, which mariadb-dump
        # writes in fixed places outside the rows, are dropped, so they belong to it too.
        self.sql(remote, f"{create}\nGRANT ALL ON {quote_ident(shadow)}.* TO "
                         f"{self._importer_accounts(remote)};")
        return [*unzip, "sed", "-e", _NO_DEFINER, PIPE,
                *self.client(*words, importing=True, charset="binary")]

    def apply(self, remote: Remote, staged: Staged, run: RunNames) -> None:
        command = self.prepare(remote, staged, run)
        self.import_dump(remote, "cat", "--", staged.path, PIPE, *command)

    def _exchange(self, remote: Remote, away: str, incoming: str, *, create: str,
                  after: str = "") -> None:
        """Move the live tables into `away` and the tables of `incoming` into live, in one
        RENAME TABLE: atomic, so either every table moves or none does."""
        both = self.sql(remote, "SELECT table_schema, table_name FROM information_schema.tables "
                                f"WHERE table_schema IN ({quote_text(self.live)}, "
                                f"{quote_text(incoming)}) AND table_type = 'BASE TABLE' "
                                "ORDER BY table_name;")
        pairs = [line.split("\t", 1) for line in both.splitlines() if "\t" in line]
        live_tables = [name for schema, name in pairs if schema == self.live]
        new_tables = [name for schema, name in pairs if schema == incoming]
        to, live, src = (quote_ident(n) for n in (away, self.live, incoming))
        moves = [f"{live}.{quote_ident(t)} TO {to}.{quote_ident(t)}" for t in live_tables]
        moves += [f"{src}.{quote_ident(t)} TO {live}.{quote_ident(t)}" for t in new_tables]
        self.sql(remote, f"{create} {to} CHARACTER SET utf8mb4;\n"
                         f"RENAME TABLE {', '.join(moves)};\n{after}")

    def swap(self, remote: Remote, run: RunNames) -> None:
        self._revoke(remote, run)  # the import account loses the shadow before it goes live
        # A plain CREATE: never pour the live tables into an existing rollback copy.
        self._exchange(remote, run.rollback_db, run.shadow_db, create="CREATE DATABASE")

    def rollback(self, remote: Remote, run: RunNames) -> None:
        if not self.database_exists(remote, run.rollback_db):
            raise RestoreError(f"Salinan rollback {run.rollback_db} tidak ada lagi.")
        self._exchange(remote, run.undone_db, run.rollback_db,
                       create="CREATE DATABASE IF NOT EXISTS",
                       after=f"DROP DATABASE {quote_ident(run.rollback_db)};\n")

    def discard_shadow(self, remote: Remote, run: RunNames) -> None:
        self.sql(remote, f"DROP DATABASE IF EXISTS {quote_ident(run.shadow_db)};")
        self._revoke(remote, run)

    def _revoke(self, remote: Remote, run: RunNames) -> None:
        if self.spec.db_import_user:
            self.sql(remote, f"REVOKE ALL ON {quote_ident(run.shadow_db)}.* FROM "
                             f"{self._importer_accounts(remote)};", check=False)

    def discard_rollback(self, remote: Remote, run: RunNames) -> None:
        self.sql(remote, f"DROP DATABASE IF EXISTS {quote_ident(run.rollback_db)};")

    def discard_undone(self, remote: Remote, run: RunNames) -> None:
        self.sql(remote, f"DROP DATABASE IF EXISTS {quote_ident(run.undone_db)};")

    def settle_swap(self, remote: Remote, run: RunNames) -> bool:
        """After a crash during the swap: the RENAME either happened whole or not at all."""
        if not self.database_exists(remote, run.rollback_db):
            return False
        if self.tables(remote, run.rollback_db):
            return True
        self.sql(remote, f"DROP DATABASE {quote_ident(run.rollback_db)};")  # created, unused
        return False

    def live_state(self, remote: Remote) -> list[str]:
        """What is compared to say the live database was not touched: it, and its tables."""
        live = quote_text(self.live)
        rows = self.sql(remote, f"SELECT 0, schema_name FROM information_schema.schemata WHERE "
                                f"schema_name = {live} UNION ALL SELECT 1, table_name FROM "
                                f"information_schema.tables WHERE table_schema = {live} AND "
                                "table_type = 'BASE TABLE' ORDER BY 1, 2;")
        found = [line.split("\t", 1) for line in rows.splitlines() if "\t" in line]
        if not any(kind == "0" for kind, _ in found):
            return []
        return [f"basis data {self.live}", *(f"tabel {t}" for kind, t in found if kind == "1")]

    def rollback_digest(self, remote: Remote, run: RunNames) -> str:
        """The content of the copy kept for rollback, table by table (CHECKSUM TABLE)."""
        shares = self._shares(remote, run.rollback_db)
        if not shares:
            return hashlib.sha256(b"").hexdigest()
        db = quote_ident(run.rollback_db)
        rows = "\n".join(self._on_each(remote, shares, lambda names: "CHECKSUM TABLE " + ", ".join(
            f"{db}.{quote_ident(n)}" for n in names) + " EXTENDED;"))
        sums = sorted(f"{line.split(chr(9))[0].split('.', 1)[-1]}:{line.split(chr(9))[-1]}"
                      for line in rows.splitlines() if line)
        return hashlib.sha256("\n".join(sums).encode()).hexdigest()

    def shadow_left(self, remote: Remote, run: RunNames) -> str | None:
        """The run's shadow database, if it is still on the server."""
        return run.shadow_db if self.database_exists(remote, run.shadow_db) else None
