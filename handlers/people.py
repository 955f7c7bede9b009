"""/orang: an admin manages people from chat: the list, links for those not yet linked,
unlinking a lost phone, deactivating and activating. Private chat only; each change and
its reply are committed together."""

from __future__ import annotations

from sqlalchemy.orm import Session
from telegram import Update

from bot.services.people.admin import (
    Admin,
    activate,
    deactivate,
    people,
    unlink,
    unlinked_nips,
)
from bot.services.people.linking import CODE_LIFETIME, invite
from bot.workflow.refusals import Refusal
from bot.workflow.sop import ROLE_LABELS, Role
from handlers.common import Answer, actor_or_explain, in_session, reply, text
from handlers.runtime import PulihContext, kick_delivery

CHANGES = {"lepas": "unlink", "nonaktif": "deactivate", "aktif": "activate"}


async def orang(update: Update, context: PulihContext) -> None:
    actor = await actor_or_explain(update, context)
    if actor is None or update.effective_message is None:
        return
    if Role.ADMIN not in actor.roles:
        await reply(update, context, text(context, "people", view="not_admin"))
        return
    args = [a[:40] for a in (context.args or [])][:20]
    verb = args[0].lower() if args else "daftar"
    if verb not in ("daftar", "undang", *CHANGES) or \
            (verb in (*CHANGES, "undang") and len(args) < 2):
        await reply(update, context, text(context, "people", view="usage"))
        return
    admin = Admin(actor.name, actor.person_id)
    answer = Answer(update)

    def work(session: Session) -> None:
        try:
            words = _do(session, verb, args[1:], admin, context)
        except Refusal as refusal:
            words = refusal.message
        answer.say(words)
        answer.queue(session, context)

    await in_session(context, work)
    kick_delivery(context, documents=False)


def _do(session: Session, verb: str, rest: list[str], admin: Admin,
        context: PulihContext) -> str:
    now = context.pulih.container.clock()
    if verb == "daftar":
        return text(context, "people", view="list", rows=people(session), labels=ROLE_LABELS)
    if verb == "undang":
        nips = unlinked_nips(session) if rest == ["semua"] else rest
        if not nips:
            return text(context, "people", view="all_linked")
        links = []
        for nip in nips:
            person, code = invite(session, nip, now, admin.name)
            links.append((person.name, person.nip, code))
        return text(context, "people", view="invite", links=links,
                    username=context.bot.username, lifetime=CODE_LIFETIME)
    nip = rest[0]
    if verb == "lepas":
        person = unlink(session, nip, admin, now)
    elif verb == "nonaktif":
        person = deactivate(session, nip, admin, now, " ".join(rest[1:]))
    else:
        person = activate(session, nip, admin, now)
    return text(context, "people", view=CHANGES[verb], name=person.name, nip=person.nip)
