"""Start, watch and stop the Telegram side: every way of stopping closes the database and ends the process.

`serve` replaces python-telegram-bot's `run_polling`/`run_webhook` so that a fault the
library would only log ends the run instead: polling that stopped for good (an invalid
token: the updater logs "Aborting retry loop" and never polls again, while the process
stays up) ends it with one clear line and exit code `exit_codes.TELEGRAM`, so a
supervisor restarts it. SIGTERM and SIGINT stop it cleanly (exit 0). Stopping is
bounded: each step is guarded, so one that fails (the updater re-raising the error that
killed polling) cannot skip closing the database, and after `SHUTDOWN_GRACE_SECONDS` the
database is closed anyway.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlparse

from telegram.error import InvalidToken, TelegramError
from telegram.ext import Application

from bot import exit_codes
from bot.errors import ConfigError, StorageError
from bot.telegram.errors import with_retries
from bot.telegram.webhook import WebhookServer, WebhookTarget

LOGGER: Final = logging.getLogger("bot.telegram")
ALLOWED_UPDATES: Final = ["message", "edited_message", "callback_query"]
SHUTDOWN_GRACE_SECONDS: Final = 15.0
CLOSE_SECONDS: Final = 5.0
# python-telegram-bot's name for the task that runs the getUpdates loop (since v20).
POLLING_TASK_NAME: Final = "Updater:start_polling:polling_task"
WEBHOOK_MAX_CONNECTIONS: Final = 40
# Telegram unreachable at start is ridden out for about half a minute (getMe: 0.5 s, doubling up to 8 s;
# deleting a webhook: 1 s, then 1.5 times longer), so a supervisor does not restart in a tight loop; then the run ends.
START_ATTEMPTS: Final = 8
BOOTSTRAP_RETRIES: Final = 5
POLLING_TASKS_KEY: Final = "alumaura.polling_tasks"
WEBHOOK_SERVER_KEY: Final = "alumaura.webhook_server"
STOP_SIGNALS: Final = (signal.SIGTERM, signal.SIGINT)

AnyApplication = Application[Any, Any, Any, Any, Any, Any]


@dataclass(frozen=True)
class Polling:
    """Long polling; `timeout` is the getUpdates long-poll in seconds."""

    timeout: float = 10.0
    interval: float = 0.0


@dataclass(frozen=True)
class Webhook:
    """A webhook on the bot's own server (`bot.telegram.webhook`), with Telegram's secret-token check."""

    url: str
    listen: str
    port: int
    secret_token: str


def webhook_path(url: str) -> str:
    """The path the webhook server listens on for a public webhook URL."""
    return urlparse(url).path.strip("/")


class Shutdown:
    """Why the run ends: a stop that was asked for (exit 0) or a fault (its exit code); the first reason wins."""

    def __init__(self) -> None:
        self.code = exit_codes.OK
        self.reason = ""
        self._event = asyncio.Event()

    @property
    def requested(self) -> bool:
        return self._event.is_set()

    def stop(self, reason: str) -> None:
        """A clean stop (a signal)."""
        self._end(exit_codes.OK, reason)

    def fail(self, code: int, reason: str) -> None:
        """A fault the bot cannot continue after."""
        self._end(code, reason)

    def _end(self, code: int, reason: str) -> None:
        if self._event.is_set():
            return
        self.code, self.reason = code, reason
        self._event.set()

    async def wait(self) -> None:
        await self._event.wait()


async def start_application(application: AnyApplication, mode: Polling | Webhook = Polling()) -> None:
    """Start like `run_polling`/`run_webhook` do (initialize, post_init, receiving, start), in the running loop."""
    updater = application.updater
    if updater is None:
        raise ConfigError(["the application was built without an updater"])
    try:
        await with_retries(application.initialize, attempts=START_ATTEMPTS, what="get_me")
    except BaseException:
        await _guarded("bot shutdown", application.bot.shutdown)
        raise
    try:
        if application.post_init is not None:
            await application.post_init(application)
        if isinstance(mode, Webhook):
            await _start_webhook(application, mode)
        else:
            before = asyncio.all_tasks()
            await updater.start_polling(
                timeout=mode.timeout,
                poll_interval=mode.interval,
                bootstrap_retries=BOOTSTRAP_RETRIES,
                allowed_updates=ALLOWED_UPDATES,
                error_callback=_log_polling_error,
            )
            application.bot_data[POLLING_TASKS_KEY] = polling_tasks(asyncio.all_tasks() - before)
        await application.start()
    except BaseException:
        await stop_application(application)
        raise


def polling_tasks(started: set[asyncio.Task[Any]]) -> list[asyncio.Task[Any]]:
    """The getUpdates loop among the tasks `start_polling` started (by its name; else all of them)."""
    named = [task for task in started if task.get_name() == POLLING_TASK_NAME]
    return named or sorted(started, key=lambda task: task.get_name())


def _log_polling_error(error: TelegramError) -> None:
    LOGGER.warning("polling failed error=%s; python-telegram-bot retries", type(error).__name__)


async def _start_webhook(application: AnyApplication, mode: Webhook) -> None:
    target = WebhookTarget(queue=application.update_queue, bot=application.bot, secret_token=mode.secret_token)
    server = WebhookServer(target, path=webhook_path(mode.url), listen=mode.listen, port=mode.port)
    server.start()
    application.bot_data[WEBHOOK_SERVER_KEY] = server
    await with_retries(
        lambda: application.bot.set_webhook(
            url=mode.url,
            secret_token=mode.secret_token,
            allowed_updates=ALLOWED_UPDATES,
            max_connections=WEBHOOK_MAX_CONNECTIONS,
        ),
        attempts=BOOTSTRAP_RETRIES + 1,
        what="set_webhook",
    )


async def _guarded(step: str, action: Callable[[], Awaitable[object]]) -> None:
    """Run one shutdown step; a failure is logged and the next steps still run."""
    try:
        await action()
    except Exception as error:  # noqa: BLE001 - stopping must go on whatever one step raised
        LOGGER.warning("shutdown step=%s failed error=%s", step, type(error).__name__)


async def stop_application(application: AnyApplication) -> None:
    """Stop in `run_polling`'s order (receiving, application, shutdown, post_shutdown), every step guarded.

    post_shutdown closes the engine and its database, whatever happened before it.
    """
    updater = application.updater
    if updater is not None and updater.running:
        await _guarded("updater", updater.stop)
    server: WebhookServer | None = application.bot_data.pop(WEBHOOK_SERVER_KEY, None)
    if server is not None:
        await _guarded("webhook server", server.stop)
    if application.running:
        await _guarded("application", application.stop)
        if application.post_stop is not None:
            await _guarded("post_stop", lambda: application.post_stop(application))  # type: ignore[misc]
    await _guarded("shutdown", application.shutdown)
    if application.post_shutdown is not None:
        await _guarded("post_shutdown", lambda: application.post_shutdown(application))  # type: ignore[misc]


def watch_polling(application: AnyApplication, shutdown: Shutdown) -> None:
    """End the run when the getUpdates loop ends on its own: no update would ever arrive again."""
    for task in application.bot_data.get(POLLING_TASKS_KEY, []):
        task.add_done_callback(lambda done: _polling_ended(done, shutdown))


def _polling_ended(task: asyncio.Task[Any], shutdown: Shutdown) -> None:
    if shutdown.requested:
        return
    error = None if task.cancelled() else task.exception()
    if isinstance(error, InvalidToken):
        shutdown.fail(exit_codes.TELEGRAM, "Telegram refused the bot token: check TELEGRAM_BOT_TOKEN (polling stopped)")
    else:
        what = type(error).__name__ if error is not None else "cancelled" if task.cancelled() else "ended"
        shutdown.fail(exit_codes.TELEGRAM, f"polling stopped for good error={what}")


def start_failure(error: BaseException) -> tuple[int, str] | None:
    """The exit code and the line to log when starting failed with `error`; None to let it propagate."""
    if isinstance(error, InvalidToken):
        return exit_codes.TELEGRAM, "Telegram refused the bot token: check TELEGRAM_BOT_TOKEN"
    if isinstance(error, StorageError):
        return exit_codes.STORAGE, f"the database cannot be used: {error}"
    if isinstance(error, TelegramError):
        return exit_codes.TELEGRAM, f"Telegram could not be reached at start error={type(error).__name__}"
    if isinstance(error, OSError):
        return exit_codes.TELEGRAM, f"the webhook server cannot listen error={type(error).__name__}: {error.strerror or error}"
    return None


async def serve(
    application: AnyApplication,
    mode: Polling | Webhook,
    *,
    stop_signals: Sequence[signal.Signals] = STOP_SIGNALS,
    grace: float = SHUTDOWN_GRACE_SECONDS,
) -> int:
    """Run until a signal or a fatal fault; returns the process exit code (`bot.exit_codes`)."""
    shutdown = Shutdown()
    loop = asyncio.get_running_loop()
    for sig in stop_signals:
        loop.add_signal_handler(sig, shutdown.stop, f"signal {sig.name}")
    try:
        try:
            await start_application(application, mode)
        except Exception as error:
            failure = start_failure(error)
            if failure is None:
                raise
            LOGGER.critical("not started: %s (exit code %d)", failure[1], failure[0])
            return failure[0]
        watch_polling(application, shutdown)
        await shutdown.wait()
        if shutdown.code == exit_codes.OK:
            LOGGER.info("stopping reason=%s", shutdown.reason)
        else:
            LOGGER.critical("stopping: %s (exit code %d)", shutdown.reason, shutdown.code)
        await stop_within(application, grace)
        return shutdown.code
    finally:
        for sig in stop_signals:
            loop.remove_signal_handler(sig)


async def stop_within(application: AnyApplication, grace: float) -> None:
    """`stop_application`, but never longer than `grace` seconds: then the database is closed directly."""
    try:
        await asyncio.wait_for(stop_application(application), grace)
    except TimeoutError:
        LOGGER.error("shutdown took longer than %.0fs; closing the database and exiting", grace)
        if application.post_shutdown is not None:
            post_shutdown = application.post_shutdown
            await _guarded("post_shutdown", lambda: asyncio.wait_for(post_shutdown(application), CLOSE_SECONDS))
