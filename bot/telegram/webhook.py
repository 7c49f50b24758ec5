"""Webhook mode: a small tornado server that takes Telegram's POSTs and refuses the rest before reading it.

python-telegram-bot's own webhook server reads a whole body (up to tornado's default of
100 MB) before it looks at the secret, so a few strangers' posts can fill the memory. Here
the handler streams the body (`tornado.web.stream_request_body`) so its `prepare` runs as
soon as the headers are in: a body declared larger than an update can be
(`MAX_BODY_BYTES`) is answered 413 and the connection closed, unread; a chunked body is
cut off at the same size by the connection itself. A request without the right secret is
answered 403 after its (small) body went by, discarded as it arrives, so a well-behaved
client gets its answer instead of a reset connection.

An update python-telegram-bot cannot read is answered 200 and skipped (an empty update
with its id goes to the queue), so Telegram does not deliver it again and again.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
from dataclasses import dataclass
from typing import Any, Final

import tornado.web
from telegram import Bot
from tornado.httpserver import HTTPServer

from bot.telegram.updates import may_hold_surrogates, readable, without_lone_surrogates

LOGGER: Final = logging.getLogger("bot.telegram.webhook")
# Telegram's updates are a few kilobytes (a message is at most 4096 characters); 1 MiB leaves room for any.
MAX_BODY_BYTES: Final = 1 << 20
SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"
# A body must arrive within this many seconds of its headers; an idle connection is closed after the other.
BODY_TIMEOUT_SECONDS: Final = 10.0
IDLE_CONNECTION_SECONDS: Final = 75.0


@dataclass(frozen=True)
class WebhookTarget:
    """Where the handler puts updates, and what a request must carry to be one."""

    queue: asyncio.Queue[object]
    bot: Bot
    secret_token: str


def declared_length(value: str | None) -> int | None:
    """The Content-Length header as a number; -1 when it is not one (refused as malformed)."""
    if value is None:
        return None
    return int(value) if value.strip().isdigit() else -1


def secret_matches(given: str | None, expected: str) -> bool:
    """Constant-time comparison, so the secret cannot be guessed a character at a time."""
    return given is not None and hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8"))


@tornado.web.stream_request_body
class UpdateHandler(tornado.web.RequestHandler):
    """POST <path>: one update from Telegram."""

    SUPPORTED_METHODS = ("POST",)  # type: ignore[assignment]

    def initialize(self, target: WebhookTarget) -> None:
        self.target = target
        self.body = bytearray()
        self.trusted = False

    def prepare(self) -> None:
        """Runs when the headers are in, before any of the body is read."""
        self.request.connection.set_max_body_size(MAX_BODY_BYTES)  # type: ignore[union-attr]
        length = declared_length(self.request.headers.get("Content-Length"))
        if length is not None and length < 0:
            raise tornado.web.HTTPError(400)
        if length is not None and length > MAX_BODY_BYTES:
            raise tornado.web.HTTPError(413)
        self.trusted = secret_matches(self.request.headers.get(SECRET_HEADER), self.target.secret_token)

    def data_received(self, chunk: bytes) -> None:
        if self.trusted:
            self.body += chunk

    async def post(self) -> None:
        if not self.trusted:
            raise tornado.web.HTTPError(403)
        body = bytes(self.body)
        try:
            data = json.loads(body)
        except ValueError:
            raise tornado.web.HTTPError(400) from None
        update = readable(without_lone_surrogates(data) if may_hold_surrogates(body) else data, self.target.bot)
        if update is None:
            raise tornado.web.HTTPError(400)
        await self.target.queue.put(update)
        self.set_status(200)

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        """Refusals are routine (strangers, scanners): one DEBUG line, never a traceback with request data."""
        LOGGER.debug("webhook request refused error=%s", typ.__name__ if typ else "-")


class WebhookApplication(tornado.web.Application):
    """The tornado application: the one webhook route, and no access log (it would name every caller)."""

    def log_request(self, handler: tornado.web.RequestHandler) -> None:
        LOGGER.debug("webhook status=%s", handler.get_status())


def route_for(path: str) -> str:
    """The URL pattern for the webhook's path (`tg/hook` -> `/tg/hook/?`)."""
    return f"/{re.escape(path)}/?" if path else "/"


class WebhookServer:
    """Listens on `listen:port` for `path`; `start` and `stop` from the application's lifetime."""

    def __init__(self, target: WebhookTarget, *, path: str, listen: str, port: int) -> None:
        self.target = target
        self.path = path
        self.listen = listen
        self.port = port
        self._server: HTTPServer | None = None

    def start(self) -> None:
        """Bind and serve (raises OSError when the address is taken)."""
        app = WebhookApplication([(route_for(self.path), UpdateHandler, {"target": self.target})])
        server = HTTPServer(
            app,
            max_body_size=MAX_BODY_BYTES,
            body_timeout=BODY_TIMEOUT_SECONDS,
            idle_connection_timeout=IDLE_CONNECTION_SECONDS,
        )
        server.listen(self.port, address=self.listen)
        self._server = server

    async def stop(self) -> None:
        """Stop accepting, then close the open connections."""
        server, self._server = self._server, None
        if server is None:
            return
        server.stop()
        await server.close_all_connections()
