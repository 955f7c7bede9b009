"""PostgreSQL: restore into a new database, check it, then swap the names in one transaction."""

from __future__ import annotations

import hashlib

from restore.errors import BackupInvalid, CommandFailed, RestoreError
from restore.recipes import RunNames, Staged, TargetSpec
from restore.recipes.database import DatabaseRecipe
from restore.safety import PIPE, Op, identifier
from restore.ssh import Remote
from restore.transfer_process import inspect_in_child


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class PostgreSQLRecipe(DatabaseRecipe):
    kind = "postgresql"

    def __init__(self, spec: TargetSpec) -> None:
        if not spec.database:
            raise BackupInvalid("Sistem PostgreSQL tanpa nama basis data di inventaris.")
        self.spec = spec
        self.live = identifier(spec.database)

    def _conn(self, user: str | None = None) -> list[str]:
        words: list[str] = []
        if self.spec.db_host:
            words += ["-h", self.spec.db_host]
        if self.spec.db_port:
            words += ["-p", str(self.spec.db_port)]
        if user or self.spec.db_user:
            words += ["-U", user or self.spec.db_user or ""]
        return words

    def _env(self) -> list[str]:
        if self.spec.db_defaults_file:
            return ["env", f"PGPASSFILE={self.spec.db_defaults_file}"]
        return []

    def client(self, database: str = "postgres", user: str | None = None) -> list[str]:
        return [*self._env(), "psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                *self._conn(user), "-d", database]

    def sql(self, remote: Remote, statements: str, database: str = "postgres", *,
            check: bool = True, timeout: float = 600) -> str:
        result = remote.run(*self.client(database), input=statements.encode(), check=False,
                            timeout=timeout)
        if check and result.status != 0:
            raise CommandFailed(f"PostgreSQL di {remote.endpoint.label} menolak perintah: "
                                f"{result.error_text()}")
        return result.text

    def database_exists(self, remote: Remote, name: str) -> bool:
        return self.sql(remote, "SELECT 1 FROM pg_database WHERE datname = "
                                f"{quote_text(name)};").strip() == "1"

    def _qualified(self, remote: Remote, database: str) -> list[str]:
        text = self.sql(remote, "SELECT schemaname || '.' || tablename FROM pg_tables WHERE "
                                "schemaname NOT IN ('pg_catalog', 'information_schema') "
                                "ORDER BY 1;", database)
        return [line for line in text.splitlines() if line]

    def tables(self, remote: Remote, database: str) -> list[str]:
        return [n.removeprefix("public.") for n in self._qualified(remote, database)]

    def counts(self, remote: Remote, database: str) -> dict[str, int]:
        names = self._qualified(remote, database)
        if not names:
            return {}
        query = "".join(
            f"SELECT count(*) FROM {quote_ident(n.split('.', 1)[0])}."
            f"{quote_ident(n.split('.', 1)[1])};\n" for n in names)
        values = [int(v) for v in self.sql(remote, query, database, timeout=3600).split()]
        return {n.removeprefix("public."): v for n, v in zip(names, values, strict=True)}

    def preflight(self, remote: Remote) -> None:
        if self.sql(remote, "SELECT 1;", check=False).strip() != "1":
            raise RestoreError(f"Server PostgreSQL di {remote.endpoint.label} tidak menjawab.")
        if not self.database_exists(remote, self.live):
            raise RestoreError(f"Basis data live {self.live!r} tidak ada di "
                               f"{remote.endpoint.label}; periksa inventaris.")

    def datadir(self, remote: Remote) -> str:
        return self.sql(remote, "SHOW data_directory;", check=False).strip() or \
            "/var/lib/postgresql"

    def space_needed(self, staged_size: int, names: list[str]) -> list[tuple[str, int]]:
        compressed = any(n.endswith((".gz", ".dump", ".pgdump", ".backup")) for n in names)
        return [("@datadir", staged_size * (6 if compressed else 2))]

    def pick(self, names: list[str]) -> str:
        for name in names:
            if name.endswith((".dump", ".pgdump", ".backup", ".sql", ".sql.gz")):
                return name
        raise BackupInvalid("Titik backup tidak berisi dump PostgreSQL.")

    @staticmethod
    def custom(name: str) -> bool:
        return name.endswith((".dump", ".pgdump", ".backup"))

    def streams(self, name: str) -> bool:
        # A custom-format dump is judged as the SQL pg_restore turns it into, and only
        # pg_restore on the target can turn it: it is staged, read there, then imported.
        return not self.custom(name)

    def prepare(self, remote: Remote, staged: Staged, run: RunNames) -> list[str | Op]:
        shadow = run.shadow_db
        self.sql(remote, f"CREATE DATABASE {quote_ident(shadow)};")
        importer = self.spec.db_import_user
        if importer:
            # The import role owns no database and may create only in this one: whatever
            # the dump holds runs with no more rights than that (no programs, no files,
            # no other database, no roles). Its objects change hands before the swap.
            self.sql(remote, f"GRANT CONNECT, CREATE, TEMPORARY ON DATABASE "
                             f"{quote_ident(shadow)} TO {quote_ident(importer)};")
            self.sql(remote, f"ALTER SCHEMA public OWNER TO {quote_ident(importer)};", shadow)
        psql = self.spec.as_reader(*self.client(shadow, importer))
        if self.custom(staged.name):
            # pg_restore reads the file from its standard input, so it can run as `run_as`.
            return [*self.spec.as_reader("pg_restore", "--no-owner", "--no-privileges",
                                         "-f", "-"), PIPE, *psql]
        if staged.name.endswith(".gz"):
            return ["gzip", "-dc", PIPE, *psql]
        return list[str | Op](psql)

    def explain(self, exc: CommandFailed) -> CommandFailed:
        if self.spec.db_import_user and "must be" in exc.message and \
                "member of role" in exc.message:
            return CommandFailed(f"{exc.message} Dengan db_import_user, dump harus dibuat "
                                 "tanpa pemilik: pg_dump --no-owner --no-privileges, atau "
                                 "format custom (-Fc).")
        return exc

    def apply(self, remote: Remote, staged: Staged, run: RunNames) -> None:
        if self.custom(staged.name):
            # A plain dump is read on its way to the import; a custom one is read here, as
            # the SQL it turns into, and that same SQL is what psql then runs.
            inspect_in_child(remote, ["cat", "--", staged.path, PIPE, *self.spec.as_reader(
                "pg_restore", "--no-owner", "--no-privileges", "-f", "-")], staged.name,
                self.kind)
        command = self.prepare(remote, staged, run)
        try:
            self.import_dump(remote, "cat", "--", staged.path, PIPE, *command)
        except CommandFailed as exc:
            raise self.explain(exc) from exc

    def _rename_pair(self, remote: Remote, away: tuple[str, str], into: tuple[str, str]) -> None:
        live = quote_text(away[0])
        self.sql(remote,
                 f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = {live}"
                 " AND pid <> pg_backend_pid();\n"
                 "BEGIN;\n"
                 f"ALTER DATABASE {quote_ident(away[0])} RENAME TO {quote_ident(away[1])};\n"
                 f"ALTER DATABASE {quote_ident(into[0])} RENAME TO {quote_ident(into[1])};\n"
                 "COMMIT;\n")

    def swap(self, remote: Remote, run: RunNames) -> None:
        importer = self.spec.db_import_user
        if importer:
            owner = self.sql(remote, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE "
                                     f"datname = {quote_text(self.live)};").strip()
            self.sql(remote, f"REASSIGN OWNED BY {quote_ident(importer)} TO "
                             f"{quote_ident(owner)};", run.shadow_db)
            self.sql(remote, f"ALTER DATABASE {quote_ident(run.shadow_db)} OWNER TO "
                             f"{quote_ident(owner)};\n"
                             "REVOKE CONNECT, CREATE, TEMPORARY ON DATABASE "
                             f"{quote_ident(run.shadow_db)} FROM {quote_ident(importer)};")
        self._rename_pair(remote, (self.live, run.rollback_db), (run.shadow_db, self.live))

    def rollback(self, remote: Remote, run: RunNames) -> None:
        if not self.database_exists(remote, run.rollback_db):
            raise RestoreError(f"Salinan rollback {run.rollback_db} tidak ada lagi.")
        self._rename_pair(remote, (self.live, run.undone_db), (run.rollback_db, self.live))

    def discard_shadow(self, remote: Remote, run: RunNames) -> None:
        self.sql(remote, f"DROP DATABASE IF EXISTS {quote_ident(run.shadow_db)};")

    def discard_rollback(self, remote: Remote, run: RunNames) -> None:
        self.sql(remote, f"DROP DATABASE IF EXISTS {quote_ident(run.rollback_db)};")

    def discard_undone(self, remote: Remote, run: RunNames) -> None:
        self.sql(remote, f"DROP DATABASE IF EXISTS {quote_ident(run.undone_db)};")

    def settle_swap(self, remote: Remote, run: RunNames) -> bool:
        """After a crash during the swap: both renames ran in one transaction, or neither."""
        return self.database_exists(remote, run.rollback_db)

    def live_state(self, remote: Remote) -> list[str]:
        """What is compared to say the live database was not touched: it, and its tables."""
        if not self.database_exists(remote, self.live):
            return []
        text = self.sql(remote, "SELECT schemaname || '.' || tablename FROM pg_tables WHERE "
                                "schemaname NOT IN ('pg_catalog', 'information_schema') "
                                "ORDER BY 1;", self.live)
        return [f"basis data {self.live}", *(f"tabel {t}" for t in text.split())]

    def rollback_digest(self, remote: Remote, run: RunNames) -> str:
        """The content of the copy kept for rollback: each table's rows, hashed in order."""
        text = self.sql(remote, "SELECT schemaname || '.' || tablename FROM pg_tables WHERE "
                                "schemaname NOT IN ('pg_catalog', 'information_schema') "
                                "ORDER BY 1;", run.rollback_db)
        parts = []
        for name in text.split():
            schema, table = name.split(".", 1)
            digest = self.sql(remote, "SELECT md5(coalesce(string_agg(md5(x::text), '' ORDER "
                                      f"BY md5(x::text)), '')) FROM {quote_ident(schema)}."
                                      f"{quote_ident(table)} x;", run.rollback_db,
                              timeout=6 * 3600).strip()
            parts.append(f"{name}:{digest}")
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()

    def shadow_left(self, remote: Remote, run: RunNames) -> str | None:
        """The run's shadow database, if it is still on the server."""
        return run.shadow_db if self.database_exists(remote, run.shadow_db) else None
