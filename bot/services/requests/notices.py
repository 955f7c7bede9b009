"""Who hears what when a request moves: the cards, notices and documents a new state calls
for, planned from plain facts (no database, no chat), then written to an outbox. The plan
is where the rules live, so they are checked without a database (tests/unit)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.services.documents.orders import Order
from bot.workflow.choices import Choice
from bot.workflow.sop import State

Rows = list[list[Choice]]


@dataclass(frozen=True)
class Recipient:
    """A person who may be told: a card waits for one not yet linked to Telegram."""

    person_id: int
    name: str
    telegram_id: int | None
    email: str | None = None  # where one without Telegram is told (issue 21)

    @property
    def mail_only(self) -> str | None:
        """The e-mail address of someone reached by e-mail alone."""
        return self.email if self.telegram_id is None else None


@dataclass(frozen=True)
class Moved:
    """A request just after a move, and who could hear of it that day."""

    request_id: int
    version: int
    state: State
    requester: Recipient
    team_chat_id: int  # 0: the team group is not told (it saw the move on its own message)
    kadis: tuple[Recipient, ...] = ()  # the Kepala Dinas on duty, or stand-ins
    kabids: tuple[Recipient, ...] = ()  # every Kepala Bidang on duty: disposition targets
    request_kabid: tuple[Recipient, ...] = ()  # the request's Kepala Bidang, or stand-ins
    team: tuple[Recipient, ...] = ()  # the Tim Teknis members on duty: assignment targets
    assignee: Recipient | None = None
    team_next: tuple[tuple[Choice, ...], ...] = ()  # what the team can do next, if anything
    # Part of a declared incident and decided on its shared cards: the Kepala Dinas, the
    # Kepala Bidang and the team follow it there (bot.services.incidents.cards), not on
    # cards of its own; its documents are made all the same.
    shared: bool = False


@dataclass(frozen=True)
class Notice:
    """One message to queue: where, which template, which choices under it."""

    key: str
    chat_id: int
    kind: str
    template: str
    values: dict[str, Any] = field(default_factory=dict)
    choices: Rows | None = None
    email: str | None = None  # sent by e-mail to this address instead (chat_id 0)


@dataclass(frozen=True)
class Plan:
    key: str  # the request at this version: what makes a second plan of the move a no-op
    notices: list[Notice]
    orders: list[Order]


class Outbox(Protocol):
    """Where a plan goes: the database's outbox, or a list in a test."""

    def queue(self, notice: Notice) -> None: ...

    def order(self, orders: list[Order], key: str) -> None: ...


# Steps inside Diskominfo that the requester need not hear of one by one.
QUIET_FOR_REQUESTER = frozenset({State.BACKUP_CHECKED, State.RESTORED, State.VERIFIED,
                                 State.REPORT_SUBMITTED, State.REPORT_RATIFIED})
TEAM_NOTICE_STATES = frozenset({State.REOPENED, State.VERIFIED, State.RESTORED,
                                State.RESTORE_FAILED})


def plan_notices(m: Moved, by: str = "", note: str = "") -> Plan:
    """What the move calls for; `by` took it, `note` says why or what next."""
    notices: list[Notice] = []
    orders: list[Order] = []
    key, rid, version, team = f"{m.request_id}:{m.version}", m.request_id, m.version, m.team_chat_id
    said = {"by": by, "note": note}

    def to(people: tuple[Recipient, ...], suffix: str, kind: str, template: str,
           values: dict[str, Any], choices: Rows | None) -> None:
        for person in people:
            if person.telegram_id is None and person.email is None:
                continue  # not linked yet: the card waits in /antrian and in the CLI
            notices.append(Notice(f"{key}:{suffix}:{person.person_id}", person.telegram_id or 0,
                                  kind, template, values, choices, email=person.mail_only))

    def to_team(kind: str, template: str, values: dict[str, Any],
                choices: Rows | None = None) -> None:
        notices.append(Notice(f"{key}:team", team, kind, template, values, choices))

    state = m.state
    if m.shared:
        return _plan_shared(m, key, said)
    if state is State.SUBMITTED:
        rows = [[Choice("d", rid, version, p.person_id, name=p.name)]
                for p in m.kabids if p.person_id != m.requester.person_id]
        rows.append([Choice("r", rid, version), Choice("x", rid, version)])
        to(m.kadis, "kadis", "card_kadis", "card_kadis", {}, rows)
    elif state is State.DISPOSED_TO_KABID:
        rows = [[Choice("a", rid, version, 0, variant="grup")],
                [Choice("k", rid, version, 0)], [Choice("n", rid, version, 0)]]
        rows += [[Choice("a", rid, version, p.person_id, name=p.name)]
                 for p in m.team if p.person_id != m.requester.person_id]
        rows.append([Choice("x", rid, version)])
        to(m.request_kabid, "kabid", "card_kabid", "card_kabid", said, rows)
    elif state is State.ASSIGNED_TO_TEAM and team:
        to_team("card_team", "card_team", {**said, "assignee": m.assignee},
                [[Choice("b", rid, version)]])
        orders.append(Order("disposisi", (team,)))
    elif state is State.REPORT_SUBMITTED:
        to(m.request_kabid, "report", "card_report", "card_report", {"by": by},
           [[Choice("y", rid, version), Choice("yr", rid, version)]])
        orders.append(Order("laporan", tuple(p.telegram_id for p in m.request_kabid
                                             if p.telegram_id), draft=True,
                            emails=_mail_only(m.request_kabid)))
        if team:
            to_team("notice", "notice_team", said)
    elif state is State.NOTIFIED:
        to((m.requester,), "step8", "card_step8", "card_step8", {},
           [[Choice("ok", rid, version), Choice("no", rid, version)]])
        chats = (m.requester.telegram_id or 0, team)
        emails = _mail_only((m.requester,))
        orders += [Order("laporan", chats, emails=emails),
                   Order("surat_pemberitahuan", chats, emails=emails)]
        if team:
            to_team("notice", "notice_team", said)
        return Plan(key, notices, orders)
    elif state in TEAM_NOTICE_STATES and team:
        to_team("notice", "notice_team", said, [list(row) for row in m.team_next])
    if state not in QUIET_FOR_REQUESTER and (state is not State.SUBMITTED or version > 1):
        to((m.requester,), "requester", "notice", "notice_requester", said, None)
    return Plan(key, notices, orders)


def _mail_only(people: tuple[Recipient, ...]) -> tuple[str, ...]:
    return tuple(p.mail_only for p in people if p.mail_only)


def _plan_shared(m: Moved, key: str, said: dict[str, Any]) -> Plan:
    """A move of a request on an incident's shared cards: only the agency is told (as on
    any request), and the documents are made and kept with its records; the report's
    draft still reaches its Kepala Bidang, who ratifies what they have read."""
    notices: list[Notice] = []
    orders: list[Order] = []
    rid, version, state = m.request_id, m.version, m.state
    requester = m.requester.telegram_id
    if state is State.ASSIGNED_TO_TEAM:
        orders.append(Order("disposisi", (), kept=True))
    elif state is State.REPORT_SUBMITTED:
        orders.append(Order("laporan", tuple(p.telegram_id for p in m.request_kabid
                                             if p.telegram_id), draft=True))
    elif state is State.NOTIFIED:
        if requester:
            notices.append(Notice(f"{key}:step8:{m.requester.person_id}", requester,
                                  "card_step8", "card_step8", {},
                                  [[Choice("ok", rid, version), Choice("no", rid, version)]]))
        chats = (requester,) if requester else ()
        return Plan(key, notices, [Order("laporan", chats, kept=True),
                                   Order("surat_pemberitahuan", chats, kept=True)])
    if requester and state not in QUIET_FOR_REQUESTER and (
            state is not State.SUBMITTED or version > 1):
        notices.append(Notice(f"{key}:requester:{m.requester.person_id}", requester, "notice",
                              "notice_requester", said))
    return Plan(key, notices, orders)


def team_next(state: State, rid: int, version: int, last_check: int | None,
              rollback_run: int | None) -> tuple[tuple[Choice, ...], ...]:
    """What the team can do next from where the request stands: start over from a
    reopened request, retry a failed restore from its last check (or another point),
    verify a restore, write the report, roll back while the previous state is kept."""
    if state is State.REOPENED:
        return ((Choice("b", rid, version),),)
    if state is State.RESTORE_FAILED:
        retry = (Choice("u", rid, version, last_check),) if last_check else ()
        return ((*retry, Choice("b", rid, version, variant="lain")),)
    rows: list[tuple[Choice, ...]] = []
    if state is State.RESTORED:
        rows.append((Choice("v", rid, version),))
    elif state is State.VERIFIED:
        rows.append((Choice("lp", rid, version),))
    if rollback_run is not None:
        rows.append((Choice("rb", rid, version, rollback_run),))
    return tuple(rows)


def post(plan: Plan, outbox: Outbox) -> None:
    """Queue the plan's messages, then order its documents."""
    for notice in plan.notices:
        outbox.queue(notice)
    if plan.orders:
        outbox.order(plan.orders, plan.key)
