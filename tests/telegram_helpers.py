"""Factories and fixtures-in-waiting for the Telegram tests: settings, a running bot, people, fake engines.

A `Person` plays one Telegram user against the stand-in and waits, deterministically,
until the bot has processed what they did: the update is confirmed by the bot's next
getUpdates (so it is in the application's queue) and the queue is drained.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from telegram import Bot, Update
from telegram.ext import Application

from bot.app import build_engine
from bot.config import Settings
from bot.engine.replies import Button, Incoming, Reply
from bot.storage.inbox_store import InboxStore
from bot.storage.store import Store
from bot.telegram.application import Polling, build_application, start_application, stop_application
from bot.telegram.codec import CallbackCodec
from bot.telegram.render import render_reply
from tests.botapi_standin import BOT_ID, BotApiStandIn, Shown, TgUser
from tests.load_process import bot_environment

AnyApplication = Application[Any, Any, Any, Any, Any, Any]
SETTLE_TIMEOUT = 10.0


def make_settings(standin: BotApiStandIn, tmp_path: Path, **overrides: Any) -> Settings:
    """Settings pointing the bot at the stand-in, with a tmp_path database and no rate limiter."""
    values: dict[str, Any] = {
        "telegram_bot_token": standin.token,
        "telegram_base_url": standin.base_url,
        "database_path": tmp_path / "bot.sqlite3",
        "rate_limiter": False,
        "staff_chat_id": None,
        "webhook_url": None,
        "webhook_secret": None,
        "admin_user_ids": [],
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def inbox_for(engine: Any) -> InboxStore | None:
    """The durable update inbox on the engine's database, as `bot.app.run_telegram` wires it (None for a fake engine)."""
    store = getattr(engine, "store", None)
    return InboxStore(store) if isinstance(store, Store) else None


@asynccontextmanager
async def running_bot(
    settings: Settings,
    engine: Any | None = None,
    *,
    poll_timeout: float = 1.0,
    **build_options: Any,
) -> AsyncIterator[AnyApplication]:
    """The real Application, long-polling the stand-in, stopped (engine closed) on exit."""
    engine = engine if engine is not None else build_engine(settings)
    build_options.setdefault("inbox", inbox_for(engine))
    application = build_application(settings, engine, **build_options)
    await start_application(application, Polling(timeout=poll_timeout))
    try:
        yield application
    finally:
        await stop_application(application)


async def settle(standin: BotApiStandIn, application: AnyApplication, timeout: float = SETTLE_TIMEOUT) -> None:
    """Wait until every update people caused so far has been fully processed by the bot."""
    last = standin.last_update_id
    if last:
        await standin.wait_confirmed(last, timeout)
    await asyncio.wait_for(application.update_queue.join(), timeout)


@dataclass
class Person:
    """One person chatting with the bot through the stand-in; each action returns what they then saw."""

    standin: BotApiStandIn
    application: AnyApplication
    user: TgUser

    @property
    def chat_id(self) -> int:
        return self.user.id

    async def _after(self, act: Callable[[], object]) -> list[Shown]:
        mark = self.standin.mark(self.chat_id)
        act()
        await settle(self.standin, self.application)
        return self.standin.events_in(self.chat_id, after=mark)

    async def says(self, text: str) -> list[Shown]:
        return await self._after(lambda: self.standin.user_sends(self.user, text))

    async def sends(self, kind: str, caption: str | None = None, *, own_contact: bool = True) -> list[Shown]:
        return await self._after(lambda: self.standin.user_sends_media(self.user, kind, caption, own_contact=own_contact))

    async def edits(self, message: dict[str, Any], text: str) -> list[Shown]:
        return await self._after(lambda: self.standin.user_edits(self.user, message, text))

    async def presses(self, label: str, on: Shown | None = None) -> list[Shown]:
        target = on or self.message_with(label)
        return await self._after(lambda: self.standin.user_presses(self.user, target, label))

    async def presses_data(self, data: str, on: Shown | None = None) -> list[Shown]:
        target = on or self.shown()[-1]
        return await self._after(lambda: self.standin.user_presses_data(self.user, target, data))

    def shown(self) -> list[Shown]:
        """The bot's messages in this chat as they look now."""
        return self.standin.shown(self.chat_id)

    def message_with(self, label: str) -> Shown:
        """The newest bot message carrying a button `label`."""
        for message in reversed(self.shown()):
            if label in message.labels:
                return message
        raise AssertionError(f"no message with a {label!r} button; labels: {[m.labels for m in self.shown()]}")



def process_env(standin: BotApiStandIn, tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of `python -m bot run` against the stand-in, on a database in tmp_path."""
    return bot_environment(standin, tmp_path / "bot.sqlite3", **extra)


async def start_process(standin: BotApiStandIn, tmp_path: Path, **extra: str) -> asyncio.subprocess.Process:
    """`python -m bot run` against the stand-in, in tmp_path (so no developer's .env is read); stderr piped."""
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=tmp_path, env=process_env(standin, tmp_path, **extra),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )


def person(standin: BotApiStandIn, application: AnyApplication, first_name: str = "Asha") -> Person:
    """A new person on the stand-in, talking to `application`."""
    return Person(standin, application, standin.new_user(first_name))


# ---------------------------------------------------------------- fake engines


class FakeTexts:
    """Content texts for fake engines: like the engine's, `get` returns the key when it has no text."""

    def __init__(self, values: dict[str, str] | None = None) -> None:
        self.values = values or {}

    def get(self, key: str, **extra: str) -> str:
        text = self.values.get(key)
        return text.format(**extra) if text is not None else key

    def in_language(self, language: str | None) -> FakeTexts:
        """One language only: the same texts whatever is asked."""
        return self


def echo(incoming: Incoming) -> list[Reply]:
    """The default fake script: say back what arrived, so tests can match reply to message."""
    what = incoming.text or incoming.button or incoming.media or incoming.kind
    return [Reply(key="echo", text=f"echo {incoming.kind}: {what}")]


@dataclass
class FakeDelivery:
    id: int
    person: int | None
    reply: Reply
    kind: str = "message"
    about: int | None = None
    created_at: datetime | None = None

    @property
    def for_staff(self) -> bool:
        return self.person is None


@dataclass
class FakeEngine:
    """An engine stand-in with a scripted `handle`, an in-memory outbox and `remember_once`."""

    script: Callable[[Incoming], list[Reply]] = echo
    delay: float = 0.0
    texts: FakeTexts = field(default_factory=FakeTexts)
    handled: list[Incoming] = field(default_factory=list)
    remembered: set[str] = field(default_factory=set)
    outbox: dict[int, FakeDelivery] = field(default_factory=dict)
    done: list[int] = field(default_factory=list)
    failed: list[tuple[int, float]] = field(default_factory=list)
    started: bool = False
    closed: bool = False

    async def start(self) -> None:
        self.started = True

    async def close(self) -> None:
        self.closed = True

    async def handle(self, incoming: Incoming) -> list[Reply]:
        self.handled.append(incoming)
        if self.delay:
            await asyncio.sleep(self.delay)
        return self.script(incoming)

    async def remember_once(self, key: str) -> bool:
        first = key not in self.remembered
        self.remembered.add(key)
        return first

    def queue(
        self,
        reply: Reply,
        person: int | None = None,
        *,
        kind: str = "message",
        about: int | None = None,
        created_at: datetime | None = None,
    ) -> int:
        """Queue a delivery for `person` (None: for the staff, about `about`)."""
        delivery_id = len(self.outbox) + len(self.done) + 1
        queued_at = created_at or datetime.now(timezone.utc)
        self.outbox[delivery_id] = FakeDelivery(delivery_id, person, reply, kind, about, queued_at)
        return delivery_id

    async def tell_person(self, user_id: int, reply: Reply, *, kind: str = "message") -> int:
        return self.queue(reply, user_id, kind=kind)

    async def due_deliveries(self, limit: int = 20) -> list[FakeDelivery]:
        return list(self.outbox.values())[:limit]

    async def delivery_done(self, delivery_id: int) -> None:
        self.outbox.pop(delivery_id, None)
        self.done.append(delivery_id)

    async def delivery_failed(self, delivery_id: int, retry_in_seconds: float) -> None:
        self.failed.append((delivery_id, retry_in_seconds))


class RecordingEngine:
    """Wraps the real engine and records each turn's replies per person, to compare with what arrived."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.turns: dict[int, list[list[Reply]]] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def handle(self, incoming: Incoming) -> list[Reply]:
        replies = await self.inner.handle(incoming)
        self.turns.setdefault(incoming.user_id, []).append(list(replies))
        return replies

    def replies(self, user_id: int) -> list[Reply]:
        """Every reply the engine gave this person, in order."""
        return [reply for turn in self.turns.get(user_id, []) for reply in turn]

    def last_turn(self, user_id: int) -> list[Reply]:
        """The replies of this person's latest turn."""
        return self.turns[user_id][-1]


def expected_texts(replies: Sequence[Reply]) -> list[str]:
    """The message texts a person should see for `replies`, sent or edited in, in order."""
    codec = CallbackCodec(b"only-texts-matter")
    return [message.text for reply in replies for message in render_reply(reply, codec, 1)]


def keys(replies: Sequence[Reply]) -> list[str]:
    """Content keys of replies: what transcripts assert on."""
    return [reply.key for reply in replies]


def label_for(replies: Sequence[Reply], payload_prefix: str) -> str:
    """The label of the first button whose payload starts with `payload_prefix`."""
    for reply in replies:
        for button in reply.all_buttons():
            if button.payload.startswith(payload_prefix):
                return button.label
    raise AssertionError(f"no button for {payload_prefix!r} in {[b.payload for r in replies for b in r.all_buttons()]}")


def menu_reply(edit: bool = False) -> Reply:
    """A small reply with two buttons, for channel tests."""
    return Reply(
        key="menu",
        text="What would help right now?",
        buttons=((Button("Ask a question", "ask"), Button("Talk to a person", "human")),),
        edit_previous=edit,
    )


# ---------------------------------------------------------------- PTB object factories


def make_user_dict(user_id: int = 10_001, first_name: str = "Asha", username: str | None = "asha") -> dict[str, Any]:
    data: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    if username:
        data["username"] = username
    return data


def make_update(body: dict[str, Any], update_id: int = 1) -> Update:
    """An `Update` from Bot API JSON (python-telegram-bot objects are frozen: build, never mutate)."""
    update = Update.de_json({"update_id": update_id, **body}, None)
    assert update is not None
    return update


def make_message(
    content: dict[str, Any],
    *,
    user_id: int = 10_001,
    chat: dict[str, Any] | None = None,
    message_id: int = 1,
    from_bot: bool = False,
) -> dict[str, Any]:
    """Bot API JSON of a message in the user's private chat (or `chat`)."""
    sender = {"id": BOT_ID, "is_bot": True, "first_name": "Bot"} if from_bot else make_user_dict(user_id)
    return {
        "message_id": message_id,
        "from": sender,
        "chat": chat or {"id": user_id, "type": "private", "first_name": "Asha"},
        "date": 1_700_000_000,
        **content,
    }


def make_callback(data: str, *, user_id: int = 10_001, chat: dict[str, Any] | None = None) -> dict[str, Any]:
    """Bot API JSON of a callback query from a button on a bot message."""
    message = make_message({"text": "menu"}, user_id=user_id, chat=chat, message_id=7, from_bot=True)
    return {"callback_query": {"id": "q1", "from": make_user_dict(user_id), "message": message, "chat_instance": "ci", "data": data}}


# ---------------------------------------------------------------- fixtures (import them into a test module)


@pytest.fixture
async def standin(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[BotApiStandIn]:
    """A Bot API stand-in on a free port of 127.0.0.1, closed after the test.

    PTB_TIMEDELTA opts in to python-telegram-bot 22's timedelta durations: without it, every
    RetryAfter raises a deprecation warning, which pytest's filterwarnings=error makes fatal.
    """
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    async with BotApiStandIn() as server:
        yield server


@asynccontextmanager
async def raw_bot(standin: BotApiStandIn) -> AsyncIterator[Bot]:
    """A bare python-telegram-bot `Bot` on the stand-in (no retries, no application)."""
    async with Bot(standin.token, base_url=standin.base_url) as bot:
        yield bot
