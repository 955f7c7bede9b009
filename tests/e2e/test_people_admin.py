"""People managed without editing TOML: `pulih people` and, for admins, /orang in chat.
The real Application against the Bot API stand-in; every change in the activity record."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.bootstrap import Container, bootstrap
from bot.db.models import AuditEvent, Person, Request
from bot.demo.standin import TOKEN, FakeTelegram
from bot.inventory.loader import load_inventory
from bot.services.office.inventory_sync import sync_inventory
from bot.services.people.linking import redeem
from bot.settings import load_settings
from tests.support.cli import office_env, pulih
from tests.support.office import NIPS, NOW
from tests.support.running_bot import file_request, has_messages, linked_office, running_bot, until

ADMIN, KADIS, KADIS_NEW_PHONE, REQUESTER = 7001, 5001, 5002, 3001


@pytest.fixture
def office(tmp_path: Path, fake: FakeTelegram) -> Iterator[Container]:
    container = linked_office(tmp_path, fake, {"admin": ADMIN, "kadis": KADIS,
                                               "requester": REQUESTER})
    yield container
    container.close()


def events(container: Container, action: str) -> list[AuditEvent]:
    with container.sessions() as session:
        return list(session.execute(select(AuditEvent).where(AuditEvent.action == action))
                    .scalars())


def person(container: Container, nip: str) -> Person:
    with container.sessions() as session:
        return session.execute(select(Person).where(Person.nip == nip)).scalar_one()


def test_an_admin_unlinks_a_lost_phone_in_chat_and_the_old_account_is_refused(
        office: Container, fake: FakeTelegram) -> None:
    request = file_request(office)
    taps: list[str] = []

    async def scenario() -> None:
        async with running_bot(office):
            # The Kepala Dinas's card arrives on the phone that will be lost.
            await until(fake, has_messages(fake, KADIS, 1))
            card = next(iter(fake.chat(KADIS).messages.values()))
            fake.user_says(REQUESTER, "/orang")  # not an admin
            await until(fake, has_messages(fake, REQUESTER, 1))
            fake.user_says(ADMIN, "/orang")
            await until(fake, has_messages(fake, ADMIN, 1))
            fake.user_says(ADMIN, f"/orang lepas {NIPS['kadis']}")
            await until(fake, has_messages(fake, ADMIN, 2))
            # Whoever now holds the old phone taps the card: refused, nothing changes.
            data = next(b["callback_data"] for row in card["reply_markup"]["inline_keyboard"]
                        for b in row if "callback_data" in b)
            taps.append(fake.user_taps(KADIS, KADIS, card["message_id"], data))
            await until(fake, lambda: taps[0] in fake.answered)
            fake.user_says(KADIS, "/antrian")
            await until(fake, has_messages(fake, KADIS, 2))
            # A new link for the new phone, asked for in chat, binds the new account.
            fake.user_says(ADMIN, f"/orang undang {NIPS['kadis']}")
            await until(fake, has_messages(fake, ADMIN, 3))
            code = fake.chat(ADMIN).texts()[2].split("?start=", 1)[1].split()[0]
            fake.user_says(KADIS_NEW_PHONE, f"/start {code}")
            await until(fake, has_messages(fake, KADIS_NEW_PHONE, 1))

    asyncio.run(scenario())
    requester_says = fake.chat(REQUESTER).texts()[-1]
    assert requester_says == "Perintah /orang hanya untuk admin Pulih."
    listing = fake.chat(ADMIN).texts()[0]
    assert listing.startswith("PEGAWAI DI PULIH (")
    kadis_entry = listing.split(f"- {NIPS['kadis']}\n", 1)[1].splitlines()[0]
    assert kadis_entry.strip() == "Kepala Dinas · DISKOMINFO · terhubung"
    kabid_entry = listing.split(f"- {NIPS['kabid_a']}\n", 1)[1].splitlines()[0]
    assert kabid_entry.strip().endswith("· belum terhubung")
    assert f"({NIPS['kadis']}) dilepas" in fake.chat(ADMIN).texts()[1]
    assert "belum terhubung" in fake.answered[taps[0]]["text"]
    assert "belum terhubung" in fake.chat(KADIS).texts()[-1]
    with office.sessions() as session:
        stored = session.get(Request, request.id)
        assert stored is not None and stored.state == "submitted"
    assert person(office, NIPS["admin"]).last_seen_at is not None  # what `people list` shows
    assert person(office, NIPS["kabid_a"]).last_seen_at is None
    (unlinked,) = events(office, "telegram_unlinked")
    assert unlinked.actor_name == "Admin Pulih" and f'"telegram_id":{KADIS}' in unlinked.data
    assert person(office, NIPS["kadis"]).telegram_id == KADIS_NEW_PHONE
    assert "Akun Telegram Anda kini terhubung dengan Pulih." in \
        fake.chat(KADIS_NEW_PHONE).texts()[0]


@pytest.mark.slow
def test_people_commands_list_invite_many_unlink_deactivate_and_a_sync_keeps_them(
        tmp_path: Path, fake: FakeTelegram) -> None:
    env = {**office_env(tmp_path), "PULIH_BOT_TOKEN": TOKEN,
           "PULIH_BOT_API_URL": f"{fake.url}/bot", "PULIH_BOT_FILE_URL": f"{fake.url}/file/bot"}
    assert pulih(env, "db", "upgrade").returncode == 0
    assert pulih(env, "inventory", "sync").returncode == 0

    invited = pulih(env, "people", "invite", "--semua-belum-terhubung")
    assert invited.returncode == 0, invited.stderr
    links = [line for line in invited.stdout.splitlines() if "?start=" in line]
    assert len(links) == len(NIPS)
    assert f"Admin Pulih (NIP {NIPS['admin']}): https://t.me/pulih_uji_bot?start=" in \
        invited.stdout
    code = next(line for line in links if NIPS["kadis"] in line).split("?start=")[1]
    container = bootstrap(load_settings(environ=env))
    try:
        with container.unit_of_work() as session:
            redeem(session, code.strip(), KADIS, NOW)
        listed = pulih(env, "people", "list")
        assert listed.returncode == 0
        kadis_line = listed.stdout.split(NIPS["kadis"], 1)[1].splitlines()
        assert "terhubung; terakhir terlihat: belum pernah" in kadis_line[1]
        assert "belum terhubung" in listed.stdout.split(NIPS["kabid_a"], 1)[1].splitlines()[1]

        done = pulih(env, "people", "unlink", NIPS["kadis"])
        assert done.returncode == 0 and "dilepas" in done.stdout
        again = pulih(env, "people", "unlink", NIPS["kadis"])
        assert again.returncode == 1 and "belum terhubung ke akun Telegram" in again.stderr
        gone = pulih(env, "people", "deactivate", NIPS["kabid_b"], "--reason", "pindah tugas")
        assert gone.returncode == 0 and "dinonaktifkan" in gone.stdout

        # The inventory still lists both, and even binds the lost account: a sync keeps
        # the deactivation and does not bind the unlinked account again.
        inventory = Path(env["PULIH_INVENTORY"])
        inventory.write_text(inventory.read_text().replace(
            f'nip = "{NIPS["kadis"]}"', f'nip = "{NIPS["kadis"]}"\ntelegram_id = {KADIS}', 1))
        with container.unit_of_work() as session:
            sync_inventory(session, load_inventory(inventory), NOW)
        assert person(container, NIPS["kadis"]).telegram_id is None
        assert person(container, NIPS["kabid_b"]).active is False
        listed = pulih(env, "people", "list")
        assert "NONAKTIF (dinonaktifkan admin)" in listed.stdout.split(
            NIPS["kabid_b"], 1)[1].splitlines()[1]
        back = pulih(env, "people", "activate", NIPS["kabid_b"])
        assert back.returncode == 0 and "aktif kembali" in back.stdout
        assert person(container, NIPS["kabid_b"]).active is True
        deactivated = events(container, "person_deactivated")
        assert [e.note for e in deactivated] == ["pindah tugas"]
        assert len(events(container, "telegram_unlinked")) == 1
        assert len(events(container, "person_activated")) == 1
        assert len(events(container, "link_invited")) == len(NIPS)
        assert pulih(env, "audit", "verify").returncode == 0
    finally:
        container.close()
