"""KONSEP drafts (reports shown to the Kepala Bidang before ratification) are kept 30
days, then deleted by the daily housekeeping; issued documents are never touched."""

from __future__ import annotations

import os
import time
from datetime import timedelta

from bot.bootstrap import Container
from bot.services.paperwork import DRAFTS_KEPT, prune_drafts


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
