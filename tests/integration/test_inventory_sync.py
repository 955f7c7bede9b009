"""`pulih inventory sync`: the database follows the file; linked accounts survive; one event."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from bot.bootstrap import Container
from bot.db.models import AuditEvent, BackupServer, Delegation, Person, RoleAssignment, System
from bot.inventory.loader import load_inventory
from bot.services.office.inventory_sync import sync_inventory
from tests.support.office import NIPS, NOW


def _sync(container: Container, path: Path) -> bool:
    with container.unit_of_work() as session:
        return sync_inventory(session, load_inventory(path), NOW).changed


def test_an_unchanged_inventory_is_not_recorded_twice(container: Container) -> None:
    path = container.settings.inventory_path
    assert _sync(container, path) is False
    with container.sessions() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == 1


def test_people_dropped_from_the_inventory_lose_access_and_linked_ids_are_kept(
        container: Container) -> None:
    path = container.settings.inventory_path
    with container.unit_of_work() as session:
        kadis = session.execute(select(Person).where(Person.nip == NIPS["kadis"])).scalar_one()
        kadis.telegram_id = 777001  # bound by linking, not written in the file
    text = path.read_text(encoding="utf-8")
    dropped = f'[[people]]\nnip = "{NIPS["auditor"]}"\nname = "Yohanes Lembang"\n' \
              'roles = ["auditor"]\nagency = "DISKOMINFO"\n'
    assert dropped in text
    text = text.replace(dropped, "").replace('code = "simpeg"', 'code = "simpeg-baru"')
    path.write_text(text.replace(
        'name = "Rina Maharani"\nroles = ["kabid"]', 'name = "Rina Maharani"\nroles = ["tim"]'),
        encoding="utf-8")
    assert _sync(container, path) is True
    with container.sessions() as session:
        people = {p.nip: p for p in session.execute(select(Person)).scalars()}
        assert people[NIPS["kadis"]].telegram_id == 777001
        assert people[NIPS["auditor"]].active is False
        roles = {(r.person_id, r.role) for r in session.execute(select(RoleAssignment)).scalars()}
        assert not any(pid == people[NIPS["auditor"]].id for pid, _ in roles)
        assert (people[NIPS["kabid_b"]].id, "tim") in roles
        assert (people[NIPS["kabid_b"]].id, "kabid") not in roles
        systems = {s.code: s.active for s in session.execute(select(System)).scalars()}
        assert systems["simpeg"] is False and systems["simpeg-baru"] is True
        assert session.scalar(select(func.count()).select_from(Delegation)) == 3
        events = session.execute(select(AuditEvent.action)).scalars().all()
        assert events == ["inventory_sync", "inventory_sync"]


def test_a_telegram_id_written_in_the_inventory_moves_to_that_person(
        container: Container) -> None:
    path = container.settings.inventory_path
    with container.unit_of_work() as session:
        kadis = session.execute(select(Person).where(Person.nip == NIPS["kadis"])).scalar_one()
        kadis.telegram_id = 777002
    text = path.read_text(encoding="utf-8").replace(
        'name = "Fajar Setiawan"\n', 'name = "Fajar Setiawan"\ntelegram_id = 777002\n')
    path.write_text(text, encoding="utf-8")
    _sync(container, path)
    with container.sessions() as session:
        owner = session.execute(select(Person).where(Person.telegram_id == 777002)).scalar_one()
        assert owner.nip == NIPS["kabid_a"]


def test_limits_priorities_and_zones_follow_the_file(container: Container) -> None:
    path = container.settings.inventory_path
    text = path.read_text(encoding="utf-8")
    text = text.replace('name = "backup-dc"', 'name = "backup-dc"\nmax_restores = 3\n'
                                              'zone = "dc-tenggarong"', 1)
    text = text.replace('recipe = "mariadb"', 'recipe = "mariadb"\npriority = 1\n'
                                              'zone = "dc-tenggarong"', 1)
    path.write_text(text, encoding="utf-8")
    assert _sync(container, path) is True
    with container.sessions() as session:
        server = session.execute(select(BackupServer)).scalar_one()
        assert (server.max_restores, server.zone) == (3, "dc-tenggarong")
        rows = {(s.priority, s.zone) for s in session.execute(select(System)).scalars()}
    assert rows == {(1, "dc-tenggarong"), (5, None)}
