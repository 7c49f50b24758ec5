"""The bot as a real process (`python -m bot run`) that a test can SIGKILL, and a stand-in that can
hold the staff group's messages and tell which updates it handed out and which were confirmed.

`HoldingStandIn.hold(chat_id)` makes the Bot API sit on every message to that chat, like a
staff group that is slow to accept; `abandon()` (when the bot was killed) lets those
requests fail as never processed, since the connection they came on is gone.
`private_delay` slows every message to a person, so turns back up behind one another. `fetched`
counts how often each update was handed to the bot by getUpdates, `confirmed_below` is
the offset the bot has confirmed: together they say what Telegram would deliver again.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import signal
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from bot.app import hash_key
from bot.config import REPO_ROOT, Settings
from tests.botapi_standin import JSON, ApiError, BotApiStandIn

STARTUP_TIMEOUT = 30.0


class HoldingStandIn(BotApiStandIn):
    """The stand-in, plus held chats and a record of what getUpdates handed out."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.held: set[int] = set()
        self.holding: list[str] = []
        self.fetched: Counter[int] = Counter()
        self._released = asyncio.Event()
        self._epoch = 0
        self._polls = 0
        self.private_delay = 0.0

    @property
    def polling(self) -> bool:
        """Whether a getUpdates long poll is waiting right now (updates sent now go out in its batch)."""
        return self._polls > 0

    @property
    def confirmed_below(self) -> int:
        """Updates below this id were confirmed by the bot: Telegram will not deliver them again."""
        return self._confirmed_below

    def confirm_all(self) -> list[JSON]:
        """As if a bot fetched and confirmed every pending update, then died: Telegram will not send them again."""
        taken, self._updates = self._updates, []
        self._confirmed_below = self.last_update_id + 1
        return taken

    def hold(self, chat_id: int) -> None:
        """From now on, sendMessage to `chat_id` waits until `release()` or `abandon()`."""
        self.held.add(chat_id)
        self._released = asyncio.Event()

    def release(self) -> None:
        self.held.clear()
        self._released.set()

    def abandon(self) -> None:
        """The bot that sent the held requests is dead: they fail unprocessed; later ones go through."""
        self._epoch += 1
        self.holding.clear()
        self.release()

    async def _api_sendmessage(self, params: JSON) -> JSON:
        epoch = self._epoch
        chat_id = params.get("chat_id")
        if self.private_delay and isinstance(chat_id, int) and chat_id > 0:
            await asyncio.sleep(self.private_delay)  # a slow network to people: their turns take a while
        if params.get("chat_id") in self.held:
            self.holding.append(str(params.get("text", "")))
            self._notify()
            await self._released.wait()
            if epoch != self._epoch:
                raise ApiError(500, "Internal Server Error")
        return await super()._api_sendmessage(params)

    async def _api_getupdates(self, params: JSON) -> list[JSON]:
        self._polls += 1
        try:
            updates = await super()._api_getupdates(params)
        finally:
            self._polls -= 1
        for update in updates:
            self.fetched[int(update["update_id"])] += 1
        return updates


def bot_environment(standin: BotApiStandIn, database: Path, staff_chat_id: int | None = None, **extra: str) -> dict[str, str]:
    """The environment of `python -m bot run` against the stand-in (nothing inherited that configures the bot)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TELEGRAM_", "WEBHOOK_", "STAFF_", "DATABASE_", "CONTENT_", "ADMIN_", "RATE_", "LOG_"))
    }
    env.update(
        PYTHONPATH=str(REPO_ROOT),
        TELEGRAM_BOT_TOKEN=standin.token,
        TELEGRAM_BASE_URL=standin.base_url,
        DATABASE_PATH=str(database),
        PTB_TIMEDELTA="true",
        RATE_LIMITER="false",
        LOG_LEVEL="INFO",
        **extra,
    )
    if staff_chat_id is not None:
        env["STAFF_CHAT_ID"] = str(staff_chat_id)
    return env


class BotProcess:
    """One run of `python -m bot run`; its log goes to a file next to the database."""

    def __init__(self, standin: BotApiStandIn, env: dict[str, str], workdir: Path, name: str) -> None:
        self.standin = standin
        self.env = env
        self.workdir = workdir
        self.log = workdir / f"{name}.log"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        """Start and wait until it registered its commands (the engine is open, polling begins)."""
        registered = len(self.standin.calls_of("setMyCommands"))
        with self.log.open("wb") as log:
            # cwd=workdir: no developer's .env is read.
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", cwd=self.workdir, env=self.env,
                stdout=asyncio.subprocess.DEVNULL, stderr=log,
            )
        await self.standin.wait_until(
            lambda: len(self.standin.calls_of("setMyCommands")) > registered or self.exited, timeout=STARTUP_TIMEOUT
        )
        assert not self.exited, f"the bot exited at start:\n{self.log_text()[-2000:]}"

    @property
    def exited(self) -> bool:
        return self.process is not None and self.process.returncode is not None

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, nothing is flushed or confirmed."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)

    async def wait(self, timeout: float = 20.0) -> int:
        assert self.process is not None
        return await asyncio.wait_for(self.process.wait(), timeout)

    async def stop(self) -> int:
        """SIGTERM, as systemd does: python-telegram-bot shuts down gracefully."""
        if self.process is None or self.exited:
            return self.process.returncode if self.process and self.process.returncode is not None else 0
        self.process.send_signal(signal.SIGTERM)
        return await self.wait()

    def log_text(self) -> str:
        return self.log.read_text("utf-8", "replace") if self.log.exists() else ""


def user_hash(token: str, user_id: int) -> str:
    """The pseudonym the bot records turns under (`bot.app.hash_key`, as `Engine.user_hash` uses it)."""
    key = hash_key(Settings(_env_file=None, telegram_bot_token=token))  # type: ignore[call-arg]
    return hmac.new(key, str(user_id).encode(), hashlib.sha256).hexdigest()[:12]
