"""Faults never cost a person their answer: transcripts through the stand-in Bot API.

Telegram's sending side down for half a minute while someone writes that they want to
die: the crisis answer arrives once the API is back, exactly once and in order, in polling
and in webhook mode. Late replies keep their order and new ones wait behind them; a stale
ordinary reply is dropped, a safety answer never; nothing is edited late. An update
python-telegram-bot cannot read, or a name with a lone surrogate, costs no one else their
answer. A press claiming someone else's private chat runs nothing.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import socket
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_engine
from bot.config import Settings
from bot.engine.replies import Incoming, Reply
from bot.logs import QUIET_LIBRARIES, configure_logging
from bot.telegram.application import Webhook, build_application, start_application, stop_application
from bot.telegram.inbox import DurableUpdateQueue, stored_body
from bot.telegram.late import REPLY_KIND, SAFETY_KIND, Backlog
from bot.telegram.updates import UpdatesRequest
from tests.botapi_standin import BotApiStandIn, Fault, TgUser
from tests.telegram_helpers import (
    AnyApplication,
    FakeEngine,
    RecordingEngine,
    expected_texts,
    inbox_for,
    keys,
    make_message,
    make_settings,
    make_update,
    menu_reply,
    person,
    running_bot,
    settle,
    standin,  # noqa: F401 - the fixture
)

OUTAGE_SECONDS = 30.0
CRISIS = "i want to kill myself tonight"
QUESTION = "how can i trust my partner again"
PRIVATE_WORDS = "marmalade lighthouse 4711"
LATE_TIMEOUT = OUTAGE_SECONDS + 30.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@asynccontextmanager
async def webhook_bot(standin: BotApiStandIn, settings: Settings, engine: Any, **options: Any) -> AsyncIterator[AnyApplication]:
    """The real Application in webhook mode on a free local port, registered with the stand-in."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"
    options.setdefault("inbox", inbox_for(engine))
    application = build_application(settings, engine, **options)
    await start_application(application, Webhook(url=url, listen="127.0.0.1", port=port, secret_token="s3cret-Token"))
    try:
        yield application
    finally:
        await stop_application(application)


async def undelivered(engine: RecordingEngine) -> int:
    """Outbox rows not yet delivered (0 once everything queued has gone out or been dropped)."""
    row = await engine.store.fetchone("SELECT count(*) FROM outbox WHERE delivered_at IS NULL")
    return int(row[0]) if row else 0


async def outage_transcript(standin: BotApiStandIn, engine: RecordingEngine) -> None:
    """user (API down): CRISIS -> bot, once the API is back: the whole safety answer, once; a question too."""
    asha, ravi = standin.new_user("Asha"), standin.new_user("Ravi")
    standin.faults.outage(OUTAGE_SECONDS)
    standin.user_sends(asha, CRISIS)
    standin.user_sends(ravi, QUESTION)

    def everything_arrived() -> bool:
        return all(
            user.id in engine.turns and len(standin.events_in(user.id)) >= len(expected_texts(engine.replies(user.id)))
            for user in (asha, ravi)
        )

    await standin.wait_until(everything_arrived, timeout=LATE_TIMEOUT)
    await standin.wait_until(lambda: not engine.outbox_busy, timeout=10)
    turn = engine.last_turn(asha.id)
    assert "safety.lines.crisis" in keys(turn)
    shown = [event.text for event in standin.events_in(asha.id)]
    assert shown == expected_texts(turn), "the safety answer arrived whole, in order, each message once"
    assert "\n".join(shown).count("14416") == 1, "the crisis line is on screen, once"
    assert [event.text for event in standin.events_in(ravi.id)] == expected_texts(engine.replies(ravi.id)), "a fresh answer too"


class WatchedEngine(RecordingEngine):
    """A recording engine that also says whether its outbox still holds something to deliver."""

    outbox_busy = True

    async def delivery_done(self, delivery_id: int) -> None:
        await self.inner.delivery_done(delivery_id)
        self.outbox_busy = await undelivered(self) > 0


async def test_a_crisis_answer_written_during_an_outage_arrives_once_the_api_is_back(standin: BotApiStandIn, tmp_path: Path) -> None:
    """Polling and webhook side by side (one outage each, at the same time)."""
    async with BotApiStandIn() as hook_standin:
        polling_settings = make_settings(standin, tmp_path / "polling")
        webhook_settings = make_settings(hook_standin, tmp_path / "webhook")
        polling_engine = WatchedEngine(build_engine(polling_settings))
        webhook_engine = WatchedEngine(build_engine(webhook_settings))
        async with (
            running_bot(polling_settings, polling_engine, outbox_interval=0.5),
            webhook_bot(hook_standin, webhook_settings, webhook_engine, outbox_interval=0.5),
        ):
            await asyncio.gather(outage_transcript(standin, polling_engine), outage_transcript(hook_standin, webhook_engine))


async def test_late_replies_keep_their_order_and_a_new_turn_waits_behind_them(standin: BotApiStandIn, tmp_path: Path) -> None:
    settings = make_settings(standin, tmp_path)
    engine = RecordingEngine(build_engine(settings))
    # The turn's first send, then both tries of the outbox's first drain: the person's replies wait 5 s.
    standin.faults.then("sendMessage", Fault.server_error(), Fault.server_error(), Fault.server_error())
    async with running_bot(settings, engine, outbox_interval=0.2, send_attempts=1):
        asha = standin.new_user("Asha")
        standin.user_sends(asha, QUESTION)
        await standin.wait_until(lambda: len(standin.faults.injected) == 3)
        standin.user_sends(asha, "/menu")
        await standin.wait_until(lambda: asha.id in engine.turns and len(engine.turns[asha.id]) == 2)
        expected = expected_texts(engine.replies(asha.id))
        await standin.wait_until(lambda: len(standin.events_in(asha.id)) >= len(expected), timeout=15)
        await asyncio.sleep(0.5)  # room for a duplicate to show up, if there were one
    assert [event.text for event in standin.events_in(asha.id)] == expected


async def test_a_stale_late_reply_is_dropped_but_a_late_safety_answer_never(standin: BotApiStandIn, tmp_path: Path) -> None:
    engine = FakeEngine()
    asha = standin.new_user("Asha")
    now = datetime.now(timezone.utc)
    stale = engine.queue(Reply(key="answer.rebuild_trust", text="an answer from long ago"), asha.id, kind=REPLY_KIND, created_at=now - timedelta(minutes=11))
    lines = engine.queue(Reply(key="safety.lines.crisis", text="📞 14416 · Tele-MANAS"), asha.id, kind=SAFETY_KIND, created_at=now - timedelta(hours=3))
    fresh = engine.queue(Reply(key="answer.red_flags", text="an answer from a minute ago"), asha.id, kind=REPLY_KIND, created_at=now - timedelta(minutes=1))
    standin.user_sends(asha, "hello")  # her chat exists at the stand-in; the bot answers once it runs
    async with running_bot(make_settings(standin, tmp_path), engine, outbox_interval=0.1):
        await standin.wait_until(lambda: {stale, lines, fresh} <= set(engine.done) and len(standin.events_in(asha.id)) == 3)
    shown = [event.text for event in standin.events_in(asha.id)]
    assert shown == ["📞 14416 · Tele-MANAS", "an answer from a minute ago", "echo text: hello"], "what waited goes out first"


async def test_a_reply_that_should_have_edited_the_pressed_message_arrives_late_as_a_new_one(standin: BotApiStandIn, tmp_path: Path) -> None:
    def script(incoming: Incoming) -> list[Reply]:
        return [Reply(key="ask", text="Go ahead, ask me anything.", edit_previous=True)] if incoming.kind == "button" else [menu_reply()]

    engine = FakeEngine(script=script)
    standin.faults.then("editMessageText", Fault.server_error())
    async with running_bot(make_settings(standin, tmp_path), engine, outbox_interval=0.2, send_attempts=1) as app:
        asha = person(standin, app)
        (menu,) = await asha.says("hi")
        mark = standin.mark(asha.chat_id)
        standin.user_presses(asha.user, menu, "Ask a question")
        await standin.wait_until(lambda: len(standin.events_in(asha.chat_id, after=mark)) == 1)
    (late,) = standin.events_in(asha.chat_id, after=mark)
    assert (late.kind, late.text) == ("sent", "Go ahead, ask me anything.")
    assert standin.shown(asha.chat_id)[0].text == menu.text, "the pressed message was left as it was"
    assert engine.outbox == {}, "delivered, nothing left in the outbox"


# ---------------------------------------------------------------- odd updates


@pytest.fixture
def info_log() -> Iterator[io.StringIO]:
    """What production logging (bot.logs, at INFO) writes, with the root logger restored after."""
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in ("", *QUIET_LIBRARIES)}
    out = io.StringIO()
    added = configure_logging("INFO", stream=out)
    try:
        yield out
    finally:
        if added is not None:
            root.removeHandler(added)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def unreadable_update(user: TgUser) -> dict[str, Any]:
    """A message python-telegram-bot cannot read (its chat is a string), carrying private words."""
    return {"message": {"message_id": 1, "date": int(time.time()), "from": user.to_dict(), "chat": PRIVATE_WORDS, "text": PRIVATE_WORDS}}


async def test_an_update_the_library_cannot_read_is_skipped_and_everyone_is_still_answered(
    standin: BotApiStandIn, tmp_path: Path, info_log: io.StringIO
) -> None:
    async with running_bot(make_settings(standin, tmp_path), FakeEngine()) as app:
        asha = person(standin, app)
        broken = standin.raw_update(unreadable_update(asha.user))
        shown = await asha.says("hello")
        await standin.wait_confirmed(broken)
    assert [event.text for event in shown] == ["echo text: hello"], "polling went on past the unreadable update"
    assert f"update={broken} unreadable" in info_log.getvalue()
    assert PRIVATE_WORDS not in info_log.getvalue()


async def test_the_webhook_answers_an_unreadable_update_with_200_and_goes_on(standin: BotApiStandIn, tmp_path: Path, info_log: io.StringIO) -> None:
    async with webhook_bot(standin, make_settings(standin, tmp_path), FakeEngine()):
        asha = standin.new_user("Asha")
        standin.raw_update(unreadable_update(asha))
        standin.user_sends(asha, "hello")
        (reply,) = await standin.wait_for_messages(asha.id, 1)
    assert reply.text == "echo text: hello"
    assert standin.webhook_posts == [200, 200], "Telegram is not asked to deliver the unreadable update again"
    assert PRIVATE_WORDS not in info_log.getvalue()


async def test_a_lone_surrogate_in_a_name_or_a_text_is_stored_and_answered(standin: BotApiStandIn, tmp_path: Path) -> None:
    settings = make_settings(standin, tmp_path)
    engine = RecordingEngine(build_engine(settings))
    async with running_bot(settings, engine) as app:
        asha = person(standin, app, "Asha")
        await asha.says("/start")
        odd_user = {**asha.user.to_dict(), "first_name": "A\ud800sha"}
        chat = {"id": asha.chat_id, "type": "private", "first_name": "A\ud800sha"}
        mark = standin.mark(asha.chat_id)
        standin.raw_update({"message": {"message_id": 90, "date": int(time.time()), "from": odd_user, "chat": chat, "text": "hello \udc00 there"}})
        await settle(standin, app)
        odd_turn = engine.last_turn(asha.chat_id)
        shown = await asha.says(QUESTION)
    assert [e.text for e in standin.events_in(asha.chat_id, after=mark)] == expected_texts(odd_turn) + [e.text for e in shown]
    assert odd_turn and shown, "the odd message was answered, and so was the next one"


async def test_a_press_claiming_someone_elses_private_chat_runs_nothing(standin: BotApiStandIn, tmp_path: Path) -> None:
    def script(incoming: Incoming) -> list[Reply]:
        return [Reply(key="ask", text="Go ahead.", edit_previous=True)] if incoming.kind == "button" else [menu_reply()]

    engine = FakeEngine(script=script)
    async with running_bot(make_settings(standin, tmp_path), engine) as app:
        asha, ravi = person(standin, app, "Asha"), person(standin, app, "Ravi")
        (menu,) = await asha.says("hi")
        data = standin.current_message(asha.chat_id, menu.message_id)["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        mark = standin.mark(asha.chat_id)
        query = standin.user_presses_data(ravi.user, menu, data)
        await settle(standin, app)
    assert query in standin.answered_queries, "Ravi's button stops spinning"
    assert [incoming.kind for incoming in engine.handled] == ["text"], "no turn ran for the press"
    assert standin.events_in(asha.chat_id, after=mark) == [] and standin.events_in(ravi.chat_id) == []



# ---------------------------------------------------------------- the durable inbox and the backlog


class BrokenInbox:
    """An inbox whose database fails in a way nobody foresaw."""

    async def receive(self, update_id: int, body: str) -> bool:
        raise RuntimeError("disk on fire")


async def test_the_inbox_queues_an_update_it_cannot_store_instead_of_stopping_polling() -> None:
    queue = DurableUpdateQueue(BrokenInbox())  # type: ignore[arg-type]
    update = make_update({"message": make_message({"text": "hello"})}, update_id=5)
    await queue.put(update)
    assert queue.get_nowait() is update


def test_an_update_with_a_lone_surrogate_is_stored_as_an_escape_and_reads_back_the_same() -> None:
    update = make_update({"message": make_message({"text": "hi \ud800"})}, update_id=6)
    body = stored_body(update)
    body.encode("utf-8")  # SQLite stores UTF-8: this is what used to raise inside put
    assert json.loads(body)["message"]["text"] == "hi \ud800"


def test_a_backlog_holds_a_chat_until_its_late_replies_settle_or_it_expires() -> None:
    now = [0.0]
    backlog = Backlog(clock=lambda: now[0], hold_seconds=60.0)
    backlog.add(7, 1)
    backlog.add(7, 2)
    backlog.settled(7, 1)
    assert backlog.waiting(7) and not backlog.waiting(8)
    backlog.settled(7, 2)
    assert not backlog.waiting(7)
    backlog.add(7, 3)  # then erased by /forget: never reported settled
    now[0] = 61.0
    assert not backlog.waiting(7), "a reply that never settles holds the chat for a while only"


async def test_getupdates_text_with_a_lone_surrogate_arrives_with_a_replacement_character() -> None:
    request = UpdatesRequest()
    payload = json.dumps({"ok": True, "result": [{"update_id": 1, "message": make_message({"text": "a\ud800b"})}]}).encode()
    try:
        data = request.parse_json_payload(payload)
    finally:
        await request.shutdown()
    assert data["result"][0]["message"]["text"] == "a\ufffdb"


async def test_a_batch_that_keeps_coming_back_loses_its_first_update_so_polling_moves_on() -> None:
    request = UpdatesRequest()
    batch = [{"update_id": 1, "message": make_message({"text": "one"})}, {"update_id": 2, "message": make_message({"text": "two"})}]
    payload = json.dumps({"ok": True, "result": batch}).encode()
    try:
        rounds = [request.parse_json_payload(payload)["result"] for _ in range(3)]
    finally:
        await request.shutdown()
    assert rounds[0] == batch and rounds[1] == batch, "readable updates pass untouched"
    assert rounds[2] == [{"update_id": 1}, batch[1]]
