"""The centre's staff as the engine sees them: one protocol, whatever the staff read and answer in.

The engine and the features speak of "the staff", "this person" and "this conversation" (a
person's conversation with the staff is named by the person's user id), never of a transport's
chats, places or message numbers. What they say is queued in the outbox in those terms
(`Engine.tell_person`, `Engine.tell_staff`); how a delivery for the staff about a person finds
that person's place among the staff's messages, and how a staff member's reply finds the person
it is about, are the channel's to keep (`bot/telegram/staff_channel.py`), so a new channel
changes no feature.

`StaffChannel` is the little a feature must still ask of that channel directly: when a person
erases their data, the channel erases its own links to them too. `SharedStaffRoom` is the
channel that keeps nothing per person (the terminal chat, a plain staff group): one room where
every message to the staff lands.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Final, Protocol

from bot.engine.replies import Reply

# The kind of the last note about a conversation whose person erased their data (it names nobody).
FAREWELL_KIND: Final = "staff_farewell"


class TellStaff(Protocol):
    """`Engine.tell_staff`: queue a message for the staff, about a person or about no one."""

    def __call__(self, reply: Reply, *, kind: str, about: int | None = None) -> Awaitable[int]: ...


class StaffChannel(Protocol):
    """What the engine and the features ask of the channel the staff use, beyond the outbox.

    Implemented by each channel: `SharedStaffRoom` (nothing kept per person), and on Telegram
    `bot.telegram.staff_channel.TelegramStaffChannel` (a place per person in the staff group,
    and which posted message is about whom). `bot.app` gives the engine the channel it runs with.
    """

    async def forget(self, user_id: int, *, farewell: Reply | None = None) -> dict[str, int]:
        """This person erased their data: erase every link the channel keeps from the staff's messages to them.

        farewell: said to the staff in this person's conversation (when the channel has one,
        else to the staff in general), after which nothing there can be traced back to the
        person: the message itself names no one. Returns how many links went, per kind, in
        the words `/forget` reports ("links to staff messages").
        """
        ...


class SharedStaffRoom:
    """The trivial staff channel: every message for the staff goes to one room, nothing is kept per person.

    Why it is enough there: with no per-person place there is nothing to erase, and a farewell
    simply goes to the room, queued like any message for the staff.
    """

    def __init__(self, tell_staff: TellStaff) -> None:
        self.tell_staff = tell_staff

    async def forget(self, user_id: int, *, farewell: Reply | None = None) -> dict[str, int]:
        if farewell is not None:
            await self.tell_staff(farewell, kind=FAREWELL_KIND)
        return {}
