"""`pulih run` as a process: it polls the configured Bot API URL, registers its commands,
answers, and stops cleanly on Ctrl+C (SIGINT)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.demo.lab.loopback import free_port
from bot.demo.standin import TOKEN, Fault, fake_telegram
from tests.support.cli import clocked, office_env, pulih


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


def test_a_rejected_token_ends_pulih_run_with_one_line_and_no_secret(tmp_path: Path) -> None:
    with fake_telegram() as fake:
        fake.fail_next("getMe", Fault(401, "Unauthorized"), times=20)
        env = {**office_env(tmp_path), "PULIH_BOT_TOKEN": TOKEN,
               "PULIH_BOT_API_URL": f"{fake.url}/bot",
               "PULIH_BOT_FILE_URL": f"{fake.url}/file/bot"}
        assert pulih(env, "db", "upgrade").returncode == 0
        result = pulih(env, "run", timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"Token bot ditolak oleh Bot API di {fake.url}: periksa PULIH_BOT_TOKEN (token dari "
        "BotFather untuk bot ini)."]
    assert TOKEN not in result.stdout + result.stderr


def test_an_unreachable_bot_api_is_said_in_one_line_and_retried_until_ctrl_c(
        tmp_path: Path) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    env = {**office_env(tmp_path), "PULIH_BOT_TOKEN": TOKEN,
           "PULIH_BOT_API_URL": f"{nobody}/bot", "PULIH_BOT_FILE_URL": f"{nobody}/file/bot"}
    assert pulih(env, "db", "upgrade").returncode == 0
    command, env = clocked(env)
    process = subprocess.Popen([*command, "run"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    try:
        first = process.stderr.readline()  # the process says so before its first pause
        process.send_signal(signal.SIGINT)
        out, rest = process.communicate(timeout=60)
    finally:
        _stop(process)
    assert first == (f"Bot API di {nobody} tidak dapat dihubungi (NetworkError); mencoba lagi "
                     "dalam 5 detik.\n")
    assert process.returncode == 0 and "Pulih dihentikan." in out
    assert "Traceback" not in rest and TOKEN not in first + out + rest


@pytest.mark.slow
def test_ctrl_c_while_the_bot_api_is_slow_to_answer_ends_pulih_run_before_it_answers(
        tmp_path: Path) -> None:
    with fake_telegram() as fake:
        fake.fail_next("getMe", Fault(502, "Bad Gateway", delay=40))
        env = {**office_env(tmp_path), "PULIH_BOT_TOKEN": TOKEN,
               "PULIH_BOT_API_URL": f"{fake.url}/bot",
               "PULIH_BOT_FILE_URL": f"{fake.url}/file/bot"}
        assert pulih(env, "db", "upgrade").returncode == 0
        command, env = clocked(env)
        process = subprocess.Popen([*command, "run"], env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 60
            while fake.faults_left() and time.monotonic() < deadline:
                time.sleep(0.05)
            assert fake.faults_left() == 0  # its getMe is under way, answered in 40 s
            time.sleep(0.5)
            process.send_signal(signal.SIGINT)
            out, rest = process.communicate(timeout=30)
        finally:
            _stop(process)
    assert process.returncode == 0 and "Pulih dihentikan." in out
    assert "Traceback" not in rest and "mencoba lagi" not in rest


def _stop(process: subprocess.Popen[str]) -> None:
    """A `pulih run` a failed test leaves behind is ended, not left to a later test."""
    if process.poll() is None:
        process.kill()
        process.communicate(timeout=30)
