"""A stand-in for the Telegram Bot API on 127.0.0.1: what `pulih demo` and the
end-to-end tests run the real bot against, since Telegram's servers are out of reach.

It speaks the wire format python-telegram-bot uses (POST /bot<TOKEN>/<method> with
form-encoded or multipart bodies, JSON-encoded complex fields; answers
{"ok": ..., "result": ...}), keeps what each chat would show (messages, edits,
documents), records every call, and lets a test play users (messages, button taps)
and inject faults (429 with retry_after, 5xx, a blocked user, a slow answer).
"""

from __future__ import annotations

import contextlib
import inspect
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, unquote

# Not a secret: the token the stand-in accepts; it works nowhere else.
TOKEN = "123456789:TEST-fake-token-for-tests-only"  # noqa: S105
BOT_USER = {"id": 123456789, "is_bot": True, "first_name": "Pulih", "username": "pulih_uji_bot"}
_JSON_FIELDS = {"reply_markup", "allowed_updates", "commands", "scope", "entities",
                "reply_parameters", "link_preview_options", "caption_entities"}


@dataclass
class Fault:
    status: int
    description: str
    retry_after: int | None = None
    delay: float = 0.0


@dataclass
class Chat:
    """What one chat shows: the bot's messages by id (edits applied) and documents."""

    messages: dict[int, dict[str, Any]] = field(default_factory=dict)

    def texts(self) -> list[str]:
        return [m.get("text") or m.get("caption") or "" for m in self.messages.values()]


@dataclass(frozen=True)
class Expect:
    """A condition to wait for, with the words a failure report uses for it."""

    what: str
    check: Callable[[], object]

    def __call__(self) -> bool:
        return bool(self.check())


def describe(predicate: Callable[[], object]) -> str:
    """Words for what `predicate` waits for: its own, or the line of code that made it."""
    if isinstance(predicate, Expect):
        return predicate.what
    try:
        source = " ".join(inspect.getsource(predicate).split())
    except (OSError, TypeError):
        return repr(predicate)
    return source if len(source) <= 240 else source[:240] + "..."


def _glance(message: dict[str, Any]) -> str:
    text = " ".join(str(message.get("text") or message.get("caption") or "").split())
    if "document" in message:
        text = f"[{message['document'].get('file_name')}] {text}"
    buttons = [b["text"] for row in (message.get("reply_markup") or {}).get(
        "inline_keyboard", []) for b in row]
    text = text if len(text) <= 160 else text[:160] + "..."
    return text + (f"  {buttons}" if buttons else "")


class _Server(ThreadingHTTPServer):
    """One thread per request, and a listen queue as deep as a real Bot API server's: the
    bot sends many requests at once (handlers run side by side), and socketserver's
    default queue of 5 would reset the rest."""

    daemon_threads = True
    request_queue_size = 256


class FakeTelegram:
    # Every port a stand-in of this process has listened on: a test run tells a
    # connection to a stand-in from any other (tests/conftest.py).
    ports: ClassVar[set[int]] = set()

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.chats: dict[int, Chat] = {}
        self.files: dict[str, bytes] = {}
        self.commands: list[dict[str, str]] = []
        self.webhook: dict[str, str] = {}
        self.answered: dict[str, dict[str, Any]] = {}
        self.blocked: set[int] = set()
        self.deleted: set[int] = set()  # accounts deleted since they last wrote to the bot
        self.sent_at: dict[int, float] = {}  # message id -> when the bot sent it (monotonic)
        self._faults: dict[str, list[Fault]] = {}
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._lock = threading.Condition()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- running ---------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                fake._handle(self)

            def do_GET(self) -> None:
                fake._download(self)

        self._server = _Server(("127.0.0.1", 0), Handler)
        FakeTelegram.ports.add(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            with self._lock:
                self._lock.notify_all()
            self._server.shutdown()
            self._server.server_close()

    # --- what tests do --------------------------------------------------------------
    def fail_next(self, method: str, fault: Fault, times: int = 1) -> None:
        with self._lock:
            self._faults.setdefault(method, []).extend([fault] * times)

    def faults_left(self) -> int:
        """Faults armed with `fail_next` that no call has met yet."""
        with self._lock:
            return sum(len(faults) for faults in self._faults.values())

    def user_says(self, user_id: int, text: str, chat_id: int | None = None,
                  first_name: str = "Pengguna", chat_type: str = "private") -> int:
        chat = chat_id if chat_id is not None else user_id
        message = {"message_id": next(self._message_ids), "date": int(time.time()),
                   "chat": {"id": chat, "type": chat_type},
                   "from": {"id": user_id, "is_bot": False, "first_name": first_name},
                   "text": text}
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0,
                                    "length": len(command)}]
        return self._push({"message": message})

    def user_sends_file(self, user_id: int, name: str, data: bytes,
                        mime_type: str = "application/pdf", declared_size: int | None = None
                        ) -> int:
        """A document message; `declared_size` lets a test claim a size Telegram reports."""
        file_id = f"up{next(self._message_ids)}"
        self.files[file_id] = data
        return self._push({"message": {
            "message_id": next(self._message_ids), "date": int(time.time()),
            "chat": {"id": user_id, "type": "private"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Pengguna"},
            "document": {"file_id": file_id, "file_unique_id": file_id, "file_name": name,
                         "mime_type": mime_type,
                         "file_size": declared_size if declared_size is not None
                         else len(data)}}})

    def placeholder(self, chat_id: int, text: str = "kartu") -> int:
        """A bot message in the chat (a card seen earlier) to tap forged buttons on."""
        message_id = next(self._message_ids)
        with self._lock:
            self.chat(chat_id).messages[message_id] = {
                "message_id": message_id, "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"}, "from": BOT_USER, "text": text}
        return message_id

    def user_taps(self, user_id: int, chat_id: int, message_id: int, data: str,
                  first_name: str = "Pengguna") -> str:
        shown = self.chats[chat_id].messages[message_id]
        query_id = f"cq{next(self._update_ids)}"
        self._push({"callback_query": {
            "id": query_id, "chat_instance": str(chat_id), "data": data,
            "from": {"id": user_id, "is_bot": False, "first_name": first_name},
            "message": shown}})
        return query_id

    def wait_for(self, predicate: Callable[[], object], timeout: float = 20.0,
                 what: str | None = None) -> None:
        """Until predicate() is true (checked whenever the bot calls the server). On time
        out, an AssertionError that names what was awaited and what the chats show."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"waited {timeout:g} s for {what or describe(predicate)}; "
                        f"instead the bot showed:\n{self.screens()}")
                self._lock.wait(min(left, 0.2))

    def screens(self, last: int = 4) -> str:
        """The newest messages of every chat, with their buttons, and the newest answers
        to taps: what a person would have seen, for a failure report."""
        with self._lock:
            lines = []
            for chat_id, chat in self.chats.items():
                shown = list(chat.messages.values())[-last:]
                lines.append(f"  chat {chat_id} ({len(chat.messages)} messages):")
                lines.extend(f"    - {_glance(message)}" for message in shown)
            for query, answer in list(self.answered.items())[-last:]:
                lines.append(f"  answer to tap {query}: {answer.get('text') or '(no text)'}")
            return "\n".join(lines) or "  (nothing: the bot sent no message)"

    def chat(self, chat_id: int) -> Chat:
        return self.chats.setdefault(chat_id, Chat())

    def sent(self, method: str) -> list[dict[str, Any]]:
        with self._lock:
            return [params for name, params in self.calls if name == method]

    # --- the server side ----------------------------------------------------------
    def _push(self, update: dict[str, Any]) -> int:
        with self._lock:
            update_id = next(self._update_ids)
            self._updates.append({"update_id": update_id, **update})
            self._lock.notify_all()
            return update_id

    def _params(self, handler: BaseHTTPRequestHandler) -> dict[str, Any]:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length)
        kind = handler.headers.get("Content-Type", "")
        params: dict[str, Any] = {}
        if kind.startswith("multipart/form-data"):
            message = BytesParser(policy=HTTP).parsebytes(
                f"Content-Type: {kind}\r\n\r\n".encode() + body)
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                filename = part.get_filename()
                payload = part.get_payload(decode=True)
                if filename is not None:
                    params[str(name)] = {"filename": filename, "bytes": payload,
                                         "mime_type": part.get_content_type()}
                else:
                    params[str(name)] = payload.decode() if isinstance(payload, bytes) else ""
        elif body:
            params = {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
        for key in _JSON_FIELDS & params.keys():
            if isinstance(params[key], str):
                params[key] = json.loads(params[key])
        return params

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        prefix = f"/bot{TOKEN}/"
        if not handler.path.startswith(prefix):
            self._reply(handler, 401, {"ok": False, "error_code": 401,
                                       "description": "Unauthorized"})
            return
        method = handler.path[len(prefix):]
        params = self._params(handler)
        with self._lock:
            self.calls.append((method, params))
            faults = self._faults.get(method)
            fault = faults.pop(0) if faults else None
            self._lock.notify_all()
        if fault is not None:
            time.sleep(fault.delay)
            body: dict[str, Any] = {"ok": False, "error_code": fault.status,
                                    "description": fault.description}
            if fault.retry_after is not None:
                body["parameters"] = {"retry_after": fault.retry_after}
            self._reply(handler, fault.status, body)
            return
        try:
            result = self._answer(method, params)
        except _ApiError as exc:
            self._reply(handler, exc.status, {"ok": False, "error_code": exc.status,
                                              "description": exc.description})
            return
        self._reply(handler, 200, {"ok": True, "result": result})

    @staticmethod
    def _reply(handler: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        # A client that gave up on a long poll while stopping is not an error.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)

    def _answer(self, method: str, p: dict[str, Any]) -> Any:
        if method == "getMe":
            return BOT_USER
        if method == "deleteWebhook":
            if p.get("drop_pending_updates") == "True":
                with self._lock:
                    self._updates.clear()
            return True
        if method == "getUpdates":
            return self._get_updates(int(p.get("offset") or 0), float(p.get("timeout") or 0))
        if method == "setWebhook":
            self.webhook = {k: str(v) for k, v in p.items()}
            return True
        if method == "setMyCommands":
            self.commands = list(p.get("commands") or [])
            return True
        if method == "answerCallbackQuery":
            self.answered[str(p["callback_query_id"])] = p
            return True
        if method == "sendMessage":
            return self._send(p, {"text": self._text(p.get("text", ""))})
        if method == "sendDocument":
            document = p.get("document")
            if not isinstance(document, dict):
                raise _ApiError(400, "Bad Request: there is no document in the request")
            file_id = f"file{next(self._message_ids)}"
            self.files[file_id] = document["bytes"]
            return self._send(p, {"caption": p.get("caption", ""), "document": {
                "file_id": file_id, "file_unique_id": file_id,
                "file_name": document["filename"], "mime_type": document["mime_type"],
                "file_size": len(document["bytes"])}})
        if method in ("editMessageText", "editMessageReplyMarkup"):
            return self._edit(method, p)
        if method == "getFile":
            file_id = str(p["file_id"])
            if file_id not in self.files:
                raise _ApiError(400, "Bad Request: invalid file_id")
            return {"file_id": file_id, "file_unique_id": file_id,
                    "file_size": len(self.files[file_id]), "file_path": f"documents/{file_id}"}
        raise _ApiError(400, f"Bad Request: method {method} is not implemented by the fake")

    @staticmethod
    def _text(text: str) -> str:
        if not text.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            raise _ApiError(400, "Bad Request: message is too long")
        return text

    @staticmethod
    def _check_markup(markup: Any) -> None:
        for row in (markup or {}).get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode()) <= 64:
                    raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")

    def _send(self, p: dict[str, Any], content: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(p["chat_id"])
        if chat_id in self.blocked:
            raise _ApiError(403, "Forbidden: bot was blocked by the user")
        if chat_id in self.deleted:
            raise _ApiError(403, "Forbidden: user is deactivated")
        self._check_markup(p.get("reply_markup"))
        message = {"message_id": next(self._message_ids), "date": int(time.time()),
                   "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
                   "from": BOT_USER, **content}
        self.sent_at[message["message_id"]] = time.monotonic()
        # Telegram returns only inline keyboards with a message (not ForceReply and such).
        if (p.get("reply_markup") or {}).get("inline_keyboard"):
            message["reply_markup"] = p["reply_markup"]
        with self._lock:
            self.chat(chat_id).messages[message["message_id"]] = message
        return message

    def _edit(self, method: str, p: dict[str, Any]) -> dict[str, Any]:
        chat_id, message_id = int(p["chat_id"]), int(p["message_id"])
        with self._lock:
            shown = self.chat(chat_id).messages.get(message_id)
            if shown is None:
                raise _ApiError(400, "Bad Request: message to edit not found")
            self._check_markup(p.get("reply_markup"))
            new = dict(shown)
            if method == "editMessageText":
                new["text"] = self._text(p.get("text", ""))
            new.pop("reply_markup", None)
            if p.get("reply_markup"):
                new["reply_markup"] = p["reply_markup"]
            if new == shown:
                raise _ApiError(400, "Bad Request: message is not modified")
            self.chat(chat_id).messages[message_id] = new
            return new

    def _get_updates(self, offset: int, timeout: float) -> list[dict[str, Any]]:
        deadline = time.monotonic() + min(timeout, 2.0)
        with self._lock:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            while not self._updates and time.monotonic() < deadline:
                self._lock.wait(deadline - time.monotonic())
            return list(self._updates)

    def _download(self, handler: BaseHTTPRequestHandler) -> None:
        prefix = f"/file/bot{TOKEN}/documents/"
        path = unquote(handler.path)  # httpx sends the token's colon as %3A
        file_id = path[len(prefix):] if path.startswith(prefix) else ""
        data = self.files.get(file_id)
        if data is None:
            handler.send_response(404)
            handler.end_headers()
            return
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            handler.wfile.write(data)


class _ApiError(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status, self.description = status, description


@contextmanager
def fake_telegram() -> Iterator[FakeTelegram]:
    fake = FakeTelegram()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()
