"""`python -m bot run` with a token really serves Telegram (here: the stand-in via TELEGRAM_BASE_URL) and stops cleanly."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from bot.config import REPO_ROOT
from tests.botapi_standin import BotApiStandIn
from tests.telegram_helpers import standin  # noqa: F401 - the fixture


async def test_the_run_command_long_polls_answers_and_stops_on_sigterm(standin: BotApiStandIn, tmp_path: Path) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TELEGRAM_", "WEBHOOK_", "STAFF_", "DATABASE_", "CONTENT_"))
    }
    env.update(
        PYTHONPATH=str(REPO_ROOT),
        TELEGRAM_BOT_TOKEN=standin.token,
        TELEGRAM_BASE_URL=standin.base_url,
        DATABASE_PATH=str(tmp_path / "bot.sqlite3"),
        LOG_LEVEL="INFO",
    )
    # cwd=tmp_path: no developer's .env is read.
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        await standin.wait_until(lambda: bool(standin.commands), timeout=20)
        asha = standin.new_user("Asha")
        standin.user_sends(asha, "/start")
        shown = await standin.wait_for_messages(asha.id, 1, timeout=10)
        assert shown[0].text.strip()
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 20)
    log = stderr.decode()
    assert process.returncode == 0, log[-2000:]
    assert standin.token not in log, "the token never reaches the logs"
    assert "/start" not in log
