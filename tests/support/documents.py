"""Rendering the four documents in tests, from the realistic samples or a changed case."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from zoneinfo import ZoneInfo

from letters.facts import Case, Official
from letters.page import Authenticity, Letterhead, PageSetup
from letters.render import OfficeInfo, Sender, render_pdf
from letters.samples import sample_case, sample_issue

WITA = ZoneInfo("Asia/Makassar")
OFFICE = Letterhead("Pemerintah Kabupaten Kutai Kartanegara", "Dinas Komunikasi dan Informatika",
                    ("Jalan Wolter Monginsidi No. 1, Tenggarong, Kalimantan Timur 75512",),
                    "Telepon (0541) 661234, Laman diskominfo.kukarkab.go.id")
CODE = "K7QM-2XRA-9F"


def render(kind: str, case: Case | None = None, setup: PageSetup | None = None,
           signer: Official | None = None, logo: Path | None = None) -> bytes:
    case = case or sample_case()
    kop = OFFICE if kind != "surat_permohonan" else Letterhead(
        OFFICE.government, case.agency.name, case.agency.address)
    kop = dataclasses.replace(kop, logo=logo)
    issue = sample_issue(kind)
    if signer is not None:
        issue = dataclasses.replace(issue, signer=signer)
    return render_pdf(kind, case=case, issue=issue, sender=Sender(kop, "Tenggarong"),
                      office=OfficeInfo(), setup=setup or PageSetup(),
                      authenticity=Authenticity(CODE, f"Pulih {CODE}"), zone=WITA)
