"""Chat latency: 50 simulated users talking to the real bot through a local Bot API,
idle, while a 1 GiB backup is checked and while it is restored.

    python3 benchmarks/bot_latency.py [--users 50] [--rounds 10] [--restore-mib 1024]

Starts the fake Bot API server the tests use (127.0.0.1), the office of the end-to-end
tests (SQLite; the backup server and SIMPEG's VPS as two sshd on 127.0.0.1, SIMPEG's
database in a MariaDB, all three niced: they stand for other machines) with one linked
team member per simulated user, and the real Application polling it. A request is filed
and assigned in chat and the team has listed SIMPEG's restore points (the backup is
`--restore-mib` MiB of gzip dump: employees plus scanned documents). Each user sends
/antrian (which reads the database and renders the queue), waits for the reply, and
sends again:

1. idle: `--rounds` rounds each; p50 and p99 from update to reply, updates per second;
2. while the backup is checked (step 4: the member taps the point; the check reads the
   whole backup over SSH): the users keep sending until the check's card shows; p50 and
   p99 of the updates sent meanwhile, and the ratio of that p99 to the idle one (target:
   at most 2x);
3. while the restore runs: the member taps "Restore" and types the system's name, and
   the users keep sending until the run's message says how it ended; the same figures,
   also by the phase the group saw (target: at most 2x);
4. baseline: the same idle load against a bare python-telegram-bot Application that
   answers "ok" without touching a database, measured in the same run.
Needs root, openssh-server and mariadb-server.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402
from telegram import Update  # noqa: E402
from telegram.ext import Application, ApplicationBuilder, CommandHandler, ContextTypes  # noqa: E402

from benchmarks.lab_office import lab_office  # noqa: E402
from benchmarks.simpeg_dump import DUMP  # noqa: E402
from bot.db.models import Person, RoleAssignment  # noqa: E402
from bot.demo.standin import TOKEN, FakeTelegram  # noqa: E402
from handlers.limits import FloodGate  # noqa: E402
from tests.support.office import NIPS  # noqa: E402
from tests.support.people import shown, text_of  # noqa: E402
from tests.support.running_bot import TEAM_CHAT, running_bot  # noqa: E402
from tests.support.sop_flow import Office, file_and_assign  # noqa: E402

Sample = tuple[float, float, str]  # (sent at, seconds to the reply, restore phase shown)


async def drive(fake: FakeTelegram, users: list[int], rounds: int | None,
                until: Callable[[], bool] = lambda: False) -> tuple[list[Sample], float]:
    """Closed loop: every user sends, waits for the answer, sends again; `rounds` times,
    or (rounds None) until `until()` holds."""
    samples: list[Sample] = []

    async def one(user: int) -> None:
        sent = 0
        while (sent < rounds) if rounds is not None else not until():
            sent += 1
            before = len(fake.chat(user).messages)
            started = time.monotonic()
            fake.user_says(user, "/antrian")
            while len(fake.chat(user).messages) <= before:
                await asyncio.sleep(0.002)
            reply = list(fake.chat(user).messages)[-1]
            samples.append((started, fake.sent_at[reply] - started, shown_phase(fake)))

    begin = time.monotonic()
    await asyncio.gather(*(one(u) for u in users))
    return samples, time.monotonic() - begin


async def _ok(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_message is not None:
        await update.effective_message.reply_text("ok")


async def bare(fake: FakeTelegram, users: list[int], rounds: int) -> tuple[list[Sample], float]:
    application: Application = (  # type: ignore[type-arg]
        ApplicationBuilder().token(TOKEN).base_url(f"{fake.url}/bot")
        .base_file_url(f"{fake.url}/file/bot").build())
    application.add_handler(CommandHandler("antrian", _ok))
    await application.initialize()
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0, timeout=1)
    await application.start()
    try:
        return await drive(fake, users, rounds)
    finally:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()


def report(label: str, samples: list[Sample], seconds: float | None) -> tuple[float, float]:
    ordered = sorted(latency for _, latency, _ in samples)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    rate = f"{len(samples) / seconds:7.1f} updates/s   " if seconds else ""
    print(f"{label:<40} p50 {p50:7.1f} ms   p99 {p99:7.1f} ms   {rate}"
          f"({len(samples)} updates)", flush=True)
    return p50, p99


def add_members(office: Office, users: list[int]) -> None:
    """One team member per simulated user, in the office's agency."""
    with office.container.unit_of_work() as session:
        staff = session.execute(select(Person).where(Person.nip == NIPS["tim_exec"])
                                ).scalar_one()
        for index, user in enumerate(users):
            person = Person(nip=f"19900101{index:010d}", name=f"Anggota Tim {index + 1}",
                            jabatan="Pranata Komputer", pangkat="", active=True,
                            agency_id=staff.agency_id, telegram_id=user)
            person.roles.append(RoleAssignment(role="tim"))
            session.add(person)


def shown_phase(fake: FakeTelegram) -> str:
    """The phase line of the restore's message in the team group, if one runs."""
    for message in reversed(list(fake.chat(TEAM_CHAT).messages.values())):
        if "Dijalankan oleh" in text_of(message):
            return next((line for line in text_of(message).splitlines()
                         if line.startswith("Tahap")), "selesai")
    return ""


def run_ended(fake: FakeTelegram) -> Callable[[], bool]:
    """The restore's message in the team group says how it ended."""
    def ended() -> bool:
        return any("Dijalankan oleh" in text_of(m) and
                   any(w in text_of(m) for w in ("BERHASIL", "GAGAL", "DIBATALKAN"))
                   for m in list(fake.chat(TEAM_CHAT).messages.values()))
    return ended


def team_shows(fake: FakeTelegram, words: str) -> Callable[[], bool]:
    """Some message in the team group says `words`."""
    return lambda: any(words in text_of(m) for m in list(fake.chat(TEAM_CHAT).messages.values()))


async def measure(office: Office, users: list[int], rounds: int) -> None:
    fake, member = office.fake, office.people["tim_exec"]
    async with running_bot(office.container, read_timeout=10, sweep_interval=30,
                           progress_every=3.0) as application:
        # The flood gate answers 30 updates a minute per person and then goes quiet: a
        # closed loop would wait forever for the 31st answer. These users are the load
        # being measured, not a flood.
        application.bot_data.runtime.flood = FloodGate(per_minute=1_000_000)
        await file_and_assign(office)  # the queue the users read holds this request,
        await member.taps("Cek backup", TEAM_CHAT)  # and the team is one tap from a check
        await shown(fake, TEAM_CHAT, "Pilih satu untuk diperiksa")
        await drive(fake, users[:5], 1)  # warm-up
        idle_samples, idle_seconds = await drive(fake, users, rounds)
        idle = report("Pulih idle (/antrian, SQLite)", idle_samples, idle_seconds)
        started = time.monotonic()
        await member.taps("WITA", TEAM_CHAT)  # step 4: the whole backup is read, over SSH
        check_samples, _ = await drive(fake, users, None,
                                       team_shows(fake, "Hasil pemeriksaan backup"))
        checked = time.monotonic() - started
        during_check = report("Pulih while the backup is checked",
                              [s for s in check_samples if s[0] - started < checked], checked)
        await member.taps("Restore titik ini", TEAM_CHAT)
        await shown(fake, TEAM_CHAT, "Balas pesan ini dengan nama sistem")
        started = time.monotonic()
        await member.says("simpeg", TEAM_CHAT)
        busy_samples, _ = await drive(fake, users, None, run_ended(fake))
        took = time.monotonic() - started
        ran = [s for s in busy_samples if s[0] - started < took]
        busy = report("Pulih while the restore runs", ran, took)
        for phase in dict.fromkeys(s[2] for s in ran):
            report(f"  {phase[:36]}", [s for s in ran if s[2] == phase], None)
    final = next(m for m in reversed(list(fake.chat(TEAM_CHAT).messages.values()))
                 if "Dijalankan oleh" in text_of(m))
    outcome = "BERHASIL" if "BERHASIL" in text_of(final) else text_of(final)
    print(f"check: {checked:.1f} s; restore: {took:.1f} s, {outcome}")
    base_samples, base_seconds = await bare(fake, users, rounds)
    baseline = report("bare PTB echo (baseline)", base_samples, base_seconds)
    print(f"ratio during check / idle:   p99 {during_check[1] / idle[1]:.2f}x  (target <= 2.0x)")
    print(f"ratio during restore / idle: p99 {busy[1] / idle[1]:.2f}x  (target <= 2.0x)")
    print(f"ratio Pulih idle / baseline: p50 {idle[0] / baseline[0]:.2f}x, "
          f"p99 {idle[1] / baseline[1]:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--restore-mib", type=int, default=1024,
                        help="size of the backup file the restore moves (default 1024)")
    args = parser.parse_args()
    logging.getLogger("paramiko").setLevel(logging.WARNING)
    users = [900_000 + i for i in range(args.users)]
    print(f"Writing a {args.restore_mib} MiB SIMPEG backup ...", flush=True)
    # The servers stand for other machines: niced, they take only the CPU the bot's host
    # leaves idle, as a backup server and a VPS elsewhere would take none.
    with lab_office(20, scans_mib=args.restore_mib, nice=19) as lab:
        print(f"backup file: {(lab.point / DUMP).stat().st_size / (1 << 20):.0f} MiB",
              flush=True)
        add_members(lab.office, users)
        asyncio.run(measure(lab.office, users, args.rounds))

if __name__ == "__main__":
    main()
