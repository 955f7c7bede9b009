"""The office's stationery: letterhead, page and wording settings, as the inventory gives
them; loaded once per process, into the container."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.inventory.model import Agency, Inventory, LetterSettings, Office
from letters.facts import Case, Official, Party

if TYPE_CHECKING:
    from letters.page import Letterhead, PageSetup
    from letters.render import OfficeInfo

# The page classes are imported where a document needs them: they load fpdf, its fonts
# and numpy (some 70 MB), which every process that reads the office's facts (a restore's,
# the CLI's) would otherwise carry without using.


@dataclass(frozen=True)
class Stationery:
    """The office's letterhead, page and wording settings, from the inventory."""

    office: Office
    letters: LetterSettings
    agencies: tuple[Agency, ...] = ()

    @classmethod
    def from_inventory(cls, inventory: Inventory) -> Stationery:
        return cls(inventory.office, inventory.letters, inventory.agencies)

    def agency(self, code: str) -> Agency | None:
        return next((a for a in self.agencies if a.code == code), None)

    def letter_pattern(self, code: str) -> str | None:
        """The agency's own numbering pattern for its request letters, if it has one."""
        agency = self.agency(code)
        return agency.letter_pattern if agency is not None else None

    def request_signer(self, party: Party) -> Official:
        """Who signs the request letter Pulih writes for an agency: the official the
        inventory names for it, else its head, whose name is left to write by hand."""
        agency = self.agency(party.code)
        named = agency.letter_signer if agency is not None else None
        if named is None:
            return Official("", party.head)
        return Official(named.name, named.jabatan, named.pangkat, named.nip)

    @property
    def setup(self) -> PageSetup:
        from letters.fonts import FontFiles, bundled_fonts
        from letters.page import PageSetup

        fonts = bundled_fonts() if self.letters.fonts is None else FontFiles(*self.letters.fonts)
        return PageSetup(paper=self.letters.paper, margins=self.letters.margins,
                         font_size=self.letters.font_size, fonts=fonts)

    @property
    def letterhead(self) -> Letterhead:
        from letters.page import Letterhead

        o = self.office
        contact = ", ".join(part for part in (
            f"Telepon {o.phone}" if o.phone else "", f"Laman {o.website}" if o.website else "",
            f"Pos-el {o.email}" if o.email else "") if part)
        return Letterhead(o.government, o.name, (", ".join(o.address),) if o.address else (),
                          contact, o.logo)

    def agency_letterhead(self, case: Case) -> Letterhead:
        from letters.page import Letterhead

        address = (", ".join(case.agency.address),) if case.agency.address else ()
        return Letterhead(self.office.government, case.agency.name, address)

    @property
    def info(self) -> OfficeInfo:
        from letters.render import OfficeInfo

        government = self.office.government.removeprefix("Pemerintah ").strip()
        return OfficeInfo(head=f"Kepala {self.office.name} {government}",
                          city=self.office.city, tembusan=self.letters.tembusan)
