"""Concurrent updates, one person at a time: different people in parallel, each person in order.

python-telegram-bot's `concurrent_updates` runs updates in parallel with no ordering, so
two quick presses of one person could race on that person's state. This processor
queues each person's updates behind one another, in the order they arrived, while
everyone else goes ahead. A person's queued updates do not hold a running slot, so one
person flooding the bot cannot starve the others.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Hashable
from typing import Any, Final

from telegram import Update
from telegram.ext import BaseUpdateProcessor

DEFAULT_MAX_RUNNING: Final = 64
DEFAULT_MAX_PENDING: Final = 4096


def ordering_key(update: object) -> Hashable | None:
    """Whose queue an update joins: the person who caused it, else its chat; None runs it unordered."""
    if not isinstance(update, Update):
        return None
    if update.effective_user is not None:
        return ("user", update.effective_user.id)
    if update.effective_chat is not None:
        return ("chat", update.effective_chat.id)
    return None


class PerUserUpdateProcessor(BaseUpdateProcessor):
    """Runs up to `max_running` updates at once; one person's updates strictly one after another.

    `do_process_update` is entered in arrival order (the fetcher creates tasks in order and
    the base class's semaphore is FIFO), and it registers the update in its person's chain
    before its first await, so the chain order is the arrival order.
    """

    __slots__ = ("_max_running", "_running", "_tails")

    def __init__(self, max_running: int = DEFAULT_MAX_RUNNING, max_pending: int = DEFAULT_MAX_PENDING) -> None:
        super().__init__(max_concurrent_updates=max(max_pending, max_running))
        self._max_running = max_running
        self._running = asyncio.Semaphore(max_running)
        self._tails: dict[Hashable, asyncio.Event] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Wait for the same person's earlier updates, then run this one within the running limit."""
        key = ordering_key(update)
        previous = self._tails.get(key) if key is not None else None
        finished = asyncio.Event()
        if key is not None:
            self._tails[key] = finished
        started = False
        try:
            if previous is not None:
                await previous.wait()
            async with self._running:
                started = True
                await coroutine
        finally:
            if not started and inspect.iscoroutine(coroutine):
                coroutine.close()  # cancelled while queued: never run, and no "never awaited" warning
            finished.set()
            if key is not None and self._tails.get(key) is finished:
                del self._tails[key]

    async def initialize(self) -> None:
        """Start with no queues (a restarted application gets fresh ones)."""
        self._tails.clear()

    async def shutdown(self) -> None:
        """Forget the queues; python-telegram-bot has already awaited the running updates."""
        self._tails.clear()

    @property
    def queued_people(self) -> int:
        """How many people have updates running or waiting (for tests and diagnostics)."""
        return len(self._tails)
