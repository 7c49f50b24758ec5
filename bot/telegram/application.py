"""Build and run python-telegram-bot's `Application`: polling by default, a webhook when configured.

The application owns the engine's lifetime (opened in `post_init`, closed in
`post_shutdown`), registers the command menu, and schedules the outbox drain. Running,
watching and stopping it is `bot.telegram.lifecycle`; tests and embedders use its
`start_application` / `stop_application` (re-exported here), which follow the same order
as `run_polling` without taking over the event loop.
"""

from __future__ import annotations

import hashlib
import hmac
import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final, Protocol

from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, TypeHandler

from bot.engine.commands import PERSON_COMMANDS, STAFF_COMMANDS, Command, menu
from bot.errors import ConfigError
from bot.telegram.channel import DialogueEngine, StaffHandler, TelegramChannel, ignore_staff_update
from bot.telegram.codec import CallbackCodec
from bot.telegram.errors import DEFAULT_ATTEMPTS, hash_id, make_error_handler, with_retries
from bot.telegram.inbox import DurableUpdateQueue, UpdateInbox
from bot.telegram.lifecycle import (
    ALLOWED_UPDATES,
    Polling,
    Webhook,
    serve,
    start_application,
    stop_application,
    webhook_path,
)
from bot.telegram.outbox import DeliveryRouter, Outbox, OutboxDrainer
from bot.telegram.processor import DEFAULT_MAX_RUNNING, PerUserUpdateProcessor
from bot.telegram.updates import UpdatesRequest

if TYPE_CHECKING:
    from bot.config import Settings

__all__ = [
    "ALLOWED_UPDATES",
    "Polling",
    "Webhook",
    "build_application",
    "run_application",
    "start_application",
    "stop_application",
    "webhook_path",
]

LOGGER: Final = logging.getLogger("bot.telegram")
OUTBOX_INTERVAL_SECONDS: Final = 5.0
MAINTENANCE_INTERVAL: Final = 6 * 3600.0
MAINTENANCE_FIRST: Final = 60.0
# The limiter itself waits out a flood answer (pausing every request, as Telegram expects) this often.
RATE_LIMIT_RETRIES: Final = 2
CHANNEL_KEY: Final = "alumaura.channel"
DRAINER_KEY: Final = "alumaura.outbox"



class Engine(DialogueEngine, Outbox, Protocol):
    """Everything the Telegram channel uses of the engine, including its lifetime."""

    async def start(self) -> None: ...

    async def close(self) -> None: ...


def bot_commands(commands: tuple[Command, ...] = PERSON_COMMANDS) -> list[BotCommand]:
    """A command menu for `set_my_commands`, from the one registry (`bot.engine.commands`)."""
    return [BotCommand(name, description) for name, description in menu(commands)]


async def register_menus(bot: Any, staff_chat_id: int | None) -> None:
    """The person's menu for every chat, and the staff commands in the staff group only."""
    await with_retries(lambda: bot.set_my_commands(bot_commands()), what="set_my_commands")
    if staff_chat_id is not None:
        scope = BotCommandScopeChat(staff_chat_id)
        await with_retries(lambda: bot.set_my_commands(bot_commands(STAFF_COMMANDS), scope=scope), what="set_my_commands")


def file_base_url(base_url: str) -> str:
    """The file URL that goes with a Bot API base URL (`.../bot` -> `.../file/bot`)."""
    stem = base_url.rstrip("/")
    if stem.endswith("/bot"):
        return f"{stem[: -len('/bot')]}/file/bot"
    return f"{stem}/file/bot"


def derive_webhook_secret(token: str) -> str:
    """A stable secret token when WEBHOOK_SECRET is unset, so the webhook is never open to anyone."""
    return hmac.new(token.encode("utf-8"), b"alumaura/telegram/webhook/v1", hashlib.sha256).hexdigest()


def bot_token(settings: Settings) -> str:
    """The token, or a ConfigError that says what to set."""
    if settings.telegram_bot_token is None:
        raise ConfigError(["TELEGRAM_BOT_TOKEN is not set (create a bot with @BotFather)"])
    return settings.telegram_bot_token.get_secret_value()


def webhook_from_settings(settings: Settings) -> Webhook | None:
    """Webhook mode when WEBHOOK_URL is set, else None (polling)."""
    if not settings.webhook_url:
        return None
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else derive_webhook_secret(bot_token(settings))
    return Webhook(url=settings.webhook_url, listen=settings.webhook_listen, port=settings.webhook_port, secret_token=secret)


def channel_of(application: Application[Any, Any, Any, Any, Any, Any]) -> TelegramChannel:
    """The channel an application was built with (for the staff hook and tests)."""
    channel: TelegramChannel = application.bot_data[CHANNEL_KEY]
    return channel


def _maintenance_job(engine: Engine, queue: DurableUpdateQueue | None) -> Callable[[Any], Awaitable[None]]:
    """The job that applies the retention periods (journal, copies, statistics) and purges the inbox's handled ids."""

    async def job(_context: Any) -> None:
        from bot.engine.maintenance import run_maintenance

        try:
            await run_maintenance(engine)  # type: ignore[arg-type]
        except Exception:  # noqa: BLE001 - housekeeping must never stop the bot
            LOGGER.exception("maintenance failed")
        if queue is not None:
            # Telegram's update ids are this channel's own to keep, and to forget.
            try:
                await queue.purge_handled()
            except Exception:  # noqa: BLE001 - housekeeping must never stop the bot
                LOGGER.exception("inbox purge failed")

    return job


def build_application(
    settings: Settings,
    engine: Engine,
    *,
    staff_handler: StaffHandler = ignore_staff_update,
    delivery_router: DeliveryRouter | None = None,
    outbox_interval: float = OUTBOX_INTERVAL_SECONDS,
    max_running: int = DEFAULT_MAX_RUNNING,
    send_attempts: int = DEFAULT_ATTEMPTS,
    inbox: UpdateInbox | None = None,
) -> Application[Any, Any, Any, Any, Any, Any]:
    """The bot's `Application`: one handler routing everything, per-person ordering, rate limiting.

    staff_handler: receives every update from STAFF_CHAT_ID (and must answer its callback queries).
    delivery_router: takes the outbox deliveries it `handles` (e.g. handoff relays into forum topics).
    send_attempts: tries of a person's reply before the rest of the turn goes to the outbox.
    inbox: where updates are kept until handled (None: a plain in-memory queue, lost on a kill).
    """
    token = bot_token(settings)
    builder = ApplicationBuilder().token(token).concurrent_updates(PerUserUpdateProcessor(max_running=max_running))
    # An update the library cannot read, or a lone surrogate, must not stop polling (bot/telegram/updates.py).
    builder = builder.get_updates_request(UpdatesRequest())
    if settings.telegram_base_url:
        builder = builder.base_url(settings.telegram_base_url).base_file_url(file_base_url(settings.telegram_base_url))
    if settings.rate_limiter:
        builder = builder.rate_limiter(AIORateLimiter(max_retries=RATE_LIMIT_RETRIES))
    # Updates are stored before Telegram hears they arrived, so a killed bot finds its backlog again.
    queue = DurableUpdateQueue(inbox) if inbox is not None else None
    if queue is not None:
        builder = builder.update_queue(queue)
    # The engine's pseudonyms when it has them, so channel and engine log lines name a person alike.
    pseudonym: Callable[[int], str] = getattr(engine, "user_hash", hash_id)
    channel = TelegramChannel(
        engine,
        CallbackCodec.from_token(token),
        staff_chat_id=settings.staff_chat_id,
        staff_handler=staff_handler,
        pseudonym=pseudonym,
        attempts=send_attempts,
    )
    channel.on_handled = queue.handled if queue is not None else None
    drainer = OutboxDrainer(engine, channel, staff_chat_id=settings.staff_chat_id, router=delivery_router)

    async def post_init(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        await engine.start()
        if queue is not None:
            await queue.replay(application.bot)
        try:
            await register_menus(application.bot, settings.staff_chat_id)
        except TelegramError as error:
            LOGGER.warning("command menu not registered error=%s", type(error).__name__)
        try:
            # Replies still waiting from before the restart go out before anything new is answered.
            await drainer.drain(application.bot)
        except Exception:  # noqa: BLE001 - the repeating job retries; starting must not wait on it
            LOGGER.exception("outbox not drained at start")
        if application.job_queue is not None:
            application.job_queue.run_repeating(drainer.job, interval=outbox_interval, first=outbox_interval, name="outbox")
            application.job_queue.run_repeating(
                _maintenance_job(engine, queue), interval=MAINTENANCE_INTERVAL, first=MAINTENANCE_FIRST, name="maintenance"
            )
        LOGGER.info("telegram started bot=@%s staff_chat=%s", application.bot.username, settings.staff_chat_id is not None)

    async def post_shutdown(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        await engine.close()

    application = builder.post_init(post_init).post_shutdown(post_shutdown).build()
    channel.on_replied = lambda: drainer.nudge(application)
    application.bot_data[CHANNEL_KEY] = channel
    application.bot_data[DRAINER_KEY] = drainer
    application.add_handler(TypeHandler(Update, channel.on_update))
    application.add_error_handler(make_error_handler(pseudonym))
    return application


def run_application(settings: Settings, application: Application[Any, Any, Any, Any, Any, Any]) -> int:
    """Serve until SIGTERM/SIGINT or a fatal fault: long polling, or a webhook when WEBHOOK_URL is set.

    Returns the process exit code (`bot.exit_codes`): 0 for a stop that was asked for.
    """
    webhook = webhook_from_settings(settings)
    if webhook is None:
        LOGGER.info("telegram mode=polling")
    else:
        LOGGER.info("telegram mode=webhook listen=%s port=%s", webhook.listen, webhook.port)
    return asyncio.run(serve(application, webhook or Polling()))
