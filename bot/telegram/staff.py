"""The staff group on Telegram: staff updates -> `StaffRouter`, and handoff deliveries -> topics.

Two jobs, both thin around the engine's channel-neutral staff side:
  * `StaffTelegram.on_update` is the channel's staff hook: it turns an update from the
    staff group into a `StaffIncoming`, resolves the person it is about (the topic it was
    written in, or the posted message it replies to: `TelegramStaffChannel.person_about`),
    asks Telegram whether the sender is a member of the staff group (every time: membership
    can change at any moment), and shows the result where the staff member acted (a new
    message in the same topic, an edited card, a notice on the pressed button).
  * `StaffTelegram.deliver` sends the outbox's messages for the staff about a person's
    conversation into their forum topic (`staff_delivery.py`, its base class).
Reading an update (who, where, whether staff) is in `staff_updates.py`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from telegram import Bot, CallbackQuery, Update
from telegram.error import BadRequest, Forbidden
from telegram.ext import ContextTypes

from bot.engine.core import Engine
from bot.features.handoff.feature import HandoffDesk
from bot.features.staff.router import CentreDesk, StaffResult, centre_desk
from bot.telegram.errors import with_retries
from bot.telegram.staff_channel import TelegramStaffChannel
from bot.telegram.staff_delivery import StaffDeliveries
from bot.telegram.staff_updates import (
    LOGGER,
    SEND_ATTEMPTS,
    StaffUpdate,
    addressed,
    is_staff_member,
    speaks_as_the_group,
    staff_update,
)

if TYPE_CHECKING:
    from bot.telegram.channel import TelegramChannel


class StaffTelegram(StaffDeliveries):
    """The staff group's side of the Telegram channel (see the module docstring)."""

    def __init__(self, desk: CentreDesk, conversations: TelegramStaffChannel, *, staff_chat_id: int) -> None:
        self.desk = desk
        # Each person's topic and the posted-message map (the engine's staff channel on Telegram).
        self.conversations = conversations
        self.staff_chat_id = staff_chat_id
        # The engine's pseudonym, so staff-side log lines name a person as the engine's do.
        self.pseudonym: Callable[[int], str] = desk.staff.engine.user_hash
        self.channel: TelegramChannel | None = None
        self._forum: bool | None = None
        self._forum_checked = 0.0
        self._topic_locks: dict[int, asyncio.Lock] = {}

    def bind(self, channel: TelegramChannel) -> None:
        """Use this channel's codec (buttons signed for the staff group) and send path."""
        self.channel = channel

    @property
    def handoff(self) -> HandoffDesk:
        return self.desk.handoff

    # --- updates from the staff group ---------------------------------------------------------

    async def on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The channel's staff hook: verify, route, show; the pressed button always stops spinning."""
        channel = self._channel()
        bot = context.bot
        query = update.callback_query
        staff = staff_update(update, staff_chat_id=self.staff_chat_id, codec=channel.codec)
        result = StaffResult(authorised=False)
        if staff is not None and addressed(staff):
            verified = await self._verify(bot, update, staff.incoming.user_id)
            about = await self._about(staff)
            result = await self.desk.staff.handle(replace(staff.incoming, verified_member=verified, about=about))
        if query is not None:
            await self._answer(bot, query, result.notice if result.authorised else None)
        if result.replies and staff is not None:
            pressed = query.message.message_id if query and query.message else None
            await self._show(bot, channel, result, pressed=pressed, thread=staff.place.thread_id)
        if channel.on_replied is not None:
            channel.on_replied()

    async def _about(self, staff: StaffUpdate) -> int | None:
        """The person a staff message is about (a button names its own target in its payload)."""
        if staff.incoming.kind != "text":
            return None
        return await self.conversations.person_about(staff.place.thread_id, staff.place.reply_to_message_id)

    async def _verify(self, bot: Bot, update: Update, user_id: int) -> bool:
        """Asked for every command, button and relay: membership can change at any moment."""
        if speaks_as_the_group(update.message, self.staff_chat_id):
            return True
        user = update.effective_user
        if user is None or user.is_bot:
            return False
        # An admin needs no membership call; whether someone is one is the staff router's to say.
        return self.desk.staff.is_admin(user_id) or await is_staff_member(bot, self.staff_chat_id, user_id, self.pseudonym)

    async def _answer(self, bot: Bot, query: CallbackQuery, notice: str | None) -> None:
        try:
            await with_retries(lambda: bot.answer_callback_query(query.id, text=notice[:190] if notice else None), attempts=SEND_ATTEMPTS, what="answer_query")
        except BadRequest as error:
            LOGGER.debug("staff callback not answered: %s", type(error).__name__)

    async def _show(self, bot: Bot, channel: TelegramChannel, result: StaffResult, pressed: int | None, thread: int | None) -> None:
        """Show the router's messages where the staff member acted (the same topic, or the pressed card)."""
        for item in result.replies:
            reply = replace(item.reply, edit_previous=item.edit_pressed)
            try:
                await channel.send_replies(
                    bot, self.staff_chat_id, [reply], pressed_message_id=pressed if item.edit_pressed else None, thread_id=thread
                )
            except (BadRequest, Forbidden) as error:
                LOGGER.warning("staff reply not shown error=%s", type(error).__name__)

    def _channel(self) -> TelegramChannel:
        if self.channel is None:
            raise RuntimeError("StaffTelegram.bind(channel) was not called")
        return self.channel

def staff_side(engine: Engine, conversations: TelegramStaffChannel, *, staff_chat_id: int | None) -> StaffTelegram | None:
    """The staff group's side for an engine that declares booking and handoff; None without a staff group.

    conversations: the engine's staff channel on Telegram (`engine.staff_channel`, wired by `bot.app`).
    Wire it with `build_application(..., staff_handler=side.on_update, delivery_router=side)`,
    then `side.bind(channel_of(application))` before the application starts.
    """
    desk = centre_desk(engine)
    if desk is None or staff_chat_id is None:
        return None
    return StaffTelegram(desk, conversations, staff_chat_id=staff_chat_id)
