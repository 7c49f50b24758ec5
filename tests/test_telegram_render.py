"""Replies become Telegram messages: split below 4096 UTF-16 units, buttons signed, keyboards right."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from telegram import InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove

from bot.engine.replies import Button, Reply
from bot.telegram.channel import with_contact_keyboard_removed
from bot.telegram.codec import CallbackCodec
from bot.telegram.render import MAX_MESSAGE_UNITS, Outgoing, render_reply, split_reply, split_text, utf16_len

CODEC = CallbackCodec.from_token("123:test")
ASHA = 10_001


def squeeze(text: str) -> str:
    return "".join(text.split())


def test_a_short_text_is_one_message() -> None:
    assert split_text("  I hear you.  ") == ["I hear you."]


def test_long_text_splits_between_paragraphs() -> None:
    first, second = "a" * 3000, "b" * 3000
    assert split_text(f"{first}\n\n{second}") == [first, second]


def test_without_paragraphs_it_splits_between_lines_then_words() -> None:
    line = ("word " * 100).strip()
    chunks = split_text("\n".join([line] * 20))
    assert len(chunks) > 1
    assert all(chunk == chunk.strip() and utf16_len(chunk) <= MAX_MESSAGE_UNITS for chunk in chunks)
    assert all(set(chunk.split("\n")) == {line} for chunk in chunks), "never cut inside a line"
    words = "word " * 2000
    assert all(chunk.endswith("word") for chunk in split_text(words))


def test_emoji_count_double_as_telegram_counts_them() -> None:
    chunks = split_text("💛" * 3000)
    assert [utf16_len(chunk) for chunk in chunks] == [4096, 1904]


PIECES = st.sampled_from(["a", "é", "💛", " ", "\n", "\n\n", "word", "ज़", "x" * 300])


@given(st.lists(PIECES, max_size=400).map("".join), st.integers(20, 5000))
def test_split_never_loses_text_nor_exceeds_the_limit(text: str, limit: int) -> None:
    chunks = split_text(text, limit)
    assert all(chunk and utf16_len(chunk) <= limit for chunk in chunks)
    assert squeeze("".join(chunks)) == squeeze(text)


def test_buttons_go_under_the_last_chunk_with_signed_data() -> None:
    reply = Reply(key="answer.x", text="a" * 5000, buttons=((Button("Tell me more", "more:x"),), (Button("Menu", "menu"),)))
    messages = render_reply(reply, CODEC, ASHA)
    assert [m.markup is None for m in messages] == [True, False]
    keyboard = messages[-1].markup
    assert isinstance(keyboard, InlineKeyboardMarkup)
    data = [button.callback_data for row in keyboard.inline_keyboard for button in row]
    assert [CODEC.decode(str(d), ASHA) for d in data] == ["more:x", "menu"]
    assert all(len(str(d).encode()) <= 64 for d in data)


def test_a_link_button_opens_the_link() -> None:
    reply = Reply(key="centre", text="Our website", buttons=((Button("Website", "", url="https://example.org"),),))
    (message,) = render_reply(reply, CODEC, ASHA)
    assert isinstance(message.markup, InlineKeyboardMarkup)
    assert message.markup.inline_keyboard[0][0].url == "https://example.org"


def test_only_the_first_chunk_of_an_edit_replaces_the_pressed_message() -> None:
    reply = Reply(key="answer.x", text=f"{'a' * 4000}\n\n{'b' * 100}", edit_previous=True)
    assert [m.may_edit for m in render_reply(reply, CODEC, ASHA)] == [True, False]


def test_asking_for_a_contact_shows_telegrams_share_button() -> None:
    reply = Reply(key="booking.phone", text="How should we reach you?", request_contact=True, buttons=((Button("Here on Telegram", "bk:tg"),),))
    contact, choose = render_reply(reply, CODEC, ASHA)
    assert isinstance(contact.markup, ReplyKeyboardMarkup)
    button = contact.markup.keyboard[0][0]
    assert button.request_contact and contact.markup.one_time_keyboard
    assert isinstance(choose.markup, InlineKeyboardMarkup), "inline buttons follow in their own message"


def test_an_empty_reply_sends_nothing() -> None:
    assert render_reply(Reply(key="nothing", text="  "), CODEC, ASHA) == []


def test_a_shown_contact_keyboard_is_removed_with_the_next_plain_message() -> None:
    with_buttons = Outgoing("Pick one", InlineKeyboardMarkup([]))
    plain = Outgoing("Thanks, noted.")
    messages, still_open = with_contact_keyboard_removed([with_buttons, plain], keyboard_open=True)
    assert messages[0] is with_buttons
    assert isinstance(messages[1].markup, ReplyKeyboardRemove)
    assert not still_open
    untouched, open_after = with_contact_keyboard_removed([plain], keyboard_open=False)
    assert untouched == [plain] and not open_after



@given(
    st.lists(st.text(alphabet="ab \n💛", min_size=300, max_size=2500), min_size=1, max_size=8),
    st.booleans(),
    st.booleans(),
)
def test_a_reply_split_into_pieces_renders_exactly_as_the_whole(paragraphs: list[str], edit: bool, contact: bool) -> None:
    """Sending can stop between pieces and resume later: together they are the same messages, each once."""
    reply = Reply(
        key="long", text="\n\n".join(paragraphs) + " end", buttons=((Button("Menu", "menu"),),), edit_previous=edit, request_contact=contact
    )
    pieces = split_reply(reply)
    rendered = [message for piece in pieces for message in render_reply(piece, CODEC, ASHA)]
    assert rendered == render_reply(reply, CODEC, ASHA)
    assert len(pieces) == len(split_text(reply.text))
