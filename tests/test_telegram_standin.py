"""The stand-in answers like the Bot API, as python-telegram-bot sees it; otherwise the e2e tests prove little."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiohttp import ClientSession
from tests.botapi_standin import BotApiStandIn, Fault
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, Conflict, Forbidden, NetworkError, RetryAfter
from tests.telegram_helpers import raw_bot, standin  # noqa: F401 - the fixture


async def test_get_updates_honours_offset_limit_and_confirms(standin: BotApiStandIn) -> None:
    asha = standin.new_user("Asha")
    standin.user_sends(asha, "one")
    standin.user_sends(asha, "two")
    async with raw_bot(standin) as bot:
        first = await bot.get_updates(timeout=0, limit=1)
        assert [u.message.text for u in first if u.message] == ["one"]
        both = await bot.get_updates(timeout=0)
        assert [u.message.text for u in both if u.message] == ["one", "two"]
        after = await bot.get_updates(offset=both[-1].update_id + 1, timeout=0)
        assert after == ()
        again = await bot.get_updates(timeout=0)
        assert again == (), "confirmed updates are never delivered again"


async def test_get_updates_long_polls_until_an_update_arrives(standin: BotApiStandIn) -> None:
    asha = standin.new_user("Asha")
    async with raw_bot(standin) as bot:
        started = time.monotonic()
        poll = asyncio.create_task(bot.get_updates(timeout=3, read_timeout=5))
        await asyncio.sleep(0.2)
        standin.user_sends(asha, "hello")
        updates = await poll
        assert [u.message.text for u in updates if u.message] == ["hello"]
        assert time.monotonic() - started < 2

        started = time.monotonic()
        assert await bot.get_updates(offset=updates[-1].update_id + 1, timeout=1, read_timeout=3) == ()
        assert 0.9 < time.monotonic() - started < 2.5, "an empty long poll lasts its timeout"


async def test_a_second_poller_ends_the_first_with_conflict(standin: BotApiStandIn) -> None:
    async with raw_bot(standin) as old_instance, raw_bot(standin) as new_instance:
        first = asyncio.create_task(old_instance.get_updates(timeout=3, read_timeout=5))
        await asyncio.sleep(0.2)
        await new_instance.get_updates(timeout=0)
        with pytest.raises(Conflict):
            await first


async def test_allowed_updates_filters_update_types(standin: BotApiStandIn) -> None:
    asha = standin.new_user("Asha")
    standin.user_sends(asha, "text is not wanted")
    async with raw_bot(standin) as bot:
        assert await bot.get_updates(timeout=0, allowed_updates=["callback_query"]) == ()


async def test_messages_have_dates_in_seconds_and_user_data(standin: BotApiStandIn) -> None:
    asha = standin.new_user("Asha")
    sent = standin.user_sends(asha, "/start")
    assert isinstance(sent["date"], int)
    assert sent["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    async with raw_bot(standin) as bot:
        (update,) = await bot.get_updates(timeout=0)
        assert update.message is not None and update.message.from_user is not None
        assert update.message.from_user.id == asha.id
        assert update.message.date.tzinfo is not None


async def test_send_message_limits_like_telegram(standin: BotApiStandIn) -> None:
    asha = standin.new_user("Asha")
    standin.user_sends(asha, "hi")
    async with raw_bot(standin) as bot:
        with pytest.raises(BadRequest, match="text is empty"):
            await bot.send_message(asha.id, " ")
        with pytest.raises(BadRequest, match="too long"):
            await bot.send_message(asha.id, "x" * 4097)
        with pytest.raises(BadRequest, match="too long"):
            await bot.send_message(asha.id, "💛" * 2049)  # 4098 UTF-16 units
        await bot.send_message(asha.id, "x" * 4096)
        too_long = InlineKeyboardMarkup([[InlineKeyboardButton("go", callback_data="d" * 65)]])
        with pytest.raises(BadRequest, match="(?i)button_data_invalid"):
            await bot.send_message(asha.id, "choose", reply_markup=too_long)
        with pytest.raises(BadRequest, match="(?i)chat not found"):
            await bot.send_message(999, "who?")
    assert [e.text for e in standin.events_in(asha.id)] == ["x" * 4096]


async def test_formatting_must_be_escaped(standin: BotApiStandIn) -> None:
    asha = standin.new_user("Asha")
    standin.user_sends(asha, "hi")
    async with raw_bot(standin) as bot:
        with pytest.raises(BadRequest, match="(?i)can.t parse entities"):
            await bot.send_message(asha.id, "you <3 & me", parse_mode=ParseMode.HTML)
        await bot.send_message(asha.id, "you &lt;3 &amp; <b>me</b>", parse_mode=ParseMode.HTML)
        with pytest.raises(BadRequest, match="reserved"):
            await bot.send_message(asha.id, "Hi. Fine!", parse_mode=ParseMode.MARKDOWN_V2)
        await bot.send_message(asha.id, "Hi\\. *Fine*\\!", parse_mode=ParseMode.MARKDOWN_V2)


async def test_a_blocked_person_is_403(standin: BotApiStandIn) -> None:
    asha = standin.new_user("Asha")
    standin.user_sends(asha, "hi")
    standin.block(asha)
    async with raw_bot(standin) as bot:
        with pytest.raises(Forbidden, match="blocked"):
            await bot.send_message(asha.id, "still there?")


async def test_edit_returns_the_message_and_refuses_an_identical_edit(standin: BotApiStandIn) -> None:
    asha = standin.new_user("Asha")
    standin.user_sends(asha, "hi")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="y|tag")]])
    async with raw_bot(standin) as bot:
        sent = await bot.send_message(asha.id, "Was this helpful?", reply_markup=keyboard)
        edited = await bot.edit_message_text("Thanks!", chat_id=asha.id, message_id=sent.message_id)
        assert not isinstance(edited, bool)
        assert edited.text == "Thanks!" and edited.edit_date is not None
        with pytest.raises(BadRequest, match="(?i)message is not modified"):
            await bot.edit_message_text("Thanks!", chat_id=asha.id, message_id=sent.message_id)
        with pytest.raises(BadRequest, match="not found"):
            await bot.edit_message_text("Thanks!", chat_id=asha.id, message_id=999)
    assert [(e.kind, e.text, e.labels) for e in standin.events_in(asha.id)] == [
        ("sent", "Was this helpful?", ["Yes"]),
        ("edited", "Thanks!", []),
    ]


async def test_callback_queries_are_answered_once(standin: BotApiStandIn) -> None:
    asha = standin.new_user("Asha")
    standin.user_sends(asha, "hi")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="y|tag")]])
    async with raw_bot(standin) as bot:
        sent = await bot.send_message(asha.id, "Sure?", reply_markup=keyboard)
        query_id = standin.user_presses(asha, sent.to_dict(), "Yes")
        assert await bot.answer_callback_query(query_id)
        with pytest.raises(BadRequest, match="(?i)query is too old"):
            await bot.answer_callback_query(query_id)
    assert list(standin.answered_queries) == [query_id]


async def test_faults_look_like_telegram_failures(standin: BotApiStandIn) -> None:
    asha = standin.new_user("Asha")
    standin.user_sends(asha, "hi")
    standin.faults.then("sendMessage", Fault.flood(3), Fault.server_error(), Fault.drop(), Fault.slow(0.3))
    async with raw_bot(standin) as bot:
        with pytest.raises(RetryAfter) as flood:
            await bot.send_message(asha.id, "one")
        assert flood.value.retry_after.total_seconds() == 3  # type: ignore[union-attr]
        with pytest.raises(NetworkError) as server:
            await bot.send_message(asha.id, "two")
        assert not isinstance(server.value, BadRequest)
        with pytest.raises(NetworkError):
            await bot.send_message(asha.id, "three")
        started = time.monotonic()
        await bot.send_message(asha.id, "four")
        assert time.monotonic() - started >= 0.3
    assert [e.text for e in standin.events_in(asha.id)] == ["four"], "a failed call is never processed"


async def test_json_and_form_parameters_are_both_accepted(standin: BotApiStandIn) -> None:
    asha = standin.new_user("Asha")
    standin.user_sends(asha, "hi")
    url = f"{standin.base_url}{standin.token}/sendMessage"
    markup = '{"inline_keyboard": [[{"text": "Go", "callback_data": "go|t"}]]}'
    async with ClientSession() as session:
        async with session.post(url, json={"chat_id": asha.id, "text": "123"}) as response:
            assert (await response.json())["result"]["text"] == "123"
        async with session.post(url, data={"chat_id": str(asha.id), "text": "007", "reply_markup": markup}) as response:
            body = await response.json()
        async with session.post(f"{standin.base_url}wrong-token/getMe") as response:
            assert response.status == 401
    assert body["result"]["text"] == "007", "a text that looks like JSON stays text"
    assert body["result"]["reply_markup"]["inline_keyboard"][0][0]["text"] == "Go"


async def test_forum_topics_and_membership_for_the_staff_group(standin: BotApiStandIn) -> None:
    staff = standin.add_group("Staff", forum=True)
    meera, stranger = standin.new_user("Meera"), standin.new_user("Stranger")
    standin.add_member(staff, meera, "administrator")
    async with raw_bot(standin) as bot:
        assert (await bot.get_chat(staff.id)).is_forum
        assert (await bot.get_chat_member(staff.id, meera.id)).status == "administrator"
        assert (await bot.get_chat_member(staff.id, stranger.id)).status == "left"
        assert (await bot.get_chat_member(staff.id, bot.id)).can_manage_topics  # type: ignore[attr-defined]
        topic = await bot.create_forum_topic(staff.id, "Asha")
        sent = await bot.send_message(staff.id, "Asha: hello?", message_thread_id=topic.message_thread_id)
        assert sent.message_thread_id == topic.message_thread_id and sent.is_topic_message
        await bot.close_forum_topic(staff.id, topic.message_thread_id)
        with pytest.raises(BadRequest, match="(?i)topic_closed"):
            await bot.send_message(staff.id, "again", message_thread_id=topic.message_thread_id)
        await bot.reopen_forum_topic(staff.id, topic.message_thread_id)
        standin.delete_topic(staff, topic.message_thread_id)
        with pytest.raises(BadRequest, match="(?i)thread not found"):
            await bot.send_message(staff.id, "again", message_thread_id=topic.message_thread_id)
        standin.group_message(meera, staff, "I'm here for you", reply_to=sent.to_dict())
        (update,) = await bot.get_updates(timeout=0)
    assert update.message is not None and update.message.reply_to_message is not None
    assert update.message.reply_to_message.message_id == sent.message_id
