"""Turn the engine's `Reply` objects into Telegram messages: text chunks and keyboards.

Texts go out as plain text (no parse_mode), so whatever a person wrote, echoed back,
can never break a message. Telegram counts a message's length in UTF-16 code units,
so that is what the splitter measures.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final, TypeAlias

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from bot.engine.replies import Button, Reply
from bot.telegram.codec import CallbackCodec

MAX_MESSAGE_UNITS: Final = 4096
# A boundary earlier than this share of the window wastes too much of a message.
_MIN_BOUNDARY_SHARE: Final = 0.25

Markup: TypeAlias = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove


@dataclass(frozen=True)
class Outgoing:
    """One Telegram message to send; `may_edit` marks the chunk that can replace the pressed message."""

    text: str
    markup: Markup | None = None
    may_edit: bool = False


@dataclass(frozen=True)
class RenderTexts:
    """The few channel-specific words the renderer needs (from content, with safe defaults)."""

    share_contact: str = "Share my phone number"
    choose: str = "Or choose:"


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji can count as two)."""
    return len(text.encode("utf-16-le")) // 2


def _fitting_prefix(text: str, limit: int) -> str:
    """The longest prefix of `text` within `limit` UTF-16 units, never cutting a surrogate pair."""
    return text.encode("utf-16-le")[: limit * 2].decode("utf-16-le", errors="ignore")


def _best_cut(window: str) -> int:
    """Where to cut `window`: after a paragraph, else a line, else a word, else at its end."""
    floor = int(len(window) * _MIN_BOUNDARY_SHARE)
    for boundary in ("\n\n", "\n", " "):
        position = window.rfind(boundary)
        if position > floor:
            return position
    return len(window)


def split_text(text: str, limit: int = MAX_MESSAGE_UNITS) -> list[str]:
    """Split `text` into non-empty chunks of at most `limit` UTF-16 units at natural boundaries."""
    chunks: list[str] = []
    rest = text.strip()
    while utf16_len(rest) > limit:
        window = _fitting_prefix(rest, limit)
        cut = _best_cut(window)
        head = rest[:cut].rstrip()
        if head:
            chunks.append(head)
        rest = rest[cut:].lstrip()
    if rest:
        chunks.append(rest)
    return chunks


def inline_keyboard(reply: Reply, codec: CallbackCodec, owner_id: int) -> InlineKeyboardMarkup | None:
    """The reply's buttons as an inline keyboard whose callback data only `owner_id` can use."""
    rows = [[inline_button(button, codec, owner_id) for button in row] for row in reply.buttons if row]
    return InlineKeyboardMarkup(rows) if rows else None


def inline_button(button: Button, codec: CallbackCodec, owner_id: int) -> InlineKeyboardButton:
    """A link button when the engine gave a URL, else a callback button with signed data."""
    if button.url:
        return InlineKeyboardButton(button.label, url=button.url)
    return InlineKeyboardButton(button.label, callback_data=codec.encode(button.payload, owner_id))


def contact_keyboard(label: str) -> ReplyKeyboardMarkup:
    """A one-time keyboard with Telegram's own "share my contact" button (never a typed number)."""
    return ReplyKeyboardMarkup(
        [[KeyboardButton(label, request_contact=True)]],
        one_time_keyboard=True,
        resize_keyboard=True,
    )


def render_reply(reply: Reply, codec: CallbackCodec, owner_id: int, texts: RenderTexts | None = None) -> list[Outgoing]:
    """The messages that show `reply`: text chunks, buttons under the last one.

    A message carries one keyboard, so a reply that asks for a contact and also has
    inline buttons gets the buttons in a short follow-up message.
    """
    words = texts or RenderTexts()
    chunks = split_text(reply.text)
    if not chunks:
        return []
    buttons = inline_keyboard(reply, codec, owner_id)
    messages = [Outgoing(text=chunk) for chunk in chunks[:-1]]
    if reply.request_contact:
        messages.append(Outgoing(text=chunks[-1], markup=contact_keyboard(words.share_contact)))
        if buttons is not None:
            messages.append(Outgoing(text=words.choose, markup=buttons))
        return messages
    messages.append(Outgoing(text=chunks[-1], markup=buttons))
    if reply.edit_previous:
        first = messages[0]
        messages[0] = Outgoing(text=first.text, markup=first.markup, may_edit=True)
    return messages


def split_reply(reply: Reply, limit: int = MAX_MESSAGE_UNITS) -> list[Reply]:
    """`reply` as one reply per message-sized chunk, rendering exactly as `reply` does.

    Sending can then stop between two chunks and resume later without repeating one.
    """
    chunks = split_text(reply.text, limit)
    if len(chunks) <= 1:
        return [reply]
    first_edits = reply.edit_previous and not reply.request_contact
    head = [
        replace(reply, text=chunk, buttons=(), request_contact=False, edit_previous=first_edits and index == 0)
        for index, chunk in enumerate(chunks[:-1])
    ]
    return [*head, replace(reply, text=chunks[-1], edit_previous=False)]


def keyboard_removed(message: Outgoing) -> Outgoing:
    """`message` carrying the removal of a shown contact keyboard (only for messages without a keyboard)."""
    return Outgoing(text=message.text, markup=ReplyKeyboardRemove(), may_edit=False)
