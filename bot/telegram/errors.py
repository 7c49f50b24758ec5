"""Failures on the Telegram side: retry what is worth retrying, log the rest, never stop the bot.

Log lines name the update, a hash of the person and the error type, never what anyone
wrote: the people writing to this bot are often in a hard place.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import warnings
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Final, TypeVar

from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import ContextTypes
from telegram.warnings import PTBDeprecationWarning

LOGGER: Final = logging.getLogger("bot.telegram")
DEFAULT_ATTEMPTS: Final = 5
BASE_DELAY_SECONDS: Final = 0.5
MAX_DELAY_SECONDS: Final = 8.0
RETRY_AFTER_SLACK_SECONDS: Final = 0.1
_T = TypeVar("_T")


def hash_id(value: int | None) -> str:
    """A short, stable stand-in for a user or chat id in log lines."""
    if value is None:
        return "-"
    return hashlib.sha256(f"alumaura-log:{value}".encode("ascii")).hexdigest()[:10]


def retry_after_seconds(error: RetryAfter) -> float:
    """How long Telegram asked us to wait, whichever type python-telegram-bot hands back."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def is_not_modified(error: BadRequest) -> bool:
    """Telegram's answer to an edit that changes nothing: harmless, the message already shows it."""
    return "message is not modified" in error.message.lower()


def retry_delay(error: TelegramError, attempt: int) -> float | None:
    """Seconds to wait before attempt `attempt + 1`, or None when retrying cannot help."""
    if isinstance(error, RetryAfter):
        return retry_after_seconds(error) + RETRY_AFTER_SLACK_SECONDS
    if isinstance(error, BadRequest) or not isinstance(error, NetworkError):
        return None
    return min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * 2 ** (attempt - 1))


async def with_retries(
    call: Callable[[], Awaitable[_T]],
    *,
    attempts: int = DEFAULT_ATTEMPTS,
    what: str = "call",
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> _T:
    """Await `call()`, retrying flood waits (as long as asked), timeouts and network errors with backoff.

    BadRequest and Forbidden are raised at once: sending again would fail the same way.
    """
    attempt = 1
    while True:
        try:
            return await call()
        except TelegramError as error:
            delay = retry_delay(error, attempt)
            if delay is None or attempt >= attempts:
                raise
            LOGGER.warning("retry what=%s attempt=%d error=%s wait=%.1fs", what, attempt, type(error).__name__, delay)
            attempt += 1
            await sleep(delay)


def _update_ids(update: object) -> tuple[int | None, int | None]:
    if not isinstance(update, Update):
        return None, None
    user = update.effective_user
    return update.update_id, user.id if user is not None else None


ErrorHandler = Callable[[object, ContextTypes.DEFAULT_TYPE], Awaitable[None]]


def make_error_handler(pseudonym: Callable[[int], str] = hash_id) -> ErrorHandler:
    """python-telegram-bot's error handler, naming people by `pseudonym` (the engine's, so log lines join up)."""

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log the failure without text and keep running; the engine saved the turn before any reply was sent."""
        error = context.error
        update_id, user_id = _update_ids(update)
        who = pseudonym(user_id) if user_id is not None else "-"
        kind = type(error).__name__ if error is not None else "unknown"
        if isinstance(error, Forbidden):
            LOGGER.info("telegram forbidden update=%s user=%s (blocked the bot or left)", update_id, who)
        elif isinstance(error, (RetryAfter, TimedOut, NetworkError)):
            LOGGER.warning("telegram transient error=%s update=%s user=%s", kind, update_id, who)
        else:
            LOGGER.error("telegram update failed error=%s update=%s user=%s", kind, update_id, who, exc_info=error)

    return on_error


on_error: Final = make_error_handler()
