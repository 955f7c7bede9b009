"""The verification page under load (issue 21): 2,000 checks of codes against `pulih web`
on loopback, as phones scanning QR codes would make them.

    python3 benchmarks/verify_page.py [--requests 2000] [--clients 20] [--documents 2000]

The office: SQLite (the embedded default) holding a request's documents issued through
the real services plus `--documents` more, so that a look-up searches a register of
realistic size. `pulih web` runs as its own process (uvicorn, one worker). `--clients`
clients at once send `--requests` checks in all: 70 % codes of issued documents, 20 %
well-formed unknown codes, 10 % malformed ones. Any answer but 200 for an issued code and
404 for the others counts as an error. Printed: p50/p90/p99/max, checks a second, and
the median answer time of each kind of code (the page answers every code after at least
the same fixed time, so that an unknown code cannot be told from a known one by time).

Baselines measured in the same run: the page's stylesheet from the same server (the
HTTP stack alone, no database, no fixed answer time), and the check as it was before the
page, `pulih letters verify --code`, one process per check. Then the rate limit: a second
server at the default setting (30 a minute per address) gets 40 checks from one address
and must answer the last 10 with 429.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.bootstrap import bootstrap  # noqa: E402
from bot.demo.lab.loopback import free_port, without_office_env  # noqa: E402
from bot.services.documents.registry import ALPHABET, issue_document  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from bot.web.app import ANSWER_SECONDS  # noqa: E402
from tests.support.cli import clocked  # noqa: E402
from tests.support.clock import NOW, running  # noqa: E402
from tests.support.verify_site import Site, the_office, verify_page  # noqa: E402


def more_documents(site: Site, count: int) -> list[str]:
    """`count` more issued documents (small files) and their codes."""
    container = bootstrap(load_settings(environ=site.env), running())
    codes = []
    try:
        with container.unit_of_work() as session:
            for n in range(count):
                row = issue_document(session, kind="laporan_uji", content=b"%%PDF-1.7 %d" % n,
                                     now=NOW, folder=site.data_dir / "documents",
                                     number=f"{n + 10}/Diskominfo/000.6", issuer="Diskominfo")
                codes.append(row.verification_code)
    finally:
        container.close()
    return codes


def unknown_code(rng: random.Random, known: set[str]) -> str:
    while True:
        raw = "".join(rng.choice(ALPHABET) for _ in range(10))
        code = f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"
        if code not in known:
            return code


def malformed(rng: random.Random) -> str:
    return rng.choice(["x", "1234", "ABCD-EFGH-J1", "O0O0-IIII-LL", "a" * 40, "%3Cb%3E",
                       "ABCD-EFGH", "../etc/passwd"])


async def load(base: str, paths: list[tuple[str, str, int]], clients: int
               ) -> tuple[list[tuple[str, float]], int, float]:
    """Send every (kind, path, expected status); latencies by kind, errors, seconds."""
    queue: asyncio.Queue[tuple[str, str, int]] = asyncio.Queue()
    for item in paths:
        queue.put_nowait(item)
    timings: list[tuple[str, float]] = []
    errors = 0

    async def client() -> None:
        nonlocal errors
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            while not queue.empty():
                kind, path, expected = queue.get_nowait()
                started = time.perf_counter()
                try:
                    answer = await http.get(path)
                    ok = answer.status_code == expected
                except httpx.HTTPError:
                    ok = False
                timings.append((kind, time.perf_counter() - started))
                errors += not ok

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return timings, errors, time.perf_counter() - started


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def summary(name: str, timings: list[float], seconds: float) -> str:
    return (f"{name:<34} n={len(timings):>5}  p50 {percentile(timings, 50) * 1000:7.1f} ms  "
            f"p90 {percentile(timings, 90) * 1000:7.1f} ms  p99 "
            f"{percentile(timings, 99) * 1000:7.1f} ms  max {max(timings) * 1000:7.1f} ms  "
            f"{len(timings) / seconds:7.1f}/s")


def cli_checks(site: Site, code: str, runs: int) -> list[float]:
    command, env = clocked(site.env)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([*command, "letters", "verify", "--code", code], env=env,
                       capture_output=True, check=True, timeout=120)
        times.append(time.perf_counter() - started)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--documents", type=int, default=2000)
    args = parser.parse_args()
    rng = random.Random(21)
    with tempfile.TemporaryDirectory(prefix="pulih-verify-") as folder, without_office_env():
        site = the_office(Path(folder), free_port())
        codes = [d.code for d in site.documents.values()] + \
            more_documents(site, args.documents)
        known = set(codes)
        paths = []
        for _ in range(args.requests):
            roll = rng.random()
            if roll < 0.7:
                paths.append(("terbit", f"/v/{rng.choice(codes)}", 200))
            elif roll < 0.9:
                paths.append(("tidak dikenal", f"/v/{unknown_code(rng, known)}", 404))
            else:
                paths.append(("rusak", f"/v/{malformed(rng)}", 404))
        print(f"Kantor: {len(codes)} dokumen tercatat (SQLite); {args.requests} pemeriksaan, "
              f"{args.clients} klien sekaligus; jawaban paling cepat {ANSWER_SECONDS} s.")
        with verify_page(site, rate=100_000) as base:
            asyncio.run(load(base, [("pemanasan", "/v/" + codes[0], 200)] * 50,
                             args.clients))
            timings, errors, seconds = asyncio.run(load(base, paths, args.clients))
            style, style_errors, style_seconds = asyncio.run(load(
                base, [("css", "/gaya.css", 200)] * args.requests, args.clients))
        every = [t for _, t in timings]
        print(summary("halaman verifikasi /v/KODE", every, seconds))
        for kind in ("terbit", "tidak dikenal", "rusak"):
            of_kind = [t for k, t in timings if k == kind]
            print(f"  median kode {kind:<14} {statistics.median(of_kind) * 1000:7.1f} ms "
                  f"(n={len(of_kind)})")
        print(f"  galat: {errors}")
        print(summary("pembanding: stylesheet (HTTP saja)", [t for _, t in style],
                      style_seconds))
        cli = cli_checks(site, site.documents["surat_pemberitahuan"].code, 10)
        print(f"{'pembanding: pulih letters verify':<34} n={len(cli):>5}  p50 "
              f"{statistics.median(cli) * 1000:7.1f} ms (satu proses per pemeriksaan)")
        p99 = percentile(every, 99)
        print(f"Rasio p99 halaman / p99 stylesheet: "
              f"{p99 / percentile([t for _, t in style], 99):.1f}x; median halaman / median "
              f"CLI: {statistics.median(every) / statistics.median(cli):.2f}x")

        with verify_page(site, rate=30, port=free_port()) as base:
            statuses = [httpx.get(f"{base}/v/{codes[0]}").status_code for _ in range(40)]
        print(f"Batas laju 30/menit per alamat, 40 pemeriksaan dari satu alamat: "
              f"{statuses.count(200)} x 200, {statuses.count(429)} x 429")
        if errors or style_errors or statuses != [200] * 30 + [429] * 10:
            print("GAGAL: ada galat atau batas laju tidak bekerja")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
