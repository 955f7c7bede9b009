"""The verification page: GET /v/<code> shows what the activity record vouches for of a
document, a form answers whether a PDF's bytes are exactly an issued document. Indonesian,
no JavaScript, no asset from elsewhere; rate-limited per client address; an unknown code
and a malformed one get the same answer in the same time."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable
from importlib import resources
from typing import Any

from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.bootstrap import Container
from bot.services.documents.letters import MAX_UPLOAD
from bot.services.documents.public import PublicRecord, record_by_bytes, record_by_code
from bot.web.limit import ChecksPerMinute
from bot.web.pages import Pages
from bot.web.upload import NotAForm, TooLarge, read_upload

log = logging.getLogger("pulih.web")

# Every answer about a code takes at least this long, whatever the database did: a known
# code, an unknown one and a malformed one cannot be told apart by time.
ANSWER_SECONDS = 0.25
# A multipart form around the largest file accepted.
_BODY_LIMIT = MAX_UPLOAD + 64 * 1024

_HEADERS = {
    "Content-Security-Policy": ("default-src 'none'; style-src 'self'; img-src 'self'; "
                                "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


class _SecurityHeaders:
    """Adds the page's security headers to every answer, errors included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(k.lower().encode(), v.encode()) for k, v in _HEADERS.items()
                            if k.lower().encode() not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def make_app(c: Container, *, answer_seconds: float = ANSWER_SECONDS) -> Starlette:
    """The page's ASGI application over the process's database."""
    pages = Pages(c)
    limiter = ChecksPerMinute(c.settings.web_rate)

    def read(work: Callable[[Session], PublicRecord | None]) -> Any:
        def run() -> PublicRecord | None:
            with c.sessions() as session:
                return work(session)
        return run_in_threadpool(run)

    def limited(request: Request) -> Response | None:
        address = request.client.host if request.client else "-"
        if limiter.allow(address):
            return None
        wait = limiter.retry_after(address)
        return pages.answer("too_many.html.j2", 429, {"Retry-After": str(wait)}, wait=wait)

    async def steady(started: float) -> None:
        left = answer_seconds - (time.monotonic() - started)
        if left > 0:
            await asyncio.sleep(left)

    async def home(request: Request) -> Response:
        return pages.answer("home.html.j2", 200)

    async def show(request: Request, code: str) -> Response:
        started = time.monotonic()
        refused = limited(request)
        if refused is not None:
            return refused
        record = await read(lambda s: record_by_code(s, code))
        await steady(started)
        if record is None:
            return pages.answer("unknown.html.j2", 404)
        return pages.answer("record.html.j2", 200, record=record)

    async def by_code(request: Request) -> Response:
        return await show(request, str(request.path_params["code"]))

    async def typed_code(request: Request) -> Response:
        """The home page's form: a code typed from a printout."""
        code = request.query_params.get("kode", "").strip()
        if not code:
            return RedirectResponse("/", 303)
        return await show(request, code)

    async def compare(request: Request) -> Response:
        """Whether the uploaded bytes are exactly the document of this code."""
        started = time.monotonic()
        refused = limited(request)
        if refused is not None:
            return refused
        code = str(request.path_params["code"])
        content = await _uploaded(request, pages)
        if isinstance(content, Response):
            return content
        record = await read(lambda s: record_by_code(s, code))
        await steady(started)
        if record is None:
            return pages.answer("unknown.html.j2", 404)
        digest = hashlib.sha256(content).hexdigest()
        same = digest == record.sha256
        return pages.answer("compared.html.j2", 200, record=record, same=same, digest=digest)

    async def lookup(request: Request) -> Response:
        """Whether the uploaded bytes are any document Pulih recorded."""
        started = time.monotonic()
        refused = limited(request)
        if refused is not None:
            return refused
        content = await _uploaded(request, pages)
        if isinstance(content, Response):
            return content
        record = await read(lambda s: record_by_bytes(s, content))
        await steady(started)
        digest = hashlib.sha256(content).hexdigest()
        return pages.answer("compared.html.j2", 200, record=record, same=record is not None,
                            digest=digest)

    async def stylesheet(request: Request) -> Response:
        return Response(_STYLE, media_type="text/css; charset=utf-8",
                        headers={"Cache-Control": "public, max-age=3600"})

    async def health(request: Request) -> Response:
        return Response("ok\n", media_type="text/plain")

    async def failed(request: Request, exc: Exception) -> Response:
        if isinstance(exc, HTTPException):
            status = exc.status_code
            template = "not_found.html.j2" if status in (404, 405) else "error.html.j2"
            return pages.answer(template, status)
        log.error("halaman verifikasi gagal: %s", type(exc).__name__)
        return pages.answer("error.html.j2", 500)

    routes = [
        Route("/", home),
        Route("/cek", typed_code),
        Route("/v/{code:path}", by_code),
        Route("/v/{code:path}", compare, methods=["POST"]),
        Route("/berkas", lookup, methods=["POST"]),
        Route("/gaya.css", stylesheet),
        Route("/sehat", health),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: failed,
                                                       Exception: failed})
    app.add_middleware(_SecurityHeaders)
    return app


async def _uploaded(request: Request, pages: Pages) -> bytes | Response:
    """The uploaded file's bytes, or the page that says why there are none."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > _BODY_LIMIT:
        return pages.answer("too_large.html.j2", 413)
    try:
        upload = await read_upload(request.headers.get("content-type", ""),
                                   request.stream(), _BODY_LIMIT)
    except TooLarge:
        return pages.answer("too_large.html.j2", 413)
    except NotAForm:
        return pages.answer("no_file.html.j2", 400)
    return upload.content


_STYLE = resources.files("bot.web").joinpath("pulih.css").read_bytes()
