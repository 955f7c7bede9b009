"""Sending the outbox's e-mails through the office's SMTP server, each once.

Blocking (smtplib), for a worker thread. One connection a round: STARTTLS (or TLS from the
start) with the server's certificate checked, then the login from its file. Each attempt
is recorded before it starts; the moment the message's data begins to travel is written
to the receipts file ("S"), and the server's acceptance right after ("R"), before the
database settles the row. After a crash (`reconcile_mail`): accepted means sent; not yet
begun goes again; begun but unanswered may have arrived, and is NOT sent again (an e-mail
cannot be taken back, and the Telegram message it copies still stands): the admins are
told to check. A refusal by the server (5xx) ends the row as failed, admins told; a
temporary one (4xx) or a network fault tries again later."""

from __future__ import annotations

import contextlib
import logging
import smtplib
import ssl
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, make_msgid
from typing import Any

from sqlalchemy import select, update

from bot.bootstrap import Container
from bot.db.models import OutboxMessage
from bot.render import render_text
from bot.services.office.bot_identity import telegram_link
from bot.services.outbox.email_copies import request_letter
from bot.services.outbox.queue import EMAIL
from bot.services.outbox.receipts import MAX_SIZE, Receipts
from bot.services.outbox.sending import (
    attempting,
    document_folders,
    due_messages,
    give_up,
    read_document,
    release,
    settle,
    tell_admins,
)
from bot.settings import Settings

log = logging.getLogger("pulih.mail")
RECEIPTS_FILE = "outbox-email-receipts.log"
MAX_BACKOFF = 900
TIMEOUT = 30.0
MAIL_IN_DOUBT = ("ragu: terputus saat isi e-mail dikirim; mungkin sudah sampai, tidak "
                 "dikirim lagi")


class MailUnavailable(Exception):
    """The SMTP server cannot be reached or refuses the login: every e-mail waits."""


def deliver_mail(c: Container, receipts: Receipts) -> int:
    """Send the e-mails due now; returns how many the server accepted."""
    settings = c.settings
    if settings.smtp_host is None or settings.mail_from is None:
        return 0
    now = c.clock()
    due = due_messages(c, now, channel=EMAIL)
    if not due:
        return 0
    receipts.clear(when_over=MAX_SIZE)
    attempting(c, [(row[0], row[4] + 1) for row in due])
    try:
        server = _connect(settings)
    except MailUnavailable as exc:
        log.warning("server SMTP tidak dapat dipakai: %s; %d e-mail menunggu", exc, len(due))
        for row_id, _, _, _, attempts in due:
            _later(c, row_id, attempts, now, str(exc))
        return 0
    settled: set[int] = set()
    try:
        return _send_round(c, server, due, receipts, now, settled)
    finally:
        # Whatever stopped the round (a bug, the database away): a row whose data had
        # begun to travel is settled from the receipts as after a crash; the others are
        # pending again as they were, never left "sending".
        _unsettled(c, [row[0] for row in due if row[0] not in settled], receipts)
        try:
            server.quit()
        except (OSError, smtplib.SMTPException):
            server.close()


def _send_round(c: Container, server: smtplib.SMTP,
                due: list[tuple[int, int, str, dict[str, Any], int]], receipts: Receipts,
                now: datetime, settled: set[int]) -> int:
    """Send the round's rows in order; `settled` collects each row once its outcome is
    recorded. Stops at a fault that the next rows would meet too."""
    settings = c.settings
    assert settings.mail_from is not None
    addresses, link = _addresses_and_link(c, [row[0] for row in due])
    zone, office = settings.timezone, c.office.stationery.office.name
    folders = document_folders(c)
    sent = 0
    for row_id, _, kind, payload, attempts in due:
        address = addresses[row_id]
        files, making = _files(c, payload)
        if making:  # its request letter is still being made: the next round takes it
            settle(c, row_id, status="pending", attempts=attempts)
            settled.add(row_id)
            continue
        try:
            message = compose(payload, address, settings.mail_from, row_id, link, office,
                              now, zone, folders, files)
        except OSError as exc:  # PermissionError included: the file may not be sent
            give_up(c, row_id, kind, attempts, exc, now, _problem(c, exc, address))
            settled.add(row_id)
            continue
        began = False
        try:
            server.mail(settings.mail_from)
            code, answer = server.rcpt(address)
            if code >= 400:
                raise smtplib.SMTPRecipientsRefused({address: (code, answer)})
            receipts.started(row_id)
            began = True
            code, answer = server.data(message.as_bytes(policy=SMTP_POLICY))
            if code != 250:  # smtplib leaves the answer to the data itself to the caller
                raise smtplib.SMTPDataError(code, answer)
            receipts.received(row_id, 0)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as exc:
            settled.add(row_id)
            if _permanent(exc):
                give_up(c, row_id, kind, attempts, exc, now, _problem(c, exc, address))
                _reset(server)
                continue
            _later(c, row_id, attempts, now, _plain(exc))
            return sent
        except (OSError, smtplib.SMTPException) as exc:
            # The connection broke: before the data travelled the row goes again later;
            # while it travelled it is left to the receipts (never sent twice).
            if not began:
                _later(c, row_id, attempts, now, _plain(exc))
                settled.add(row_id)
            return sent
        settle(c, row_id, status="sent", attempts=attempts + 1, sent_at=c.clock())
        settled.add(row_id)
        sent += 1
    return sent


def _unsettled(c: Container, row_ids: list[int], receipts: Receipts) -> None:
    """Rows a round marked and did not settle."""
    if not row_ids:
        return
    started, received = receipts.read()
    release(c, [r for r in row_ids if r not in started])
    for row_id in row_ids:
        if row_id in received:
            settle(c, row_id, status="sent", sent_at=c.clock())
        elif row_id in started:
            _doubt(c, row_id)


def reconcile_mail(c: Container, receipts: Receipts) -> tuple[int, int, int]:
    """After a crash: e-mails caught mid-send. Returns (settled as sent, sent again, in
    doubt and not sent again)."""
    started, received = receipts.read()
    with c.sessions() as session:
        caught = list(session.execute(select(OutboxMessage.id).where(
            OutboxMessage.status == "sending", OutboxMessage.channel == EMAIL)).scalars())
    settled = [r for r in caught if r in received]
    doubted = [r for r in caught if r in started and r not in received]
    again = [r for r in caught if r not in started]
    now = c.clock()
    for row_id in settled:
        settle(c, row_id, status="sent", sent_at=now)
    if again:
        with c.unit_of_work() as session:
            session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(again)).values(
                status="pending", next_attempt_at=now,
                last_error="terputus sebelum dikirim (bot berhenti)"))
    for row_id in doubted:
        _doubt(c, row_id)
    receipts.clear()
    return len(settled), len(again), len(doubted)


def _doubt(c: Container, row_id: int) -> None:
    """An e-mail whose data was travelling when the sender stopped: it may have arrived,
    so it is not sent again; the admins are told to ask."""
    now = c.clock()
    with c.unit_of_work() as session:
        row = session.get(OutboxMessage, row_id)
        assert row is not None
        row.status, row.last_error = "failed", MAIL_IN_DOUBT
        kind, address = row.kind, row.address or "-"
    log.warning("e-mail outbox #%s terputus saat dikirim: tidak dikirim lagi", row_id)
    tell_admins(c, row_id, kind, render_text("chat/admin_mail_in_doubt.txt.j2",
                                             c.settings.timezone, address=address,
                                             row=row_id).strip(), now)


def _files(c: Container, payload: dict[str, Any]) -> tuple[list[tuple[str, str]], bool]:
    """The files the e-mail carries, and whether one is still being made."""
    files = [(str(a["path"]), str(a["filename"])) for a in payload.get("attachments", [])]
    request_id = payload.get("request_letter")
    if request_id is None:
        return files, False
    with c.sessions() as session:
        letter, making = request_letter(session, int(request_id))
    if letter is not None and all(letter.path != path for path, _ in files):
        files.append((letter.path, letter.filename))
    return files, making


def compose(payload: dict[str, Any], address: str, sender: str, row_id: int,
            link: str | None, office: str, now: datetime, zone: Any,
            folders: tuple[Any, ...], files: list[tuple[str, str]]) -> EmailMessage:
    """The e-mail of one outbox row: its text, where to decide in Telegram, its files."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = address
    message["Subject"] = str(payload.get("subject") or "[Pulih] Pemberitahuan")
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(idstring=f"pulih-{row_id}",
                                       domain=sender.rsplit("@", 1)[1])
    message["Auto-Submitted"] = "auto-generated"
    since = payload.get("since")
    message.set_content(render_text(
        "mail/message.txt.j2", zone, text=payload.get("text", ""),
        decide=bool(payload.get("decide")), link=link, why=payload.get("why", "only"),
        since=datetime.fromisoformat(since) if since else None, office=office,
        attachments=[name for _, name in files]))
    for path, name in files:
        message.add_attachment(read_document(path, folders), maintype="application",
                               subtype="pdf", filename=name)
    return message


def _connect(settings: Settings) -> smtplib.SMTP:
    assert settings.smtp_host is not None
    host, port = settings.smtp_host
    context = ssl.create_default_context()
    if settings.smtp_ca_file is not None:
        context.load_verify_locations(cafile=str(settings.smtp_ca_file))
    server: smtplib.SMTP | None = None
    try:
        if settings.smtp_tls == "tls":
            server = smtplib.SMTP_SSL(host, port, timeout=TIMEOUT, context=context)
        else:
            server = smtplib.SMTP(host, port, timeout=TIMEOUT)
        server.ehlo()
        if settings.smtp_tls == "starttls":
            server.starttls(context=context)
            server.ehlo()
        if settings.smtp_user is not None:
            server.login(settings.smtp_user, _password(settings))
    except (OSError, smtplib.SMTPException, MailUnavailable) as exc:
        if server is not None:
            server.close()
        raise exc if isinstance(exc, MailUnavailable) else MailUnavailable(_plain(exc)) \
            from None
    return server


def _password(settings: Settings) -> str:
    if settings.smtp_password_file is None:
        raise MailUnavailable("PULIH_SMTP_PASSWORD_FILE belum diisi")
    try:
        return settings.smtp_password_file.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise MailUnavailable(f"berkas kata sandi SMTP tidak terbaca "
                              f"({type(exc).__name__})") from None


def _plain(exc: BaseException) -> str:
    """What went wrong, without anything the server echoed of the login."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"login SMTP ditolak ({exc.smtp_code})"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"server SMTP menjawab {exc.smtp_code}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS gagal ({exc.reason or type(exc).__name__})"
    return f"{type(exc).__name__}: {exc}"[:200]


def _permanent(exc: smtplib.SMTPException) -> bool:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 500


def _reset(server: smtplib.SMTP) -> None:
    with contextlib.suppress(OSError, smtplib.SMTPException):
        server.rset()


def _later(c: Container, row_id: int, attempts: int, now: datetime, error: str) -> None:
    backoff = min(MAX_BACKOFF, 2 ** (attempts + 2))
    settle(c, row_id, status="pending", attempts=attempts + 1,
           next_attempt_at=now + timedelta(seconds=backoff), last_error=error[:500])


def _problem(c: Container, exc: BaseException, address: str) -> str:
    return render_text("chat/admin_mail_failed.txt.j2", c.settings.timezone, address=address,
                       error=_plain(exc)).strip()


def _addresses_and_link(c: Container, row_ids: list[int]) -> tuple[dict[int, str], str | None]:
    with c.sessions() as session:
        rows = session.execute(select(OutboxMessage.id, OutboxMessage.address)
                               .where(OutboxMessage.id.in_(row_ids))).all()
        return ({row_id: address or "" for row_id, address in rows}, telegram_link(session))

