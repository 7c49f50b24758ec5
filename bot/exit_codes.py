"""The process exit codes of `python -m bot`, so a supervisor (systemd, a container) can tell them apart.

Only OK is a stop that was asked for. Every other code ends a run the bot could not
continue, said first in one log line; a supervisor should restart on TELEGRAM and
STORAGE (with a delay), and on CONFIG only after someone fixed the setting.
"""

from __future__ import annotations

from typing import Final

# A clean stop: SIGTERM, SIGINT (Ctrl-C), or the end of the terminal chat.
OK: Final = 0
# The configuration or the content is invalid: restarting will not help, fix the setting first.
CONFIG: Final = 2
# Telegram refused the token, or receiving updates failed for good (polling stopped, the
# webhook could not be set): restarting may help once Telegram or the token is right.
TELEGRAM: Final = 3
# The database cannot be opened or written.
STORAGE: Final = 4
