"""The bot's process ends when it cannot go on, and always ends when asked: exit codes a supervisor can act on.

A token Telegram refuses (at start, or later on getUpdates: python-telegram-bot then stops
polling for good and only logs it) ends the run with exit code 3 within seconds; a database
that cannot be opened with 4; SIGTERM with 0, also after odd updates and during an outage.
The process runs as `python -m bot run` against the stand-in, like test_telegram_run.py.
"""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import pytest

from bot import exit_codes
from bot.app import build_engine
from bot.telegram.application import Polling, build_application
from bot.telegram.lifecycle import serve
from tests.botapi_standin import BotApiStandIn, Fault
from tests.telegram_helpers import FakeEngine, inbox_for, make_settings, start_process, standin  # noqa: F401 - the fixture

# Bounds, not timings: a process that hangs fails the test here instead of hanging it.
EXIT_TIMEOUT = 30.0
START_TIMEOUT = 30.0
CRISIS = "i want to kill myself tonight"


async def finished(process: asyncio.subprocess.Process) -> str:
    """Wait (bounded) for the process to end; its log."""
    _, stderr = await asyncio.wait_for(process.communicate(), EXIT_TIMEOUT)
    return stderr.decode("utf-8", "replace")


async def test_a_token_refused_while_polling_ends_the_process_with_exit_code_3(standin: BotApiStandIn, tmp_path: Path) -> None:
    standin.faults.then("getUpdates", Fault.unauthorized())
    process = await start_process(standin, tmp_path)
    log = await finished(process)
    assert process.returncode == exit_codes.TELEGRAM, log[-3000:]
    stop_lines = [line for line in log.splitlines() if "CRITICAL bot.telegram stopping:" in line]
    assert len(stop_lines) == 1 and "Telegram refused the bot token" in stop_lines[0], log[-3000:]
    assert standin.token not in log


async def test_sigterm_ends_the_process_after_odd_updates(standin: BotApiStandIn, tmp_path: Path) -> None:
    """A name with a lone surrogate and an unreadable update neither stop polling nor the shutdown."""
    process = await start_process(standin, tmp_path)
    try:
        await standin.wait_until(lambda: bool(standin.commands) or process.returncode is not None, timeout=START_TIMEOUT)
        asha = standin.new_user("Asha")
        standin.user_sends(asha, "/start")
        await standin.wait_for_messages(asha.id, 1, timeout=15)
        odd = {**asha.to_dict(), "first_name": "A\ud800"}
        chat = {"id": asha.id, "type": "private", "first_name": "A\ud800"}
        before = len(standin.shown(asha.id))
        standin.raw_update({"message": {"message_id": 50, "date": int(time.time()), "from": odd, "chat": chat, "text": "hi \udfff"}})
        standin.raw_update({"message": {"message_id": 51, "date": int(time.time()), "chat": "not a chat", "text": "?"}})
        standin.user_sends(asha, "/menu")
        await standin.wait_until(lambda: len(standin.shown(asha.id)) >= before + 2, timeout=15)
    finally:
        process.send_signal(signal.SIGTERM)
        log = await finished(process)
    assert process.returncode == exit_codes.OK, log[-3000:]


async def test_serve_returns_exit_code_3_and_closes_the_engine_when_polling_is_refused(standin: BotApiStandIn, tmp_path: Path) -> None:
    engine = FakeEngine()
    standin.faults.then("getUpdates", Fault.unauthorized())
    application = build_application(make_settings(standin, tmp_path), engine)
    code = await asyncio.wait_for(serve(application, Polling(timeout=1), stop_signals=()), EXIT_TIMEOUT)
    assert code == exit_codes.TELEGRAM
    assert engine.started and engine.closed


async def test_a_token_refused_at_start_ends_with_exit_code_3_before_the_engine_opens(standin: BotApiStandIn, tmp_path: Path) -> None:
    engine = FakeEngine()
    application = build_application(make_settings(standin, tmp_path, telegram_bot_token="123456789:not-the-token"), engine)
    code = await asyncio.wait_for(serve(application, Polling(timeout=1), stop_signals=()), EXIT_TIMEOUT)
    assert code == exit_codes.TELEGRAM
    assert not engine.started


async def test_a_database_that_cannot_be_opened_ends_with_exit_code_4(standin: BotApiStandIn, tmp_path: Path) -> None:
    settings = make_settings(standin, tmp_path, database_path=tmp_path)  # a folder, not a file
    engine = build_engine(settings)
    application = build_application(settings, engine, inbox=inbox_for(engine))
    code = await asyncio.wait_for(serve(application, Polling(timeout=1), stop_signals=()), EXIT_TIMEOUT)
    assert code == exit_codes.STORAGE


@pytest.mark.heavy
async def test_a_crisis_answer_queued_during_an_outage_survives_a_restart(standin: BotApiStandIn, tmp_path: Path) -> None:
    """SIGTERM while the person's reply is failing: the answer is kept, and the next run delivers it once."""
    first = await start_process(standin, tmp_path)
    try:
        await standin.wait_until(lambda: bool(standin.calls_of("getUpdates")) or first.returncode is not None, timeout=START_TIMEOUT)
        standin.faults.outage(25.0)
        asha = standin.new_user("Asha")
        standin.user_sends(asha, CRISIS)
        await standin.wait_until(lambda: ("sendmessage", "outage") in standin.faults.injected, timeout=15)
    finally:
        first.send_signal(signal.SIGTERM)
        log = await finished(first)
    assert first.returncode == exit_codes.OK, log[-3000:]
    assert standin.faults.down and standin.shown(asha.id) == [], "stopped during the outage, nothing shown yet"
    second = await start_process(standin, tmp_path)
    try:
        await standin.wait_until(lambda: any("14416" in shown.text for shown in standin.shown(asha.id)), timeout=45)
        await asyncio.sleep(2.0)  # room for a duplicate to show up, if there were one
    finally:
        second.send_signal(signal.SIGTERM)
        log = await finished(second)
    assert second.returncode == exit_codes.OK, log[-3000:]
    assert "\n".join(shown.text for shown in standin.shown(asha.id)).count("14416") == 1
