"""KONSEP drafts (reports shown to the Kepala Bidang before ratification) are kept 30
days, settled outbox messages of finished requests 90, then the daily housekeeping
deletes them; issued documents and anything still owed are never touched."""

from __future__ import annotations

import os
import time
from datetime import timedelta

from sqlalchemy import select

from bot.bootstrap import Container
from bot.db.models import OutboxMessage
from bot.services.documents.paperwork import DRAFTS_KEPT, prune_drafts
from bot.services.outbox.queue import OUTBOX_KEPT, prune_outbox
from bot.workflow.rules import Actor
from bot.workflow.sop import State
from tests.integration.helpers import place_request


def test_old_konsep_drafts_are_deleted_and_everything_else_is_kept(
        container: Container) -> None:
    data = container.settings.data_dir
    konsep, documents = data / "konsep", data / "documents"
    konsep.mkdir(parents=True)
    documents.mkdir(parents=True)
    month_ago = time.time() - (DRAFTS_KEPT + timedelta(days=1)).total_seconds()
    old, fresh = konsep / "laporan-1.pdf", konsep / "laporan-2.pdf"
    issued = documents / "laporan-K7QM-2XRA-9F.pdf"
    for path in (old, fresh, issued):
        path.write_bytes(b"%PDF-1.7\n")
    os.utime(old, (month_ago, month_ago))
    os.utime(issued, (month_ago, month_ago))
    linked = konsep / "tautan.pdf"
    linked.symlink_to(issued)  # never followed out of the folder
    os.utime(linked, (month_ago, month_ago), follow_symlinks=False)

    assert prune_drafts(container) == 1
    assert not old.exists() and fresh.exists()
    assert issued.exists() and linked.is_symlink()


def test_settled_outbox_rows_of_finished_requests_go_after_90_days_and_nothing_else(
        container: Container, actors: dict[str, Actor]) -> None:
    now = container.clock()
    old = now - OUTBOX_KEPT - timedelta(days=1)
    with container.unit_of_work() as session:
        done = place_request(session, State.ACKNOWLEDGED, actors["requester"],
                             actors["kabid_a"], actors["tim_exec"])
        running = place_request(session, State.ASSIGNED_TO_TEAM, actors["requester"],
                                actors["kabid_a"], actors["tim_exec"])
        rows = {  # key: (status, created, request)
            "lama-selesai": ("sent", old, done.id), "lama-tanpa-permohonan": ("failed", old, None),
            "lama-tertunda": ("pending", old, None), "lama-berjalan": ("sent", old, running.id),
            "baru-selesai": ("sent", now, done.id), "lama-diblokir": ("blocked", old, None)}
        for key, (status, created, request_id) in rows.items():
            session.add(OutboxMessage(dedupe_key=key, chat_id=1, kind="t", payload="{}",
                                      request_id=request_id, status=status, attempts=1,
                                      next_attempt_at=created, created_at=created,
                                      last_error=""))
    with container.unit_of_work() as session:
        assert prune_outbox(session, now) == 3
    with container.sessions() as session:
        kept = set(session.execute(select(OutboxMessage.dedupe_key)).scalars())
    assert kept == {"lama-tertunda", "lama-berjalan", "baru-selesai"}
