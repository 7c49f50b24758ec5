"""The Telegram channel: the only package that imports `telegram` (python-telegram-bot v22).

`build_application(settings, engine)` gives the configured `Application`;
`run_telegram(settings)` builds the engine and runs it (polling, or a webhook).
"""

from bot.telegram.application import build_application, run_telegram, start_application, stop_application

__all__ = ["build_application", "run_telegram", "start_application", "stop_application"]
