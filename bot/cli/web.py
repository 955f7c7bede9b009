"""`pulih web`: the verification page, behind the office's reverse proxy."""

from __future__ import annotations

import argparse
from typing import TextIO

import uvicorn

from bot.bootstrap import Container
from bot.render import render_text
from bot.web.app import make_app


def web_commands(args: argparse.Namespace, c: Container, out: TextIO, err: TextIO) -> int:
    """Serve the page until stopped (Ctrl-C or SIGTERM)."""
    c.office  # noqa: B018  (the inventory's problems are said now, not at the first visit)
    host, port = c.settings.web_listen
    config = uvicorn.Config(
        make_app(c), host=host, port=port, proxy_headers=True,
        forwarded_allow_ips=list(c.settings.web_proxies), server_header=False,
        # Client addresses are personal data: no access log; the rate limit needs none.
        access_log=False, log_config=None, limit_concurrency=256, timeout_keep_alive=5)
    out.write(render_text("cli/web_started.txt.j2", c.settings.timezone, host=host, port=port,
                          base=c.settings.verify_url, rate=c.settings.web_rate))
    out.flush()
    uvicorn.Server(config).run()
    return 0
