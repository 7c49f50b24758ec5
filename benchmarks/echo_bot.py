"""A bare python-telegram-bot echo bot: the yardstick the end-to-end benchmark compares Alumaura with.

It is the framework and nothing else, set up like the real bot where that changes
throughput: the same Bot API base URL, long polling with the same allowed updates, the
same number of updates processed at once, and the rate limiter on or off the same way.
It echoes every text (commands included) with one inline button, and answers a press of
that button by answering the query and echoing its data, so the benchmark can drive it
with the same mix of messages and button presses as the real bot.

Configured from the environment, like the bot:
    TELEGRAM_BOT_TOKEN, TELEGRAM_BASE_URL (e.g. http://127.0.0.1:PORT/bot),
    RATE_LIMITER (true/false, default false), LOG_LEVEL (default INFO).
Run: `.venv/bin/python benchmarks/echo_bot.py` (bench_e2e.py starts it as a subprocess).
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Final

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, CallbackQueryHandler, ContextTypes, MessageHandler, filters

# The real bot's settings (bot.telegram.application / bot.telegram.processor), copied rather than
# imported so the yardstick loads nothing of the bot; bench_e2e.py checks they still agree.
ALLOWED_UPDATES: Final = ["message", "edited_message", "callback_query"]
MAX_RUNNING: Final = 64
RATE_LIMIT_RETRIES: Final = 2
BUTTON_LABEL: Final = "again"
BUTTON_DATA: Final = "again"


def echo_markup() -> InlineKeyboardMarkup:
    """One button under every echo, so a benchmark user always has something to press."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(BUTTON_LABEL, callback_data=BUTTON_DATA)]])


async def echo_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the text back to the chat it came from."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    await context.bot.send_message(chat_id=message.chat_id, text=message.text, reply_markup=echo_markup())


async def echo_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stop the button's spinner, then send its data back, as the real bot answers a press."""
    query = update.callback_query
    chat = update.effective_chat
    if query is None or chat is None:
        return
    await query.answer()
    await context.bot.send_message(chat_id=chat.id, text=query.data or BUTTON_DATA, reply_markup=echo_markup())


def env_flag(name: str, default: bool) -> bool:
    """A true/false environment variable, read the way pydantic reads the bot's settings."""
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def build_echo_application(token: str, base_url: str | None, *, rate_limiter: bool) -> Application:  # type: ignore[type-arg]
    """The echo `Application`: two handlers, `MAX_RUNNING` updates at once, the limiter if asked."""
    builder = ApplicationBuilder().token(token).concurrent_updates(MAX_RUNNING)
    if base_url:
        builder = builder.base_url(base_url)
    if rate_limiter:
        builder = builder.rate_limiter(AIORateLimiter(max_retries=RATE_LIMIT_RETRIES))
    application = builder.build()
    application.add_handler(MessageHandler(filters.TEXT, echo_text))
    application.add_handler(CallbackQueryHandler(echo_press))
    return application


def main() -> int:
    """Run the echo bot until SIGINT/SIGTERM, logging like the real bot (no request URLs: they hold the token)."""
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO").upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    token = os.environ.get("TELEGRAM_BOT_TOKEN")
    if not token:
        print("TELEGRAM_BOT_TOKEN is not set", file=sys.stderr)
        return 2
    application = build_echo_application(token, os.environ.get("TELEGRAM_BASE_URL"), rate_limiter=env_flag("RATE_LIMITER", False))
    application.run_polling(allowed_updates=ALLOWED_UPDATES)
    return 0


if __name__ == "__main__":
    sys.exit(main())
