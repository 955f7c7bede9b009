"""An office whose documents were issued through the real services, with the verification
page (`pulih web`) running as a process on loopback in front of its database."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bot.bootstrap import bootstrap
from bot.db.migrate import upgrade
from bot.inventory.loader import load_inventory
from bot.services.documents.letters import (
    IssuedLetter,
    issue_letter,
    register_request_letter,
)
from bot.services.office.inventory_sync import sync_inventory
from bot.settings import load_settings
from tests.support.case_records import walk_to_report
from tests.support.cli import clocked, office_env
from tests.support.office import NOW


@dataclass(frozen=True)
class Issued:
    """A document as the tests hold it: its code, number and the bytes issued."""

    kind: str
    code: str
    number: str | None
    pdf: bytes


@dataclass(frozen=True)
class Site:
    env: dict[str, str]
    base: str  # http://127.0.0.1:PORT, also the documents' verification address
    documents: dict[str, Issued]  # by kind; "laporan_lama": the report replaced later
    data_dir: Path


def the_office(folder: Path, port: int) -> Site:
    """A request walked to its report, whose documents are issued with the verification
    page's address in their QR: the request letter the agency uploaded (received), the
    disposition sheet, the report twice (the second replaces the first) and the
    notification letter."""
    base = f"http://127.0.0.1:{port}"
    env = {**office_env(folder), "PULIH_VERIFY_URL": base,
           "PULIH_WEB_LISTEN": f"127.0.0.1:{port}"}
    # Issued at NOW exactly (a frozen clock): what the page shows is what the tests
    # compute from NOW, whatever second of the minute the run began.
    container = bootstrap(load_settings(environ=env), lambda: NOW)
    try:
        upgrade(container.engine)
        with container.unit_of_work() as session:
            sync_inventory(session, load_inventory(container.settings.inventory_path), NOW)
            ticket = walk_to_report(session).ticket
        uploaded = issue_letter(container, "surat_permohonan", ticket).content
        documents = {"surat_permohonan": _held(register_request_letter(
            container, ticket, uploaded + b"\n% ditandatangani di OPD\n"))}
        documents["laporan_lama"] = _held(issue_letter(container, "laporan", ticket))
        for kind in ("disposisi", "laporan", "surat_pemberitahuan"):
            documents[kind] = _held(issue_letter(container, kind, ticket))
    finally:
        container.close()
    return Site(env, base, documents, Path(env["PULIH_DATA_DIR"]))


def _held(letter: IssuedLetter) -> Issued:
    return Issued(letter.kind, letter.code, letter.number, letter.content)


@contextmanager
def verify_page(site: Site, *, rate: int = 10_000, tmp: Path | None = None,
                port: int | None = None) -> Iterator[str]:
    """`pulih web` for `site` (on `port` rather than the documents' address), allowing
    `rate` checks a minute per address, until the block ends; `tmp` becomes the process's
    temporary folder. Yields the address it answers on."""
    base = f"http://127.0.0.1:{port}" if port else site.base
    command, env = clocked({**site.env, "PULIH_WEB_RATE": str(rate),
                            **({"TMPDIR": str(tmp)} if tmp else {}),
                            **({"PULIH_WEB_LISTEN": f"127.0.0.1:{port}"} if port else {})})
    process = subprocess.Popen([*command, "web"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        _wait_until_up(base, process)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def _wait_until_up(base: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            raise AssertionError(f"pulih web ended at start:\n{output}")
        try:
            if httpx.get(f"{base}/sehat", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("pulih web did not answer within 60 s")

