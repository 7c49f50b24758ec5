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
import os
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final, Protocol

from telegram import BotCommand, Update
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, TypeHandler

from bot.errors import ConfigError
from bot.storage.inbox_store import InboxStore
from bot.storage.store import Store
from bot.telegram.channel import DialogueEngine, StaffHandler, TelegramChannel, ignore_staff_update
from bot.telegram.codec import CallbackCodec
from bot.telegram.errors import DEFAULT_ATTEMPTS, hash_id, make_error_handler, with_retries
from bot.telegram.inbox import DurableUpdateQueue
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
    from bot.catalog.loader import Catalog
    from bot.config import Settings

__all__ = [
    "ALLOWED_UPDATES",
    "Polling",
    "Webhook",
    "build_application",
    "run_telegram",
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

# Short and plain, like the bot's voice; /menu and /help are how people find the rest.
COMMANDS: Final = (
    ("start", "Start here"),
    ("menu", "Show the menu"),
    ("reflect", "Reflect on what happened"),
    ("signs", "Signs of micro-cheating"),
    ("book", "Book a session with a therapist"),
    ("mybooking", "See or change your booking"),
    ("human", "Talk to a person"),
    ("journal", "Your private journal"),
    ("privacy", "What I keep and why"),
    ("forget", "Delete what I keep about you"),
    ("help", "How I can help"),
)


class Engine(DialogueEngine, Outbox, Protocol):
    """Everything the Telegram channel uses of the engine, including its lifetime."""

    async def start(self) -> None: ...

    async def close(self) -> None: ...


def bot_commands() -> list[BotCommand]:
    """The command menu registered with `set_my_commands`."""
    return [BotCommand(command, description) for command, description in COMMANDS]


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


def _maintenance_job(engine: Engine) -> Callable[[Any], Awaitable[None]]:
    """The job that applies the retention periods (journal, copies, statistics)."""

    async def job(_context: Any) -> None:
        from bot.engine.maintenance import run_maintenance

        try:
            await run_maintenance(engine)  # type: ignore[arg-type]
        except Exception:  # noqa: BLE001 - housekeeping must never stop the bot
            LOGGER.exception("maintenance failed")

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
) -> Application[Any, Any, Any, Any, Any, Any]:
    """The bot's `Application`: one handler routing everything, per-person ordering, rate limiting.

    staff_handler: receives every update from STAFF_CHAT_ID (and must answer its callback queries).
    delivery_router: takes the outbox deliveries it `handles` (e.g. handoff relays into forum topics).
    send_attempts: tries of a person's reply before the rest of the turn goes to the outbox.
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
    store = getattr(engine, "store", None)
    inbox = DurableUpdateQueue(InboxStore(store)) if isinstance(store, Store) else None
    if inbox is not None:
        builder = builder.update_queue(inbox)
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
    channel.on_handled = inbox.handled if inbox is not None else None
    drainer = OutboxDrainer(engine, channel, staff_chat_id=settings.staff_chat_id, router=delivery_router)

    async def post_init(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        await engine.start()
        if inbox is not None:
            await inbox.replay(application.bot)
        try:
            await with_retries(lambda: application.bot.set_my_commands(bot_commands()), what="set_my_commands")
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
                _maintenance_job(engine), interval=MAINTENANCE_INTERVAL, first=MAINTENANCE_FIRST, name="maintenance"
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


def run_telegram(settings: Settings, catalog: Catalog | None = None) -> int:
    """Run the bot until SIGTERM/SIGINT or a fatal fault: long polling, or a webhook when WEBHOOK_URL is set.

    catalog: the content already loaded and checked at start-up (else it is loaded here).
    Returns the process exit code (`bot.exit_codes`): 0 for a stop that was asked for.
    """
    # Opt in to python-telegram-bot 22's timedelta durations; the int form warns on every flood wait.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    from bot.app import build_engine  # imported here: bot.app wires this module in

    from bot.telegram.staff import staff_side

    engine = build_engine(settings, catalog)
    staff = staff_side(engine, staff_chat_id=settings.staff_chat_id, admin_user_ids=settings.admin_user_ids)
    if staff is None:
        application = build_application(settings, engine)
    else:
        application = build_application(settings, engine, staff_handler=staff.on_update, delivery_router=staff)
        staff.bind(channel_of(application))
    webhook = webhook_from_settings(settings)
    if webhook is None:
        LOGGER.info("telegram mode=polling")
    else:
        LOGGER.info("telegram mode=webhook listen=%s port=%s", webhook.listen, webhook.port)
    return asyncio.run(serve(application, webhook or Polling()))
