"""The Telegram channel: one handler for every update, routed in tested code, replies sent in order.

Registration stays minimal (one `TypeHandler`): which update goes where is decided by
`adapter.route_update`, and what to say by the engine. This module only moves data
between the two and Telegram: answer the button press at once (no spinning button),
ask the engine, send or edit, and nudge the outbox. Replies Telegram does not take within
the quick retries go to the outbox instead of being dropped (see `bot.telegram.late`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Final, Protocol

from telegram import Bot, InlineKeyboardMarkup, ReplyKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import ContextTypes

from bot.engine.replies import Incoming, Reply
from bot.telegram.adapter import GroupMessage, Ignored, PrivateTurn, StaffUpdate, route_update
from bot.telegram.codec import CallbackCodec
from bot.telegram.errors import DEFAULT_ATTEMPTS, hash_id, is_not_modified, with_retries
from bot.telegram.late import Backlog, for_later, late_kind
from bot.telegram.render import Outgoing, RenderTexts, keyboard_removed, render_reply, split_reply

LOGGER: Final = logging.getLogger("bot.telegram")

GROUP_NOTICE_KEY: Final = "group_only"
ERROR_KEY: Final = "internal_error"
DEFAULT_GROUP_NOTICE: Final = (
    "Hi, I'm a support bot and I only talk one to one, so nothing personal ends up in a group. "
    "You can write to me privately here: {link}"
)
DEFAULT_ERROR: Final = "Sorry, something went wrong on my side. Please try again in a moment, or send /human to reach a person."
DEEP_LINK_START: Final = "hi"

StaffHandler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]


class TextSource(Protocol):
    """The engine's content texts: `get` fills placeholders and returns the key itself when content lacks it."""

    def get(self, key: str, **extra: str) -> str: ...

    def in_language(self, language: str | None) -> TextSource: ...


class DialogueEngine(Protocol):
    """What the channel needs from `bot.engine.core.Engine`."""

    @property
    def texts(self) -> TextSource: ...

    async def handle(self, incoming: Incoming) -> list[Reply]: ...

    async def remember_once(self, key: str) -> bool: ...

    async def tell_person(self, user_id: int, reply: Reply, *, kind: str = "message") -> int:
        """Queue `reply` for a person in the outbox (delivered and retried by `OutboxDrainer`); returns its id."""
        ...


async def ignore_staff_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The staff hook when no staff handler is plugged in: ignore, but never leave a button spinning."""
    LOGGER.debug("staff update=%s ignored (no staff handler)", update.update_id)
    if update.callback_query is not None:
        try:
            await with_retries(update.callback_query.answer, attempts=2, what="answer_query")
        except TelegramError as error:
            LOGGER.debug("staff callback query not answered: %s", type(error).__name__)


def deep_link(bot_username: str | None) -> str:
    """The link that opens a private chat with the bot and sends /start."""
    return f"https://t.me/{bot_username or ''}?start={DEEP_LINK_START}"


def content_text(texts: TextSource, key: str, default: str, **extra: str) -> str:
    """A content text, or the channel's own default while content does not define `key`."""
    value = texts.get(key, **extra)
    if value != key:
        return value
    return default.format(**extra)


def render_texts(texts: TextSource, language: str = "en") -> RenderTexts:
    """The renderer's words from content in the reply's language, keeping the defaults for any key content lacks."""
    texts = texts.in_language(language)
    defaults = RenderTexts()
    return RenderTexts(
        share_contact=content_text(texts, "share_contact_label", defaults.share_contact),
        choose=content_text(texts, "choose_below", defaults.choose),
    )


def with_contact_keyboard_removed(messages: Sequence[Outgoing], keyboard_open: bool) -> tuple[list[Outgoing], bool]:
    """Take a shown contact keyboard away with the first plain message, before any new request.

    Returns the messages to send and whether a contact keyboard is still shown afterwards.
    """
    result = list(messages)
    for index, message in enumerate(result):
        if isinstance(message.markup, ReplyKeyboardMarkup):
            return result, True
        if keyboard_open and message.markup is None and not message.may_edit:
            result[index] = keyboard_removed(message)
            keyboard_open = False
    return result, keyboard_open


class TelegramChannel:
    """Moves one update through the engine and its replies back to Telegram."""

    def __init__(
        self,
        engine: DialogueEngine,
        codec: CallbackCodec,
        *,
        staff_chat_id: int | None,
        staff_handler: StaffHandler = ignore_staff_update,
        on_replied: Callable[[], None] | None = None,
        attempts: int = DEFAULT_ATTEMPTS,
        pseudonym: Callable[[int], str] = hash_id,
    ) -> None:
        self.engine = engine
        self.pseudonym = pseudonym
        self.codec = codec
        self.staff_chat_id = staff_chat_id
        self.staff_handler = staff_handler
        self.on_replied = on_replied
        self.attempts = attempts
        self._contact_keyboard_open: set[int] = set()
        self._groups_answered: set[int] = set()
        # Chats whose late replies are still in the outbox (the drainer reports them settled).
        self.backlog = Backlog()
        # Told each update id once it is handled (the durable inbox), so a restart does not handle it again.
        self.on_handled: Callable[[int], Awaitable[None]] | None = None

    async def on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The one python-telegram-bot callback: route the update, then act on the route."""
        route = route_update(
            update, codec=self.codec, staff_chat_id=self.staff_chat_id, bot_username=context.bot.username
        )
        try:
            if isinstance(route, PrivateTurn):
                await self._private_turn(context.bot, route)
            elif isinstance(route, GroupMessage):
                await self._answer_group(context.bot, route.chat_id)
            elif isinstance(route, StaffUpdate):
                await self.staff_handler(update, context)
            else:
                await self._ignore(context.bot, update, route)
        finally:
            if self.on_handled is not None:
                await self.on_handled(update.update_id)

    async def _ignore(self, bot: Bot, update: Update, route: Ignored) -> None:
        LOGGER.debug("update=%s ignored reason=%s", update.update_id, route.reason)
        if route.callback_query_id is not None:
            await self.answer_query(bot, route.callback_query_id)

    async def answer_query(self, bot: Bot, query_id: str) -> None:
        """Stop the button's spinner; failing that (query too old, network) must not cost the turn."""
        try:
            await with_retries(lambda: bot.answer_callback_query(query_id), attempts=self.attempts, what="answer_query")
        except BadRequest as error:
            LOGGER.debug("callback query not answered: %s", type(error).__name__)
        except TelegramError as error:
            LOGGER.warning("callback query not answered error=%s", type(error).__name__)

    async def _private_turn(self, bot: Bot, turn: PrivateTurn) -> None:
        if turn.callback_query_id is not None:
            await self.answer_query(bot, turn.callback_query_id)
        incoming = turn.incoming
        try:
            replies = await self.engine.handle(incoming)
        except Exception:
            # Log first (without the text), then still answer the person kindly.
            LOGGER.exception("engine failed user=%s kind=%s", self.pseudonym(incoming.user_id), incoming.kind)
            replies = [Reply(key=f"text.{ERROR_KEY}", text=content_text(self.engine.texts, ERROR_KEY, DEFAULT_ERROR))]
        LOGGER.debug("turn user=%s kind=%s replies=%s", self.pseudonym(incoming.user_id), incoming.kind, [r.key for r in replies])
        try:
            await self._show_turn(bot, turn, replies)
        except Forbidden:
            LOGGER.info("user=%s blocked the bot; replies dropped", self.pseudonym(incoming.user_id))
        finally:
            if self.on_replied is not None:
                self.on_replied()

    async def _show_turn(self, bot: Bot, turn: PrivateTurn, replies: Sequence[Reply]) -> None:
        """Send a turn's replies chunk by chunk; what Telegram does not take in time goes to the outbox.

        Raises Forbidden (the person blocked the bot: nothing more can reach them).
        """
        pieces = [piece for reply in replies for piece in split_reply(reply)]
        who = self.pseudonym(turn.incoming.user_id)
        if self.backlog.waiting(turn.chat_id):
            # Order matters: replies from before an outage are still on their way.
            await self._send_later(turn, pieces)
            return
        for index, piece in enumerate(pieces):
            pressed = turn.pressed_message_id if index == 0 else None
            try:
                await self.send_replies(bot, turn.chat_id, [piece], pressed_message_id=pressed)
            except Forbidden:
                raise
            except BadRequest as error:
                LOGGER.warning("reply not shown user=%s key=%s error=%s", who, piece.key, type(error).__name__)
            except TelegramError as error:
                LOGGER.warning(
                    "telegram unreachable user=%s error=%s; %d replies go to the outbox", who, type(error).__name__, len(pieces) - index
                )
                await self._send_later(turn, pieces[index:])
                return

    async def _send_later(self, turn: PrivateTurn, pieces: Sequence[Reply]) -> None:
        """Queue replies for the outbox, in order, under the kind that says how late they may still go out."""
        for piece in pieces:
            try:
                # A private chat's id is the person's own: the drainer sends it back to `turn.chat_id`.
                delivery_id = await self.engine.tell_person(turn.incoming.user_id, for_later(piece), kind=late_kind(piece))
            except Exception:  # noqa: BLE001 - the database is failing too; the next replies may still be kept
                LOGGER.exception("reply lost user=%s key=%s: not queued", self.pseudonym(turn.incoming.user_id), piece.key)
                continue
            self.backlog.add(turn.chat_id, delivery_id)

    async def _answer_group(self, bot: Bot, chat_id: int) -> None:
        """Tell a group once that the bot talks privately; every later message there is ignored."""
        if chat_id in self._groups_answered:
            return
        first_time = await self.engine.remember_once(f"group:{chat_id}")
        self._groups_answered.add(chat_id)
        if not first_time:
            return
        text = content_text(self.engine.texts, GROUP_NOTICE_KEY, DEFAULT_GROUP_NOTICE, link=deep_link(bot.username))
        LOGGER.info("group chat=%s told the bot talks privately", self.pseudonym(chat_id))
        try:
            await self.send_replies(bot, chat_id, [Reply(key=f"text.{GROUP_NOTICE_KEY}", text=text)])
        except (Forbidden, BadRequest) as error:
            LOGGER.info("group chat=%s notice not sent error=%s", self.pseudonym(chat_id), type(error).__name__)

    async def send_replies(
        self,
        bot: Bot,
        chat_id: int,
        replies: Sequence[Reply],
        *,
        pressed_message_id: int | None = None,
        thread_id: int | None = None,
        attempts: int | None = None,
    ) -> None:
        """Show `replies` in `chat_id`, in order; buttons are signed for that chat.

        The first message replaces the pressed one when its reply asks for that; an
        identical edit counts as shown. Raises the Telegram error that stopped it.
        """
        tries = attempts or self.attempts
        messages = [message for reply in replies for message in render_reply(reply, self.codec, chat_id, render_texts(self.engine.texts, reply.language))]
        messages, still_open = with_contact_keyboard_removed(messages, chat_id in self._contact_keyboard_open)
        if still_open:
            self._contact_keyboard_open.add(chat_id)
        else:
            self._contact_keyboard_open.discard(chat_id)
        for index, message in enumerate(messages):
            if index == 0 and message.may_edit and pressed_message_id is not None:
                if await self._edit(bot, chat_id, pressed_message_id, message, tries):
                    continue
            await with_retries(
                lambda message=message: bot.send_message(  # type: ignore[misc]
                    chat_id=chat_id, text=message.text, reply_markup=message.markup, message_thread_id=thread_id
                ),
                attempts=tries,
                what="send_message",
            )

    async def _edit(self, bot: Bot, chat_id: int, message_id: int, message: Outgoing, attempts: int) -> bool:
        """Edit the pressed message; False when Telegram will not let us (too old, deleted...)."""
        markup = message.markup if isinstance(message.markup, InlineKeyboardMarkup) else None
        try:
            await with_retries(
                lambda: bot.edit_message_text(chat_id=chat_id, message_id=message_id, text=message.text, reply_markup=markup),
                attempts=attempts,
                what="edit_message_text",
            )
        except BadRequest as error:
            if is_not_modified(error):
                return True
            LOGGER.debug("edit refused (%s); sending a new message", type(error).__name__)
            return False
        return True

