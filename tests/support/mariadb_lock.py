"""Holding a restore in its import: a global read lock on the lab's MariaDB."""

from __future__ import annotations

import subprocess
import time

from bot.demo.lab.mariadb import MariaDB


class ReadLock:
    """A global read lock on MariaDB: the restore's import into its shadow copy waits
    until it is released, which holds a run in its apply phase for as long as a test
    needs."""

    def __init__(self, db: MariaDB) -> None:
        self.process = subprocess.Popen(
            ["mariadb", "-S", str(db.socket), "-u", "root", "-e",
             "FLUSH TABLES WITH READ LOCK; SELECT SLEEP(300);"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while "FLUSH" not in db.sql("SHOW PROCESSLIST") and "SLEEP" not in \
                db.sql("SHOW PROCESSLIST").upper():
            assert time.monotonic() < deadline, "the read lock was not taken"
            time.sleep(0.1)

    def release(self) -> None:
        self.process.kill()
        self.process.wait()
