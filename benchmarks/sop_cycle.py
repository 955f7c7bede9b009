"""Steps 4-7 of the SOP for a realistic database, with every human decision made at once:
how much of the SOP's 135 minutes the machine needs.

    python3 benchmarks/sop_cycle.py [--size-mb 100]

Starts what the end-to-end tests run against, on this machine: the backup server and
SIMPEG's VPS as two sshd on 127.0.0.1, SIMPEG's live database in a MariaDB, the real bot
(SQLite) polling the local Bot API stand-in. A nightly backup of SIMPEG of `--size-mb` MB
of SQL (gzip-compressed, with checksums and manifest) sits on the backup server; the
live database is damaged. Steps 1-3 are played in chat; then, timed as people see them in
Telegram: step 4 (tap "Cek backup", the point, until the check card), step 5 (the typed
name until "BERHASIL"), step 6 (until the draft report reaches the Kepala Bidang, and
"Sahkan" answered), step 7 (until the agency holds the numbered letter and report). Each
is printed beside its Mutu Baku and beside what the request's timeline recorded.
Baseline, in the same run on the same servers: the same check and restore done by hand
with OpenSSH (`ssh backup 'sha256sum -c; gzip -t'`, then `ssh backup cat | ssh vps
'gunzip | mariadb'` straight into a database, with no shadow, no verification and no
way back). Needs root, openssh-server and mariadb-server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import resource
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from benchmarks.lab_office import lab_office  # noqa: E402
from benchmarks.simpeg_dump import DUMP  # noqa: E402
from bot.db.models import Request, RestoreRun  # noqa: E402
from bot.demo.lab.mariadb import MariaDB  # noqa: E402
from bot.demo.lab.sshd import SshServer  # noqa: E402
from bot.services.requests.timeline import timeline  # noqa: E402
from bot.workflow.sop import STEPS  # noqa: E402
from restore.inspect import inspector_for  # noqa: E402
from tests.support.people import shown  # noqa: E402
from tests.support.running_bot import TEAM_CHAT, running_bot  # noqa: E402
from tests.support.sop_flow import Office, file_and_assign  # noqa: E402

WAIT = 3600.0


def cpu_ticks() -> tuple[int, int]:
    """This machine's busy and total CPU time so far (all cores, from /proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(fields) - fields[3] - fields[4], sum(fields)


def process_cpu() -> tuple[float, float]:
    """CPU seconds of this process (the bot runs in it) and of its ended children (a
    restore's transfer process and the `ssh` processes it started)."""
    own, children = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                            resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def cores_busy(start: tuple[int, int], end: tuple[int, int]) -> float:
    """How many of this machine's cores were busy, on average, between two readings."""
    total = end[1] - start[1]
    return (end[0] - start[0]) / total * (os.cpu_count() or 1) if total else 0.0


async def cycle(office: Office, marks: dict[str, float]) -> dict[int, float]:
    """Steps 1-3 untimed, then steps 4-7 timed as seen in chat (seconds by step); `marks`
    gets step 5's own moments (the prompt shown, the name typed)."""
    fake, p = office.fake, office.people
    member, kabid, opd = p["tim_exec"], p["kabid_a"], p["opd_other"]
    seen: dict[int, float] = {}
    async with running_bot(office.container, progress_every=3.0):
        await file_and_assign(office)
        start = time.monotonic()
        await member.taps("Cek backup", TEAM_CHAT)
        await shown(fake, TEAM_CHAT, "Pilih satu untuk diperiksa", WAIT)
        await member.taps("WITA", TEAM_CHAT)
        await shown(fake, TEAM_CHAT, "Hasil pemeriksaan backup", WAIT)
        seen[4] = time.monotonic() - start
        start = time.monotonic()
        before, own = cpu_ticks(), process_cpu()
        await member.taps("Restore titik ini", TEAM_CHAT)
        await shown(fake, TEAM_CHAT, "Balas pesan ini dengan nama sistem")
        marks["prompt"] = time.monotonic() - start
        await member.says("simpeg", TEAM_CHAT)
        marks["named"] = time.monotonic() - start
        result = await shown(fake, TEAM_CHAT, "Dijalankan oleh", WAIT)
        while not any(word in str(result.get("text")) for word in ("BERHASIL", "GAGAL")):
            await asyncio.sleep(0.05)
            result = fake.chat(TEAM_CHAT).messages[result["message_id"]]
        if "BERHASIL" not in str(result["text"]):
            raise SystemExit(f"restore tidak berhasil:\n{result['text']}")
        seen[5] = time.monotonic() - start
        marks["cores"] = cores_busy(before, cpu_ticks())
        marks["bot_cpu"], marks["child_cpu"] = (b - a for a, b in zip(own, process_cpu(),
                                                                       strict=True))
        start = time.monotonic()
        await shown(fake, kabid.user_id, "KONSEP", WAIT)
        await kabid.taps("Sahkan")
        seen[6] = time.monotonic() - start
        start = time.monotonic()
        await shown(fake, opd.user_id, "Surat Pemberitahuan", WAIT)
        await shown(fake, opd.user_id, "Laporan Restore", WAIT)
        seen[7] = time.monotonic() - start
        await opd.taps("Diterima / Sesuai")
    return seen


def by_hand(backup: SshServer, target: SshServer, db: MariaDB,
            point: Path) -> tuple[float, float, float]:
    """The check and the restore an engineer would type, timed; and the cores the
    restore kept busy."""
    start = time.perf_counter()
    check = f"cd {shlex.quote(str(point))} && sha256sum -c SHA256SUMS && gzip -t {DUMP}"
    subprocess.run([*backup.ssh_command(), check], check=True, capture_output=True)
    checked = time.perf_counter() - start
    db.sql("DROP DATABASE IF EXISTS simpeg_manual; CREATE DATABASE simpeg_manual")
    start, before = time.perf_counter(), cpu_ticks()
    load = (f"gunzip | mariadb -S {shlex.quote(str(db.socket))} -u root simpeg_manual")
    pipeline = (f"{shlex.join(backup.ssh_command())} {shlex.quote(f'cat {point / DUMP}')} | "
                f"{shlex.join(target.ssh_command())} {shlex.quote(load)}")
    subprocess.run(["bash", "-o", "pipefail", "-c", pipeline], check=True)
    restored, cores = time.perf_counter() - start, cores_busy(before, cpu_ticks())
    db.sql("DROP DATABASE simpeg_manual")
    return checked, restored, cores


@dataclass(frozen=True)
class Round:
    """One SOP cycle: steps 4-7 as seen in chat and as recorded (seconds), step 5's parts."""

    seen: dict[int, float]
    recorded: dict[int, float]
    parts: list[tuple[str, float]]
    marks: dict[str, float]


def where_step_five_went(run: RestoreRun, marks: dict[str, float],
                         seen: float) -> list[tuple[str, float]]:
    """Step 5 as seen in chat, split: the chat's round trips, each phase of the run as its
    record timed it, and what its record shows between them."""
    assert run.finished_at is not None
    took = (run.finished_at - run.started_at).total_seconds()
    phases: list[tuple[str, float]] = []
    behind: list[tuple[str, float]] = []  # after the run was told settled
    begun: dict[str, datetime] = {}
    tagged = first = last = None
    for entry in json.loads(run.phases):
        at = datetime.fromisoformat(entry["at"])
        if entry["status"] == "tag":
            tagged = at
        if entry["status"] == "started":
            first = first or at
            begun[entry["phase"]] = at
        elif entry["status"] in ("done", "failed") and entry["phase"] in begun:
            start = begun.pop(entry["phase"])
            if start < run.finished_at:
                phases.append((f"  fase {entry['phase']}", (at - start).total_seconds()))
                last = at
            else:
                behind.append((f"  fase {entry['phase']}", (at - start).total_seconds()))
    assert tagged is not None and first is not None and last is not None
    outside = took - sum(s for _, s in phases)
    opening = (tagged - run.started_at).total_seconds()
    logins = (first - tagged).total_seconds()
    closing = (run.finished_at - last).total_seconds()
    return [("ketuk 'Restore titik ini' sampai pertanyaan nama", marks["prompt"]),
            ("restore tercatat (mulai sampai selesai)", took), *phases,
            ("  di luar fase (koneksi, pencatatan)", outside),
            ("    dicatat mulai sampai catatan pertama mesin restore", opening),
            ("    login ke kedua server dan mencari titik backup", logins),
            ("    di antara fase (catatan tiap fase)", outside - opening - logins - closing),
            ("    pemeriksaan terakhir sampai hasil tercatat", closing),
            ("nama diketik sampai mulai, dan selesai sampai BERHASIL tampil",
             seen - marks["named"] - took),
            *((f"setelah BERHASIL, di belakang:{label[1:]}", s) for label, s in behind)]


def reading_cpu(dump: Path) -> float:
    """CPU seconds Pulih spends reading the dump's statements (as the restore's transfer
    process does, 1 MiB at a time), measured here on the file itself."""
    inspector = inspector_for("mariadb", dump.name)
    assert inspector is not None
    start = time.process_time()
    with dump.open("rb") as handle:
        while piece := handle.read(1 << 20):
            inspector.feed(piece)
            inspector.so_far()
    inspector.findings()
    return time.process_time() - start


def minutes(seconds: float) -> str:
    return f"{seconds:8.1f} s" if seconds < 120 else f"{seconds / 60:8.1f} min"


def middle(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=100,
                        help="SQL in the dump before compression, MB (default 100)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="SOP cycles, each after a hand-typed restore (one more ends the "
                             "run); medians are compared, since this machine's run-to-run "
                             "noise is larger than the overhead measured (default 3)")
    args = parser.parse_args()
    logging.getLogger("paramiko").setLevel(logging.WARNING)
    print(f"Menulis backup SIMPEG {args.size_mb} MB SQL ...", flush=True)
    rounds: list[Round] = []
    hands: list[tuple[float, float, float]] = []
    with lab_office(args.size_mb) as lab:
        office, db, counts = lab.office, lab.database, lab.counts
        for number in range(1, max(args.rounds, 1) + 1):
            hands.append(by_hand(lab.backup, lab.target, db, lab.point))
            print(f"putaran {number}: restore dengan tangan {hands[-1][1]:.1f} s", end="",
                  flush=True)
            for shown_in in office.fake.chats.values():  # each round reads its own messages
                shown_in.messages.clear()
            marks: dict[str, float] = {}
            seen = asyncio.run(cycle(office, marks))
            with office.container.sessions() as session:
                request = session.execute(
                    select(Request).order_by(Request.id.desc()).limit(1)).scalar_one()
                recorded = {s.step.number: s.spent.total_seconds() for s in
                            timeline(session, request, office.container.clock(),
                                     office.container.settings.timezone).steps
                            if s.spent is not None}
                run = session.execute(
                    select(RestoreRun).order_by(RestoreRun.id.desc()).limit(1)).scalar_one()
                parts = where_step_five_went(run, marks, seen[5])
            live = {t: int(db.sql(f"SELECT COUNT(*) FROM simpeg.`{t}`")) for t in counts}
            if live != counts:
                print(f"\ndata live tidak sama dengan backup: {live} != {counts}")
                return 1
            rounds.append(Round(seen, recorded, parts, marks))
            print(f", Pulih langkah 5 {seen[5]:.1f} s", flush=True)
        hands.append(by_hand(lab.backup, lab.target, db, lab.point))
        print(f"restore dengan tangan terakhir {hands[-1][1]:.1f} s", flush=True)
        dump_size = (lab.point / DUMP).stat().st_size
        reading = reading_cpu(lab.point / DUMP)
    print(f"\nbackup: {args.size_mb} MB SQL, {dump_size / 1e6:.1f} MB gzip; "
          f"{counts['pegawai']} pegawai, {counts['riwayat_jabatan']} riwayat_jabatan; "
          f"keputusan manusia seketika; median dari {len(rounds)} putaran")
    print(f"{'langkah':<58}{'di chat':>12}{'tercatat':>12}{'Mutu Baku':>12}{'porsi':>8}")
    total = 0.0
    for number in (4, 5, 6, 7):
        step = STEPS[number]
        limit = step.service_time.total_seconds()
        chat = middle(r.seen[number] for r in rounds)
        spent = [r.recorded[number] for r in rounds if number in r.recorded]
        total += chat
        print(f"{number}. {step.title[:55]:<55}{minutes(chat):>12}"
              f"{minutes(middle(spent)) if spent else '-':>12}"
              f"{minutes(limit):>12}{chat / limit:>8.1%}")
    print(f"{'langkah 4-7':<58}{minutes(total):>12}{'':>12}{minutes(135 * 60):>12}"
          f"{total / (135 * 60):>8.1%}")
    checked = middle(h[0] for h in hands)
    restored = middle(h[1] for h in hands)
    pulih = middle(r.seen[5] for r in rounds)
    # Each cycle against the two hand-typed restores around it: the machine's slow spells
    # then weigh on both sides of a ratio alike.
    paired = [r.seen[5] / ((hands[i][1] + hands[i + 1][1]) / 2) for i, r in enumerate(rounds)]
    print(f"\nbaseline OpenSSH dengan tangan (tanpa salinan sementara, verifikasi, rollback), "
          f"{len(hands)} kali, berselang-seling dengan Pulih:")
    print(f"  cek backup  : {minutes(checked)}   Pulih langkah 4 / tangan: "
          f"{middle(r.seen[4] for r in rounds) / checked:.2f}x")
    print(f"  restore     : {minutes(restored)}   Pulih langkah 5 / tangan: "
          f"{pulih / restored:.2f}x  (target <= 1.1x; median Pulih {pulih:.1f} s dari "
          f"{min(r.seen[5] for r in rounds):.1f}-{max(r.seen[5] for r in rounds):.1f} s, "
          f"median tangan dari {min(h[1] for h in hands):.1f}-{max(h[1] for h in hands):.1f} s)")
    print("  tiap putaran terhadap rata-rata dua restore tangan di sekitarnya: "
          + ", ".join(f"{x:.2f}x" for x in paired) + f" (median {middle(paired):.2f}x)")
    # Whether the CPU Pulih adds (reading each statement before it runs, hashing) finds an
    # idle core, or is paid in wall time.
    print(f"  inti CPU terpakai rata-rata: tangan {middle(h[2] for h in hands):.2f}, Pulih "
          f"langkah 5 {middle(r.marks['cores'] for r in rounds):.2f}, dari {os.cpu_count()}; "
          f"membaca setiap pernyataan dump sebelum dijalankan: {reading:.1f} s CPU")
    print(f"  CPU Pulih di langkah 5: proses bot "
          f"{middle(r.marks['bot_cpu'] for r in rounds):.1f} s, proses transfer dan ssh-nya "
          f"{middle(r.marks['child_cpu'] for r in rounds):.1f} s")
    print("\nlangkah 5 Pulih, ke mana waktunya (median per bagian):")
    for index, (label, _) in enumerate(rounds[0].parts):
        seconds = [r.parts[index][1] for r in rounds
                   if index < len(r.parts) and r.parts[index][0] == label]
        print(f"  {label:<64}{middle(seconds):8.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
