"""How often a person's messages are answered or held back: the flood gate and the "your messages reach the team" pacing.

Kept apart from the handoff's conversation logic (`feature.py`): these are small, pure rules
over timestamps (in memory, nothing written per message), easy to test on their own.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from datetime import datetime, timedelta
from typing import Final, Literal

# "Your messages reach the team" is said for the first message, then again only after this long a pause.
ACK_AFTER_PAUSE: Final = timedelta(minutes=10)
FloodLevel = Literal["ok", "soft", "hard"]


class FloodGate:
    """Messages per person in a sliding window: "soft" asks kindly to slow down, "hard" pauses.

    In memory on purpose: a restart forgiving a burst is harmless, and nothing is written per message.
    """

    def __init__(self, soft: int = 12, hard: int = 30, window: float = 60.0, max_people: int = 10_000) -> None:
        self.soft, self.hard, self.window, self.max_people = soft, hard, window, max_people
        self._seen: OrderedDict[int, deque[float]] = OrderedDict()
        self._told: dict[tuple[int, str], float] = {}

    def check(self, user_id: int, now: float | None = None) -> tuple[FloodLevel, bool]:
        """The level after this message, and whether the person should be told (once per level and window)."""
        moment = time.monotonic() if now is None else now
        stamps = self._seen.pop(user_id, deque())
        while stamps and moment - stamps[0] > self.window:
            stamps.popleft()
        stamps.append(moment)
        self._seen[user_id] = stamps
        while len(self._seen) > self.max_people:
            old, _ = self._seen.popitem(last=False)
            self._told.pop((old, "soft"), None)
            self._told.pop((old, "hard"), None)
        level: FloodLevel = "hard" if len(stamps) > self.hard else "soft" if len(stamps) > self.soft else "ok"
        if level == "ok":
            return level, False
        told = self._told.get((user_id, level))
        tell = told is None or moment - told > self.window
        if tell:
            self._told[(user_id, level)] = moment
        return level, tell


def ack_key(count: int, last_at: str | None, now: datetime) -> str | None:
    """The acknowledgement after a relayed message: the first one, again after a pause, otherwise none."""
    if count <= 1:
        return "handoff_first_ack"
    try:
        last = datetime.fromisoformat(last_at) if last_at else None
    except ValueError:
        last = None
    if last is None or last.tzinfo is None or now - last >= ACK_AFTER_PAUSE:
        return "handoff_ack_again"
    return None
