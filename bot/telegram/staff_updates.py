"""Reading an update from the staff group: who acted, where (topic, replied-to message), and whether they are staff.

Kept apart from `staff.py` (which routes and shows) because these are small functions over
Telegram's types alone: an update becomes a `StaffIncoming` and its place, with no engine
and no state, and membership is one Bot API call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from telegram import Bot, CallbackQuery, ChatMember, Message, Update
from telegram.error import TelegramError

from bot.features.staff.router import StaffIncoming
from bot.telegram.codec import CallbackCodec
from bot.telegram.errors import hash_id, with_retries

# The staff side's one logger (its updates, membership checks and deliveries).
LOGGER: Final = logging.getLogger("bot.telegram.staff")
SEND_ATTEMPTS: Final = 2
MEMBER_STATUSES: Final = frozenset({ChatMember.OWNER, ChatMember.ADMINISTRATOR, ChatMember.MEMBER})


@dataclass(frozen=True)
class StaffPlace:
    """Where in the staff group a staff update happened: its forum topic, and the message it replies to."""

    thread_id: int | None = None
    reply_to_message_id: int | None = None


@dataclass(frozen=True)
class StaffUpdate:
    """A staff update as the router will see it (`about` still unresolved), and where it happened."""

    incoming: StaffIncoming
    place: StaffPlace


def thread_of(message: Message) -> int | None:
    """The forum topic a message is in; None in the General topic and in plain groups."""
    return message.message_thread_id if message.is_topic_message else None


def reply_target(message: Message) -> int | None:
    """The message this one answers; in a topic, the topic's own root message does not count."""
    replied = message.reply_to_message
    if replied is None:
        return None
    if message.is_topic_message and replied.message_id == message.message_thread_id:
        return None
    return replied.message_id


def staff_update(update: Update, *, staff_chat_id: int, codec: CallbackCodec) -> StaffUpdate | None:
    """An update from the staff group as a `StaffIncoming` and its place; None for anything staff did not write or press."""
    query = update.callback_query
    if query is not None:
        return _from_query(query, staff_chat_id=staff_chat_id, codec=codec)
    message = update.message
    if message is None or message.chat.id != staff_chat_id or message.text is None:
        return None
    user = message.from_user
    if user is None:
        return None
    incoming = StaffIncoming(
        user_id=user.id, chat_id=message.chat.id, kind="text", text=message.text, first_name=user.first_name or ""
    )
    return StaffUpdate(incoming, StaffPlace(thread_id=thread_of(message), reply_to_message_id=reply_target(message)))


def _from_query(query: CallbackQuery, *, staff_chat_id: int, codec: CallbackCodec) -> StaffUpdate | None:
    pressed = query.message
    if pressed is None or pressed.chat.id != staff_chat_id:
        return None
    # Staff buttons are signed for the staff group: a button from anywhere else decodes to nothing.
    payload = codec.decode(query.data, owner_id=staff_chat_id)
    if payload is None:
        return None
    thread = thread_of(pressed) if isinstance(pressed, Message) else None
    incoming = StaffIncoming(
        user_id=query.from_user.id, chat_id=staff_chat_id, kind="button", button=payload,
        first_name=query.from_user.first_name or "",
    )
    return StaffUpdate(incoming, StaffPlace(thread_id=thread))


def addressed(update: StaffUpdate) -> bool:
    """Whether a staff update is for the bot: a button, a command, a reply, or a message in a topic.

    Staff talking among themselves in the group costs no membership check and does nothing.
    """
    incoming, place = update.incoming, update.place
    return (
        incoming.kind == "button"
        or incoming.text.startswith("/")
        or place.thread_id is not None
        or place.reply_to_message_id is not None
    )


def speaks_as_the_group(message: Message | None, staff_chat_id: int) -> bool:
    """An anonymous admin of the staff group writes as the group itself: that is staff too."""
    return message is not None and message.sender_chat is not None and message.sender_chat.id == staff_chat_id


async def is_staff_member(bot: Bot, staff_chat_id: int, user_id: int, pseudonym: Callable[[int], str] = hash_id) -> bool:
    """Whether Telegram says `user_id` is in the staff group right now (owner, admin, member)."""
    try:
        member = await with_retries(lambda: bot.get_chat_member(staff_chat_id, user_id), attempts=SEND_ATTEMPTS, what="get_chat_member")
    except TelegramError as error:
        LOGGER.info("staff membership unknown user=%s error=%s", pseudonym(user_id), type(error).__name__)
        return False
    if member.status in MEMBER_STATUSES:
        return True
    return member.status == ChatMember.RESTRICTED and bool(getattr(member, "is_member", False))
