"""Telegram `Update` -> a route for the channel: a private turn for the engine, a group, staff, or nothing.

Every optional field python-telegram-bot hands us is resolved here, once, so the rest
of the channel works with plain values. Nothing read from Telegram is trusted: button
data goes through the codec, and a contact counts as the person's own only when
Telegram says it is theirs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, TypeAlias

from telegram import CallbackQuery, Chat, Message, Update, User

from bot.engine.payloads import EXPIRED_PAYLOAD
from bot.engine.replies import Incoming, IncomingKind, utcnow
from bot.telegram.codec import CallbackCodec

CHANNEL: Final = "telegram"
# Order matters: a venue also carries a location, an animation also carries a document.
MEDIA_FIELDS: Final = (
    "sticker",
    "animation",
    "photo",
    "video",
    "video_note",
    "voice",
    "audio",
    "document",
    "venue",
    "location",
    "contact",
    "poll",
    "dice",
    "game",
    "story",
    "paid_media",
)
GROUP_CHAT_TYPES: Final = frozenset({Chat.GROUP, Chat.SUPERGROUP})


@dataclass(frozen=True)
class PrivateTurn:
    """Something a person did in their private chat with the bot, ready for `Engine.handle`."""

    incoming: Incoming
    chat_id: int
    callback_query_id: str | None = None
    pressed_message_id: int | None = None


@dataclass(frozen=True)
class GroupMessage:
    """A message in a group that is not the staff group: answered once, then ignored."""

    chat_id: int


@dataclass(frozen=True)
class StaffUpdate:
    """Anything from the staff group; handed to the staff hook untouched."""

    chat_id: int


@dataclass(frozen=True)
class Ignored:
    """Nothing to do, except answering a callback query so no button keeps spinning."""

    reason: str
    callback_query_id: str | None = None


Route: TypeAlias = PrivateTurn | GroupMessage | StaffUpdate | Ignored


def strip_bot_mention(text: str, bot_username: str | None) -> str:
    """`/start@alumaura_bot hi` -> `/start hi`, so commands look the same however they were typed."""
    if not text.startswith("/") or not bot_username:
        return text
    command, space, rest = text.partition(" ")
    name, at, mention = command.partition("@")
    if at and mention.lower() == bot_username.lower():
        return f"{name}{space}{rest}"
    return text


def media_kind(message: Message) -> str | None:
    """The kind of non-text content a message carries ("sticker", "photo", ...), if any."""
    for name in MEDIA_FIELDS:
        if getattr(message, name, None):
            return name
    return None


def _incoming(
    user: User,
    message: Message,
    kind: IncomingKind,
    *,
    text: str = "",
    contact_phone: str | None = None,
    media: str | None = None,
) -> Incoming:
    return Incoming(
        user_id=user.id,
        kind=kind,
        text=text,
        first_name=user.first_name or "",
        username=user.username,
        contact_phone=contact_phone,
        media=media,
        channel=CHANNEL,
        received_at=message.date or utcnow(),
        language_code=user.language_code,
    )


def incoming_from_message(message: Message, *, edited: bool, bot_username: str | None) -> Incoming | None:
    """A private message as an `Incoming`, or None for service messages the person did not write.

    Captions travel as `text` with media so the safety check still sees what was written.
    """
    user = message.from_user
    if user is None:
        return None
    words = message.text or message.caption or ""
    if edited:
        return _incoming(user, message, "edited", text=words)
    if message.text is not None:
        return _incoming(user, message, "text", text=strip_bot_mention(message.text, bot_username))
    media = media_kind(message)
    if media is None:
        return None
    contact = message.contact
    if contact is not None and contact.user_id == user.id:
        return _incoming(user, message, "contact", contact_phone=contact.phone_number, media="contact")
    return _incoming(user, message, "unsupported", text=words, media=media)


def _route_callback(query: CallbackQuery, codec: CallbackCodec, staff_chat_id: int | None) -> Route:
    pressed = query.message
    if pressed is None:
        return Ignored("inline-message callback", callback_query_id=query.id)
    chat = pressed.chat
    if staff_chat_id is not None and chat.id == staff_chat_id:
        return StaffUpdate(chat_id=chat.id)
    if chat.type != Chat.PRIVATE:
        return Ignored("callback outside a private chat", callback_query_id=query.id)
    user = query.from_user
    if chat.id != user.id:
        # A private chat is one person's: a press claiming another's chat runs no turn and sends nothing there.
        return Ignored("callback from someone else's private chat", callback_query_id=query.id)
    # Never act on someone else's data: the tag binds the button to the person it was made for.
    payload = codec.decode(query.data, owner_id=user.id)
    incoming = Incoming(
        user_id=user.id,
        kind="button",
        button=payload if payload is not None else EXPIRED_PAYLOAD,
        first_name=user.first_name or "",
        username=user.username,
        channel=CHANNEL,
        language_code=user.language_code,
    )
    return PrivateTurn(
        incoming=incoming,
        chat_id=chat.id,
        callback_query_id=query.id,
        pressed_message_id=pressed.message_id,
    )


def route_update(
    update: Update,
    *,
    codec: CallbackCodec,
    staff_chat_id: int | None,
    bot_username: str | None,
) -> Route:
    """Decide what an update is for; pure, so every branch is testable with built updates."""
    if update.callback_query is not None:
        return _route_callback(update.callback_query, codec, staff_chat_id)
    message = update.message or update.edited_message
    if message is None:
        return Ignored("update type not handled")
    chat = message.chat
    if staff_chat_id is not None and chat.id == staff_chat_id:
        return StaffUpdate(chat_id=chat.id)
    if chat.type in GROUP_CHAT_TYPES:
        if update.edited_message is not None:
            return Ignored("edited group message")
        return GroupMessage(chat_id=chat.id)
    if chat.type != Chat.PRIVATE:
        return Ignored(f"{chat.type} chat")
    incoming = incoming_from_message(message, edited=update.edited_message is not None, bot_username=bot_username)
    if incoming is None:
        return Ignored("service message")
    return PrivateTurn(incoming=incoming, chat_id=chat.id)
