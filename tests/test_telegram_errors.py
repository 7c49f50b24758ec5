"""Failures: flood waits are honoured, transient errors retried with backoff, hopeless ones not; logs carry no text."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.telegram.errors import hash_id, on_error, with_retries
from tests.telegram_helpers import make_message, make_update

BOT_PACKAGE = Path(__file__).resolve().parent.parent / "bot"


@pytest.fixture(autouse=True)
def _timedelta_durations(monkeypatch: pytest.MonkeyPatch) -> None:
    """python-telegram-bot 22 warns on every RetryAfter unless opted in to timedelta durations."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


class Flaky:
    """A call that fails with the given errors first, then succeeds."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "sent"


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


async def test_a_flood_wait_is_honoured_then_the_call_goes_through() -> None:
    sleeps = Sleeps()
    call = Flaky(RetryAfter(timedelta(seconds=3)))
    assert await with_retries(call, sleep=sleeps) == "sent"
    assert call.calls == 2 and sleeps.delays[0] >= 3


async def test_network_trouble_is_retried_with_growing_pauses() -> None:
    sleeps = Sleeps()
    call = Flaky(NetworkError("Bad Gateway"), TimedOut(), NetworkError("httpx.ReadError"))
    assert await with_retries(call, sleep=sleeps) == "sent"
    assert sleeps.delays == sorted(sleeps.delays) and sleeps.delays[0] < sleeps.delays[-1]


@pytest.mark.parametrize("hopeless", [BadRequest("Message is too long"), Forbidden("Forbidden: bot was blocked by the user")])
async def test_hopeless_errors_are_not_retried(hopeless: Exception) -> None:
    call = Flaky(hopeless)
    with pytest.raises(type(hopeless)):
        await with_retries(call, sleep=Sleeps())
    assert call.calls == 1


async def test_it_gives_up_after_a_few_attempts() -> None:
    call = Flaky(*[NetworkError("down")] * 10)
    with pytest.raises(NetworkError):
        await with_retries(call, attempts=3, sleep=Sleeps())
    assert call.calls == 3


@dataclass
class FakeContext:
    error: Exception | None


@pytest.mark.parametrize(
    ("make_error", "level"),
    [
        (lambda: Forbidden("Forbidden: bot was blocked by the user"), logging.INFO),
        (TimedOut, logging.WARNING),
        (lambda: RetryAfter(timedelta(seconds=5)), logging.WARNING),
        (lambda: NetworkError("Bad Gateway"), logging.WARNING),
        (lambda: RuntimeError("unexpected"), logging.ERROR),
    ],
)
async def test_the_error_handler_logs_ids_and_types_never_text(
    make_error: Callable[[], Exception], level: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot")
    update = make_update({"message": make_message({"text": "he lies to me every day"}, user_id=4242)}, update_id=77)
    await on_error(update, FakeContext(make_error()))  # type: ignore[arg-type]
    (record,) = caplog.records
    assert record.levelno == level
    assert "update=77" in record.getMessage() and hash_id(4242) in record.getMessage()
    assert "4242" not in record.getMessage() and "he lies" not in caplog.text


def test_only_the_telegram_package_imports_telegram() -> None:
    offenders = []
    for path in BOT_PACKAGE.rglob("*.py"):
        if BOT_PACKAGE / "telegram" in path.parents:
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            stripped = line.strip()
            if stripped.startswith(("import telegram", "from telegram")):
                offenders.append(f"{path.relative_to(BOT_PACKAGE.parent)}: {stripped}")
    assert offenders == []
