"""`pulih run` as a process: it polls the configured Bot API URL, registers its commands,
answers, and stops cleanly on Ctrl+C (SIGINT)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from bot.chat.standin import TOKEN, fake_telegram
from tests.support.cli import office_env, pulih


def test_pulih_run_polls_answers_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    with fake_telegram() as fake:
        env = {**office_env(tmp_path), "PULIH_BOT_TOKEN": TOKEN,
               "PULIH_BOT_API_URL": f"{fake.url}/bot",
               "PULIH_BOT_FILE_URL": f"{fake.url}/file/bot"}
        assert pulih(env, "db", "upgrade").returncode == 0
        assert pulih(env, "inventory", "sync").returncode == 0
        exe = Path(sys.executable).with_name("pulih")
        process = subprocess.Popen([str(exe), "run"], env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        try:
            fake.wait_for(lambda: bool(fake.commands), timeout=60)
            fake.user_says(4242, "/bantuan")
            fake.wait_for(lambda: bool(fake.chat(4242).messages), timeout=30)
        finally:
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "Pulih berjalan (long polling" in out
    assert "belum terhubung dengan Pulih" in fake.chat(4242).texts()[0]
    assert {c["command"] for c in fake.commands} == {"mohon", "status", "antrian", "bantuan"}
    assert TOKEN not in out + err  # the token never reaches the log
