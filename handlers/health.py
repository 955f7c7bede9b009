"""An optional health endpoint for monitoring (`PULIH_HEALTH_LISTEN`): GET /sehat answers
200 while the database answers and the Bot API is reachable, 503 otherwise, with a small
JSON body that names what is wrong. It shows no request, person or secret."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from sqlalchemy import func, select
from tornado.httpserver import HTTPServer
from tornado.web import Application, RequestHandler

from bot.bootstrap import Container
from bot.db.models import OutboxMessage
from handlers.outage import Outage

log = logging.getLogger("pulih")


def _outbox(container: Container) -> tuple[int, float]:
    """Messages waiting to go out, and the age in seconds of the oldest."""
    with container.sessions() as session:
        count, oldest = session.execute(
            select(func.count(), func.min(OutboxMessage.created_at))
            .where(OutboxMessage.status.in_(("pending", "sending")))).one()
    age = (container.clock() - oldest).total_seconds() if oldest is not None else 0.0
    return int(count), max(age, 0.0)


class _Health(RequestHandler):
    def initialize(self, container: Container, outage: Outage) -> None:
        self.container, self.outage = container, outage

    async def get(self) -> None:
        body: dict[str, Any] = {"bot_api": "terputus" if self.outage.since is not None
                                else "ok"}
        try:
            waiting, oldest = await asyncio.to_thread(_outbox, self.container)
            body.update(basis_data="ok", pesan_menunggu=waiting,
                        pesan_tertua_detik=round(oldest))
        except Exception as exc:  # any driver's failure is the answer here
            body["basis_data"] = f"gagal ({type(exc).__name__})"
        healthy = body["basis_data"] == "ok" and body["bot_api"] == "ok"
        body["status"] = "ok" if healthy else "bermasalah"
        self.set_status(200 if healthy else 503)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(body))


def start_health(container: Container, outage: Outage, host: str, port: int) -> HTTPServer:
    """Listen for GET /sehat on host:port (in the running event loop)."""
    app = Application([(r"/sehat", _Health, {"container": container, "outage": outage})])
    server = HTTPServer(app, xheaders=False)
    server.listen(port, address=host)
    log.info("pemeriksaan kesehatan di http://%s:%d/sehat", host, port)
    return server
