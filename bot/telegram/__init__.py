"""The Telegram channel: the only package that imports `telegram` (python-telegram-bot v22).

`build_application(settings, engine)` gives the configured `Application`;
`run_application(settings, application)` serves it (polling, or a webhook); `bot.app.run_telegram`
wires the engine, the update inbox and the staff side into it.
"""

from bot.telegram.application import build_application, run_application, start_application, stop_application

__all__ = ["build_application", "run_application", "start_application", "stop_application"]
