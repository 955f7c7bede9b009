"""A test that waits for the bot and does not get what it waited for says what it waited
for and what the chats showed instead, so a red run can be read without a rerun."""

from __future__ import annotations

import pytest

from bot.demo.standin import Expect, fake_telegram


def test_a_wait_that_times_out_names_what_it_waited_for_and_what_was_shown() -> None:
    with fake_telegram() as fake:
        fake.placeholder(5001, "Selamat datang, Ahmad Rizali")
        fake.placeholder(-100123, "LANGKAH 4 - Hasil pemeriksaan backup: LULUS DENGAN CATATAN")
        with pytest.raises(AssertionError) as failed:
            fake.wait_for(Expect("'LULUS.' twice in the team group", lambda: False), 0.3)
        report = str(failed.value)
        assert "waited 0.3 s for 'LULUS.' twice in the team group" in report
        assert "chat 5001 (1 messages)" in report and "Selamat datang, Ahmad Rizali" in report
        assert "LULUS DENGAN CATATAN" in report

        with pytest.raises(AssertionError) as unnamed:
            fake.wait_for(lambda: len(fake.chat(5001).messages) == 2, 0.2)
        assert "len(fake.chat(5001).messages) == 2" in str(unnamed.value)  # its own code


def test_a_wait_for_a_bot_that_said_nothing_says_so() -> None:
    with fake_telegram() as fake, pytest.raises(AssertionError) as failed:
        fake.wait_for(Expect("a card for the Kepala Dinas", lambda: False), 0.2)
    assert "a card for the Kepala Dinas" in str(failed.value)
    assert "the bot sent no message" in str(failed.value)
