"""Who hears what when a request moves, checked on the plan alone (a list stands in for
the outbox, no database): cards go to the people on duty with the choices they may take,
nobody unlinked is messaged, the requester is spared Diskominfo's inner steps, and the
documents a step calls for are ordered for the right chats."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.services.documents.orders import Order
from bot.services.requests.decisions import decision_note
from bot.services.requests.notices import (
    Moved,
    Notice,
    Recipient,
    plan_notices,
    post,
    team_next,
)
from bot.workflow.choices import Choice
from bot.workflow.sop import Action, State

TEAM = -1001
REQUESTER = Recipient(1, "Nur Aisyah", 701)
KADIS = Recipient(2, "Muhammad Fajar Setiawan", 702)
KABID_A = Recipient(3, "Fajar Setiawan", 703)
KABID_B = Recipient(4, "Rina Wulandari", None)  # not linked to Telegram yet
MEMBER = Recipient(5, "Andi Pratama", 705)


@dataclass
class FakeOutbox:
    queued: list[Notice] = field(default_factory=list)
    ordered: list[tuple[str, list[Order]]] = field(default_factory=list)

    def queue(self, notice: Notice) -> None:
        self.queued.append(notice)

    def order(self, orders: list[Order], key: str) -> None:
        self.ordered.append((key, orders))

    def to(self, chat_id: int) -> list[Notice]:
        return [n for n in self.queued if n.chat_id == chat_id]


def moved(state: State, version: int = 2, **facts: object) -> Moved:
    base: dict[str, object] = {"request_id": 42, "version": version, "state": state,
                               "requester": REQUESTER, "team_chat_id": TEAM}
    return Moved(**{**base, **facts})  # type: ignore[arg-type]


def sent(m: Moved, by: str = "", note: str = "") -> FakeOutbox:
    outbox = FakeOutbox()
    post(plan_notices(m, by, note), outbox)
    return outbox


def labels(notice: Notice) -> list[list[tuple[str, int | None]]]:
    return [[(c.kind, c.argument) for c in row] for row in notice.choices or []]


def test_a_new_request_reaches_the_kepala_dinas_with_every_kepala_bidang_but_the_requester(
) -> None:
    requester_is_kabid = Recipient(3, KABID_A.name, 703)
    outbox = sent(moved(State.SUBMITTED, version=1, requester=requester_is_kabid,
                        kadis=(KADIS,), kabids=(KABID_A, KABID_B)))
    [card] = outbox.queued
    assert (card.chat_id, card.kind, card.key) == (702, "card_kadis", "42:1:kadis:2")
    assert labels(card) == [[("d", 4)], [("r", None), ("x", None)]]
    assert card.choices is not None and card.choices[0][0].name == "Rina Wulandari"
    assert outbox.ordered == []  # and the requester hears nothing of their own filing


def test_a_refiled_request_tells_the_requester_too() -> None:
    outbox = sent(moved(State.SUBMITTED, version=3, kadis=(KADIS,)), by="Admin")
    assert [n.kind for n in outbox.to(701)] == ["notice"]
    assert outbox.to(701)[0].values == {"by": "Admin", "note": ""}


def test_nobody_unlinked_is_messaged_and_their_card_waits() -> None:
    outbox = sent(moved(State.DISPOSED_TO_KABID, request_kabid=(KABID_B,), team=(MEMBER,)))
    assert [n.chat_id for n in outbox.queued] == [701]  # only the requester's notice


def test_the_kepala_bidang_may_send_to_the_group_or_a_member_never_to_the_requester(
) -> None:
    member_requester = Recipient(1, REQUESTER.name, 701)
    outbox = sent(moved(State.DISPOSED_TO_KABID, request_kabid=(KABID_A,),
                        team=(MEMBER, member_requester)), by="Pak Kadis", note="segera")
    [card] = outbox.to(703)
    assert card.kind == "card_kabid" and card.values == {"by": "Pak Kadis", "note": "segera"}
    assert labels(card) == [[("a", 0)], [("k", 0)], [("n", 0)], [("a", 5)], [("x", None)]]
    assert card.choices is not None and card.choices[0][0].variant == "grup"


def test_an_assignment_goes_to_the_team_group_with_the_disposition_sheet() -> None:
    outbox = sent(moved(State.ASSIGNED_TO_TEAM, assignee=MEMBER), by="Bu Kabid")
    [card] = outbox.to(TEAM)
    assert card.kind == "card_team" and card.values["assignee"] == MEMBER
    assert labels(card) == [[("b", None)]]
    assert outbox.ordered == [("42:2", [Order("disposisi", (TEAM,))])]


def test_a_move_the_team_saw_happen_on_its_own_message_is_not_repeated_there() -> None:
    outbox = sent(moved(State.ASSIGNED_TO_TEAM, team_chat_id=0))
    assert outbox.to(TEAM) == [] and outbox.ordered == []
    outbox = sent(moved(State.RESTORE_FAILED, team_chat_id=0,
                        team_next=team_next(State.RESTORE_FAILED, 42, 2, 9, None)))
    assert outbox.to(TEAM) == []
    assert [n.template for n in outbox.to(701)] == ["notice_requester"]


def test_the_requester_is_spared_diskominfos_inner_steps() -> None:
    for state in (State.BACKUP_CHECKED, State.RESTORED, State.VERIFIED,
                  State.REPORT_SUBMITTED, State.REPORT_RATIFIED):
        assert sent(moved(state, request_kabid=(KABID_A,))).to(701) == [], state


def test_a_submitted_report_goes_to_the_kepala_bidang_with_its_draft() -> None:
    outbox = sent(moved(State.REPORT_SUBMITTED, request_kabid=(KABID_A, KABID_B)), by="Andi")
    [card] = outbox.to(703)
    assert card.kind == "card_report" and labels(card) == [[("y", None), ("yr", None)]]
    assert outbox.ordered == [("42:2", [Order("laporan", (703,), draft=True)])]
    assert [n.template for n in outbox.to(TEAM)] == ["notice_team"]


def test_the_agency_gets_the_step_8_card_and_both_documents_go_to_it_and_the_team() -> None:
    outbox = sent(moved(State.NOTIFIED))
    [card] = outbox.to(701)
    assert card.kind == "card_step8" and labels(card) == [[("ok", None), ("no", None)]]
    assert outbox.ordered == [("42:2", [Order("laporan", (701, TEAM)),
                                        Order("surat_pemberitahuan", (701, TEAM))])]


def test_what_the_team_can_do_next_follows_the_state() -> None:
    assert team_next(State.REOPENED, 42, 2, None, None) == ((Choice("b", 42, 2),),)
    assert team_next(State.RESTORE_FAILED, 42, 2, 9, None) == (
        (Choice("u", 42, 2, 9), Choice("b", 42, 2, variant="lain")),)
    assert team_next(State.RESTORE_FAILED, 42, 2, None, None) == (
        (Choice("b", 42, 2, variant="lain"),),)
    assert team_next(State.RESTORED, 42, 2, None, 7) == (
        (Choice("v", 42, 2),), (Choice("rb", 42, 2, 7),))
    assert team_next(State.VERIFIED, 42, 2, None, None) == ((Choice("lp", 42, 2),),)
    outbox = sent(moved(State.RESTORED, team_next=team_next(State.RESTORED, 42, 2, None, 7)))
    assert labels(outbox.to(TEAM)[0]) == [[("v", None)], [("rb", 7)]]


def test_a_decisions_note_carries_the_instruction_the_reason_and_the_disposition() -> None:
    assert decision_note(Action.ASSIGN, "cek dulu", "Segera", None) == "Segera. cek dulu"
    assert decision_note(Action.ASSIGN, None, "Segera", None) == "Segera"
    assert decision_note(Action.DISPOSE, None, None, "Fajar Setiawan") == \
        "diteruskan kepada Fajar Setiawan"
    assert decision_note(Action.DISPOSE, " mohon dibantu ", None, "Fajar") == "mohon dibantu"
    assert decision_note(Action.REJECT, "bukan wewenang", "abaikan", None) == "bukan wewenang"


def test_a_request_of_an_incident_puts_no_card_of_its_own_before_the_officials_or_team(
        ) -> None:
    every: dict[str, object] = dict(kadis=(KADIS,), kabids=(KABID_A,),
                                    request_kabid=(KABID_A,), team=(MEMBER,), shared=True)
    for state in (State.SUBMITTED, State.DISPOSED_TO_KABID, State.ASSIGNED_TO_TEAM,
                  State.RESTORED, State.VERIFIED, State.RESTORE_FAILED, State.REPORT_SUBMITTED,
                  State.NOTIFIED):
        plan = plan_notices(moved(state, 2, **every))
        assert {n.chat_id for n in plan.notices} <= {REQUESTER.telegram_id}, state
    # Its documents are made all the same: the disposition sheet for the records, the
    # report's draft for its Kepala Bidang, the report and letter for the agency.
    assigned = plan_notices(moved(State.ASSIGNED_TO_TEAM, 2, **every)).orders
    assert [(o.kind, o.chats, o.kept) for o in assigned] == [("disposisi", (), True)]
    report = plan_notices(moved(State.REPORT_SUBMITTED, 2, **every)).orders
    assert [(o.kind, o.chats, o.draft) for o in report] == [("laporan", (703,), True)]
    notified = plan_notices(moved(State.NOTIFIED, 2, **every))
    assert [(o.kind, o.chats) for o in notified.orders] == [
        ("laporan", (701,)), ("surat_pemberitahuan", (701,))]
    assert [n.kind for n in notified.notices] == ["card_step8"]
