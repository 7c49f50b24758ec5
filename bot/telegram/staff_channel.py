"""The staff group's conversations on Telegram: a forum topic per person, and who each posted message is about.

The engine and the features speak of "the staff, about this person" (`bot.engine.staff_channel`);
this module is where that becomes Telegram: the person's forum topic (its thread id), created
once and reused, and the map from every message the bot posted for the staff to the person it
is about, so a staff member's reply (or a message in the person's topic) is resolved to that
person here, before the staff router sees it (`StaffIncoming.about`).

What it keeps is stored through `StaffLinks`, a protocol implemented in `bot.storage`
(`StaffLinkStore`) and given by `bot.app`, so this package never imports storage.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final, Protocol

from bot.engine.outbox import outbox_payload
from bot.engine.replies import Reply
from bot.engine.staff_channel import FAREWELL_KIND

# Farewells queued before the staff channel had its own kind carried the plain "message" kind and their thread.
FAREWELL_KINDS: Final = frozenset({FAREWELL_KIND, "message"})


class StaffLinks(Protocol):
    """Where each person's conversation is in the staff group, and which posted message is about whom.

    The bot's own records, never a message's forwarded-from (people can hide it). Implemented by
    `bot.storage.handoff_store.StaffLinkStore`, wired in `bot.app`.
    """

    async def thread_of(self, user_id: int) -> int | None:
        """The person's forum topic, if one was created."""
        ...

    async def person_in_thread(self, thread_id: int) -> int | None:
        """Whose forum topic this is, if anyone's."""
        ...

    async def keep_thread(self, user_id: int, thread_id: int) -> None:
        """Record the person's (new) forum topic."""
        ...

    async def drop_thread(self, user_id: int, thread_id: int) -> bool:
        """Forget a topic staff deleted, only if it is still the person's recorded one."""
        ...

    async def keep_messages(self, user_id: int, message_ids: Sequence[int]) -> None:
        """Remember that these posted messages are about the person."""
        ...

    async def person_of_message(self, message_id: int) -> int | None:
        """Who a posted message is about, if the bot posted it about someone."""
        ...

    async def forget(self, user_id: int, farewell: dict[str, Any] | None) -> int:
        """Erase every link to the person at once; returns how many went.

        farewell: an outbox payload queued, in the same transaction, for the staff in the person's
        topic (the group without one), with no person on the row: after this nothing leads back.
        """
        ...

    async def thread_of_delivery(self, delivery_id: int) -> int | None:
        """The topic a delivery queued by `forget` goes to (None: the group)."""
        ...


class TelegramStaffChannel:
    """The engine's `StaffChannel` on Telegram, and the topic bookkeeping `StaffTelegram` delivers with."""

    def __init__(self, links: StaffLinks) -> None:
        self.links = links

    # --- bot.engine.staff_channel.StaffChannel ------------------------------------------------------

    async def forget(self, user_id: int, *, farewell: Reply | None = None) -> dict[str, int]:
        """Erase the person's topic and message links; the farewell goes into that topic, naming no one."""
        payload = outbox_payload(farewell, FAREWELL_KIND) if farewell is not None else None
        return {"links to staff messages": await self.links.forget(user_id, payload)}

    # --- staff messages -> the person they are about --------------------------------------------------

    async def person_about(self, thread_id: int | None, reply_to: int | None) -> int | None:
        """Who a staff message is about: the posted message it replies to, else the topic it is in."""
        if reply_to is not None:
            user_id = await self.links.person_of_message(reply_to)
            if user_id is not None:
                return user_id
        if thread_id is not None:
            return await self.links.person_in_thread(thread_id)
        return None

    # --- deliveries -> topics -----------------------------------------------------------------------

    async def thread_of(self, user_id: int) -> int | None:
        return await self.links.thread_of(user_id)

    async def thread_created(self, user_id: int, thread_id: int) -> None:
        """The person's topic was created: reuse it from now on."""
        await self.links.keep_thread(user_id, thread_id)

    async def thread_lost(self, user_id: int, thread_id: int) -> None:
        """Staff deleted the topic: the next message creates a new one."""
        await self.links.drop_thread(user_id, thread_id)

    async def posted(self, user_id: int, message_ids: Sequence[int]) -> None:
        """Messages about the person were posted: a reply to any of them reaches the person."""
        await self.links.keep_messages(user_id, message_ids)

    async def thread_of_delivery(self, delivery_id: int) -> int | None:
        return await self.links.thread_of_delivery(delivery_id)
