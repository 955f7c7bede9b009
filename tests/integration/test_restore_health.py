"""The check after the swap asks the application; an unhealthy one is rolled back at once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bot.demo.lab.sshd import SshServer
from restore.recipes import TargetSpec
from tests.support.backups import tar_gz, write_point
from tests.support.restoring import MemoryJournal, checked_job, tree


class _Health(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(type(self).status)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def health() -> Iterator[tuple[str, type[_Health]]]:
    handler = type("Handler", (_Health,), {"status": 200})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/health", handler
    server.shutdown()
    server.server_close()


@pytest.fixture
def site(tmp_path: Path) -> tuple[Path, Path]:
    app = tmp_path / "www" / "app"
    app.mkdir(parents=True)
    (app / "index.php").write_text("rusak")
    root = tmp_path / "srv-backup"
    write_point(root / "app", "20261123-0200", {"app.tar.gz": tar_gz({"index.php": b"baik"})})
    return app, root


def test_a_healthy_application_is_recorded_after_the_swap(
        backup_server: SshServer, target_server: SshServer, site: tuple[Path, Path],
        health: tuple[str, type[_Health]], tmp_path: Path) -> None:
    app, root = site
    url, _ = health
    spec = TargetSpec("files", app_dir=str(app), health_url=url)
    outcome = checked_job(51, backup_server, target_server, root, "app", "20261123-0200", spec,
                          tmp_path / "staging").run()
    assert outcome.status == "succeeded", outcome.message
    assert outcome.post_check["health"] == f"{url} menjawab HTTP 200"
    assert (app / "index.php").read_text() == "baik"


def test_an_unhealthy_application_after_the_swap_is_rolled_back_exactly(
        backup_server: SshServer, target_server: SshServer, site: tuple[Path, Path],
        health: tuple[str, type[_Health]], tmp_path: Path) -> None:
    app, root = site
    url, handler = health
    handler.status = 500
    before = tree(app)
    journal = MemoryJournal()
    spec = TargetSpec("files", app_dir=str(app), health_url=url)
    job = checked_job(52, backup_server, target_server, root, "app", "20261123-0200", spec,
                      tmp_path / "staging", journal=journal)
    outcome = job.run()
    assert outcome.status == "failed" and not outcome.swapped
    assert "menjawab 500" in outcome.message and "dikembalikan" in outcome.message
    # One true thing: put back, and checked to be as before; not "untouched".
    assert "tidak disentuh" not in outcome.message
    assert "sama dengan sebelum restore" in outcome.message
    assert ("rollback", "done", "") in journal.entries
    assert tree(app) == before
    unreachable = replace(spec, health_url="http://127.0.0.1:9/")
    job = checked_job(53, backup_server, target_server, root, "app", "20261123-0200",
                      unreachable, tmp_path / "staging")
    outcome = job.run()
    assert outcome.status == "failed" and tree(app) == before
