"""The logging setup: one handler on standard error, and two filters on every root handler.

Filters sit on the handlers, not on loggers, because a logger's filter never sees the
records its children propagate; a handler's filter sees every record it writes, from the
bot and from every library (python-telegram-bot, httpx, tornado, aiosqlite...).

- `SecretMask`, at every level: the bot token, the webhook secret and the encryption key
  (and anything shaped like a bot token) become `***` in the message, its arguments, the
  exception text and the stack. python-telegram-bot logs its API URL, which holds the
  token, at DEBUG; httpx logs every request URL.
- `LibraryPayloadGuard`, at INFO and above, for loggers outside `bot`: a library's message
  keeps its template, numbers and short one-line words, but any other argument (an update,
  a dict of received data, a long string) is withheld. python-telegram-bot logs an update
  it cannot parse, whole, at CRITICAL; the bot's own loggers follow the house rule instead
  (decisions, not payloads) and are left alone.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, Mapping
from typing import Final, TextIO
from urllib.parse import quote

MASK: Final = "***"
FORMAT: Final = "%(asctime)s %(levelname)s %(name)s %(message)s"
# A bot token: the bot's numeric id, a colon, 35 url-safe characters (30+ to be lenient).
TOKEN_SHAPE: Final = re.compile(r"\d{5,}:[A-Za-z0-9_-]{30,}")
# Library arguments kept at INFO and above: scalars, and strings this short on one line.
SHORT_WORD: Final = 80
OWN_LOGGER: Final = "bot"
# Libraries that log every request or job run at INFO (and request URLs carry the token).
QUIET_LIBRARIES: Final = ("httpx", "httpcore", "apscheduler")


class SecretMask(logging.Filter):
    """Replaces every known secret (and any token-shaped string) by `***`; never drops a record."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets: tuple[str, ...] = ()
        self.add(*secrets)

    def add(self, *secrets: str | None) -> None:
        """Mask these too (empty values are ignored), as typed and as they appear in a URL."""
        known = set(self._secrets)
        for secret in secrets:
            if secret:
                known.update({secret, quote(secret, safe="")})
        # Longest first, so a secret containing another is masked whole.
        self._secrets = tuple(sorted(known, key=len, reverse=True))

    def mask(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return TOKEN_SHAPE.sub(MASK, text)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.mask(rendered(record))
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.mask(record.exc_text)
        if record.stack_info:
            record.stack_info = self.mask(record.stack_info)
        return True


class LibraryPayloadGuard(logging.Filter):
    """At INFO and above, a library's log line keeps its template but not the data it carries."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.INFO or is_own(record.name):
            return True
        if not isinstance(record.msg, str):
            record.msg, record.args = withheld(record.msg), None
        elif isinstance(record.args, Mapping):
            # logging passes a lone dict argument as the mapping itself: "%(key)s" or a plain "%s".
            if "%(" in record.msg:
                record.args = {key: guarded(value) for key, value in record.args.items()}
            else:
                record.args = (withheld(record.args),)
        elif record.args:
            record.args = tuple(guarded(value) for value in record.args)
        return True


def is_own(name: str) -> bool:
    """True for the bot's own loggers (`bot`, `bot.engine`...), which never log payloads."""
    return name == OWN_LOGGER or name.startswith(OWN_LOGGER + ".")


class Withheld(str):
    """What stands for a withheld argument; shown the same by %s and %r."""

    def __repr__(self) -> str:
        return str(self)


def withheld(value: object) -> Withheld:
    return Withheld(f"<withheld {type(value).__name__}>")


def guarded(value: object) -> object:
    """A library's log argument as it may be shown at INFO: scalars and short words only."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, (str, BaseException)):
        text = str(value)
        if len(text) <= SHORT_WORD and "\n" not in text:
            return text
        return Withheld(f"<withheld {len(text)} characters>")
    return withheld(value)


def rendered(record: logging.LogRecord) -> str:
    """The record's message, never an exception: a filter that raised would break the caller's log call."""
    try:
        return record.getMessage()
    except Exception:  # noqa: BLE001 - a malformed record must still be written, without its arguments
        return f"{record.msg!s} <arguments not shown: they do not fit the message>"


_MASK = SecretMask()
_GUARD = LibraryPayloadGuard()


def protect(*secrets: str | None) -> None:
    """Add secrets the logs must never show (e.g. a webhook secret derived at start-up)."""
    _MASK.add(*secrets)


def install_filters(handler: logging.Handler) -> None:
    """Put the payload guard, then the secret mask, on a handler (once)."""
    for log_filter in (_GUARD, _MASK):
        if log_filter not in handler.filters:
            handler.addFilter(log_filter)


def configure_logging(level: str, secrets: Iterable[str | None] = (), stream: TextIO | None = None) -> logging.Handler | None:
    """Log to standard error (or `stream`) at `level`, with the filters on every root handler.

    Like `logging.basicConfig`, an application that already configured the root logger keeps
    its handlers and level (they get the filters). Returns the handler added, if any.
    """
    protect(*secrets)
    root = logging.getLogger()
    added: logging.Handler | None = None
    if stream is not None or not root.handlers:
        added = logging.StreamHandler(stream or sys.stderr)
        added.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(added)
        root.setLevel(getattr(logging, level.upper(), logging.INFO))
    for handler in root.handlers:
        install_filters(handler)
    # Even masked, a line per request or per job run drowns the decisions worth reading.
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
    return added
