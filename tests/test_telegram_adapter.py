"""Updates become what the engine understands; groups, staff and strangers' buttons are routed away."""

from __future__ import annotations

from typing import Any

import pytest

from bot.engine.payloads import EXPIRED_PAYLOAD
from bot.telegram.adapter import GroupMessage, Ignored, PrivateTurn, StaffUpdate, route_update, strip_bot_mention
from bot.telegram.codec import CallbackCodec
from tests.botapi_standin import TgUser, media_content
from tests.telegram_helpers import make_callback, make_message, make_update

CODEC = CallbackCodec.from_token("123:test")
ASHA = 10_001
STAFF = -1_001_234
GROUP = {"id": -1_005_555, "type": "supergroup", "title": "Friends"}


def route(body: dict[str, Any]) -> PrivateTurn | GroupMessage | StaffUpdate | Ignored:
    return route_update(make_update(body), codec=CODEC, staff_chat_id=STAFF, bot_username="alumaura_bot")


def private_incoming(body: dict[str, Any]) -> Any:
    routed = route(body)
    assert isinstance(routed, PrivateTurn), routed
    return routed.incoming


def test_a_private_text_is_a_text_turn() -> None:
    incoming = private_incoming({"message": make_message({"text": "is liking her photos cheating?"})})
    assert (incoming.kind, incoming.text, incoming.user_id, incoming.channel) == ("text", "is liking her photos cheating?", ASHA, "telegram")
    assert incoming.first_name == "Asha" and incoming.received_at.tzinfo is not None


def test_a_command_addressed_to_the_bot_loses_the_mention() -> None:
    assert private_incoming({"message": make_message({"text": "/start@alumaura_bot hi"})}).text == "/start hi"
    assert strip_bot_mention("/start@other_bot", "alumaura_bot") == "/start@other_bot"
    assert strip_bot_mention("email me@alumaura_bot", "alumaura_bot") == "email me@alumaura_bot"


@pytest.mark.parametrize("kind", ["sticker", "photo", "voice", "video", "video_note", "audio", "document", "animation", "location"])
def test_media_is_unsupported_and_named(kind: str) -> None:
    content = media_content(kind, TgUser(ASHA, "Asha"))
    incoming = private_incoming({"message": make_message(content)})
    assert (incoming.kind, incoming.media) == ("unsupported", kind)


def test_a_caption_travels_with_the_media_so_safety_still_reads_it() -> None:
    content = {**media_content("photo", TgUser(ASHA, "Asha")), "caption": "look what he sent her"}
    incoming = private_incoming({"message": make_message(content)})
    assert (incoming.kind, incoming.media, incoming.text) == ("unsupported", "photo", "look what he sent her")


def test_only_the_persons_own_contact_counts_as_a_contact() -> None:
    own = private_incoming({"message": make_message(media_content("contact", TgUser(ASHA, "Asha")))})
    assert (own.kind, own.contact_phone) == ("contact", "+919800000000")
    other = private_incoming({"message": make_message(media_content("contact", TgUser(ASHA, "Asha"), own_contact=False))})
    assert (other.kind, other.media, other.contact_phone) == ("unsupported", "contact", None)


def test_an_edited_message_keeps_its_text() -> None:
    edited = make_message({"text": "I don't want to be here anymore", "edit_date": 1_700_000_100})
    incoming = private_incoming({"edited_message": edited})
    assert (incoming.kind, incoming.text) == ("edited", "I don't want to be here anymore")


def test_a_signed_button_gives_back_its_payload() -> None:
    routed = route(make_callback(CODEC.encode("answer:red_flags", ASHA)))
    assert isinstance(routed, PrivateTurn)
    assert (routed.incoming.kind, routed.incoming.button) == ("button", "answer:red_flags")
    assert routed.callback_query_id == "q1" and routed.pressed_message_id == 7


@pytest.mark.parametrize("data", ["forget:yes", "answer:red_flags|AAAAAAAAAAAA", "", "💥" * 20])
def test_forged_button_data_is_expired(data: str) -> None:
    assert private_incoming(make_callback(data)).button == EXPIRED_PAYLOAD


def test_a_button_signed_for_someone_else_is_expired() -> None:
    ravis = CODEC.encode("forget:yes", 10_002)
    assert private_incoming(make_callback(ravis)).button == EXPIRED_PAYLOAD


def test_group_messages_are_routed_to_the_group_notice() -> None:
    assert route({"message": make_message({"text": "hi bot"}, chat=GROUP)}) == GroupMessage(chat_id=GROUP["id"])
    assert isinstance(route({"edited_message": make_message({"text": "hi"}, chat=GROUP)}), Ignored)


def test_everything_from_the_staff_group_goes_to_the_staff_hook() -> None:
    staff = {"id": STAFF, "type": "supergroup", "title": "Staff", "is_forum": True}
    assert route({"message": make_message({"text": "/bookings"}, chat=staff)}) == StaffUpdate(chat_id=STAFF)
    assert route(make_callback(CODEC.encode("st:claim:4", STAFF), chat=staff)) == StaffUpdate(chat_id=STAFF)


def test_a_button_pressed_in_a_group_is_only_answered() -> None:
    routed = route(make_callback("menu|AAAAAAAAAAAA", chat=GROUP))
    assert isinstance(routed, Ignored) and routed.callback_query_id == "q1"


def test_channel_posts_and_service_messages_are_ignored() -> None:
    channel = {"id": -1_009_999, "type": "channel", "title": "News"}
    post = {"message_id": 3, "chat": channel, "date": 1_700_000_000, "text": "news"}
    assert isinstance(route({"channel_post": post}), Ignored)
    assert isinstance(route({"message": make_message({"pinned_message": make_message({"text": "x"}, message_id=2)})}), Ignored)
