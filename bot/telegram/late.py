"""Replies Telegram did not take in time: which are still worth delivering later, and until when.

A person's replies are sent at once, with a few quick retries (`errors.with_retries`,
about 7 seconds). When Telegram is still failing after those, the rest of the turn's
replies go to the outbox, which the job queue retries until the API is back, in order,
and the update counts as handled. What goes out late is decided here, once:

* a safety answer (the crisis lines, "you are not alone", a person one tap away) is
  always delivered, however late: someone who wrote that they want to die must get the
  numbers as soon as Telegram can carry them;
* any other reply is delivered only while fresh (`FRESH_FOR`): an answer that arrives
  long after the question no longer fits what the person is doing, and they can ask again;
* nothing is edited late: a reply that was to replace the pressed message (a menu step,
  a flow question) is sent as a new message, and only while fresh. The pressed message
  may have moved on, and an edit far up the chat would go unseen.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Final

from bot.engine.replies import Reply

SAFETY_KIND: Final = "late_safety"
REPLY_KIND: Final = "late_reply"
LATE_KINDS: Final = frozenset({SAFETY_KIND, REPLY_KIND})
FRESH_FOR: Final = timedelta(minutes=10)
# A chat with late replies keeps new replies behind them this long at most (an outbox row erased by
# /forget is never reported settled); by then a reply sent at once can no longer overtake them.
HOLD_SECONDS: Final = FRESH_FOR.total_seconds() + 300.0
# The engine's safety answer: `safety.lines.*` and the content texts `safety_*` (see bot/engine/safety_answer.py).
SAFETY_KEY_PREFIXES: Final = ("safety.", "text.safety_")


def is_safety(reply: Reply) -> bool:
    """Whether `reply` is part of a safety answer (delivered however late)."""
    return reply.key.startswith(SAFETY_KEY_PREFIXES)


def late_kind(reply: Reply) -> str:
    """The outbox kind a reply is queued under when it could not be sent at once."""
    return SAFETY_KIND if is_safety(reply) else REPLY_KIND


def for_later(reply: Reply) -> Reply:
    """The reply as it is queued: never an edit of the pressed message."""
    return replace(reply, edit_previous=False) if reply.edit_previous else reply


def still_worth_sending(kind: str, queued_at: datetime | None, now: datetime) -> bool:
    """Whether a late reply should still go out at `now` (always for safety answers)."""
    if kind != REPLY_KIND or queued_at is None:
        return True
    return now - queued_at <= FRESH_FOR


@dataclass
class Backlog:
    """The chats with late replies still in the outbox: a new reply there queues behind them, in order.

    Without it, the first reply after an outage would be sent at once and arrive before the
    answers the person has been waiting for.
    """

    clock: Callable[[], float] = time.monotonic
    hold_seconds: float = HOLD_SECONDS
    _waiting: dict[int, set[int]] = field(default_factory=dict)
    _since: dict[int, float] = field(default_factory=dict)

    def add(self, chat_id: int, delivery_id: int) -> None:
        """A late reply for `chat_id` was queued as outbox `delivery_id`."""
        self._waiting.setdefault(chat_id, set()).add(delivery_id)
        self._since[chat_id] = self.clock()

    def settled(self, chat_id: int, delivery_id: int) -> None:
        """The outbox delivered (or dropped) `delivery_id`."""
        waiting = self._waiting.get(chat_id)
        if waiting is None:
            return
        waiting.discard(delivery_id)
        if not waiting:
            self._forget(chat_id)

    def waiting(self, chat_id: int) -> bool:
        """Whether replies for `chat_id` must queue behind late ones."""
        since = self._since.get(chat_id)
        if since is None:
            return False
        if self.clock() - since > self.hold_seconds:
            self._forget(chat_id)
            return False
        return True

    def _forget(self, chat_id: int) -> None:
        self._waiting.pop(chat_id, None)
        self._since.pop(chat_id, None)
