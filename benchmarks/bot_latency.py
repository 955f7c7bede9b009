"""Chat latency: 50 simulated users talking to the real bot through a local Bot API.

    python3 benchmarks/bot_latency.py [--users 50] [--rounds 10]

Starts the fake Bot API server the tests use (127.0.0.1), a SQLite office with one
linked person per simulated user, and the real Application polling it. Each user sends
/antrian (which reads the database and renders the queue), waits for the reply, and
sends again, `--rounds` times. Prints p50 and p99 from update to reply and updates per
second; then the same load against a bare python-telegram-bot Application that answers
"ok" without touching a database (the baseline, measured in the same run), and the
ratio of the two.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402
from telegram import Update  # noqa: E402
from telegram.ext import Application, ApplicationBuilder, CommandHandler, ContextTypes  # noqa: E402

from bot.chat.standin import TOKEN, FakeTelegram, fake_telegram  # noqa: E402
from bot.db.models import Person, RoleAssignment  # noqa: E402
from tests.support.office import NIPS  # noqa: E402
from tests.support.running_bot import chat_office, running_bot  # noqa: E402


async def drive(fake: FakeTelegram, users: list[int], rounds: int) -> tuple[list[float], float]:
    """Closed loop: every user sends, waits for the answer, sends again."""
    latencies: list[float] = []

    async def one(user: int) -> None:
        for _ in range(rounds):
            before = len(fake.chat(user).messages)
            started = time.monotonic()
            fake.user_says(user, "/antrian")
            while len(fake.chat(user).messages) <= before:
                await asyncio.sleep(0.002)
            reply = list(fake.chat(user).messages)[-1]
            latencies.append(fake.sent_at[reply] - started)

    begin = time.monotonic()
    await asyncio.gather(*(one(u) for u in users))
    return latencies, time.monotonic() - begin


async def _ok(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_message is not None:
        await update.effective_message.reply_text("ok")


async def bare(fake: FakeTelegram, users: list[int], rounds: int) -> tuple[list[float], float]:
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


def report(label: str, latencies: list[float], seconds: float) -> tuple[float, float]:
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    print(f"{label:<34} p50 {p50:7.1f} ms   p99 {p99:7.1f} ms   "
          f"{len(latencies) / seconds:7.1f} updates/s   ({len(latencies)} updates)")
    return p50, p99


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    users = [900_000 + i for i in range(args.users)]
    with tempfile.TemporaryDirectory() as tmp, fake_telegram() as fake:
        container = chat_office(Path(tmp), fake)
        with container.unit_of_work() as session:  # one team member per simulated user
            office = session.execute(select(Person).where(Person.nip == NIPS["tim_exec"])
                                     ).scalar_one()
            for index, user in enumerate(users):
                person = Person(nip=f"19900101{index:010d}", name=f"Anggota Tim {index + 1}",
                                jabatan="Pranata Komputer", pangkat="", active=True,
                                agency_id=office.agency_id, telegram_id=user)
                person.roles.append(RoleAssignment(role="tim"))
                session.add(person)

        async def run() -> None:
            async with running_bot(container, read_timeout=10, sweep_interval=30):
                await drive(fake, users[:5], 1)  # warm-up
                latencies, seconds = await drive(fake, users, args.rounds)
            pulih = report("Pulih (/antrian, SQLite)", latencies, seconds)
            base_latencies, base_seconds = await bare(fake, users, args.rounds)
            baseline = report("bare PTB echo (baseline)", base_latencies, base_seconds)
            print(f"ratio Pulih/baseline: p50 {pulih[0] / baseline[0]:.2f}x, "
                  f"p99 {pulih[1] / baseline[1]:.2f}x")

        asyncio.run(run())
        container.close()


if __name__ == "__main__":
    main()
