"""A bounded load run through the stand-in: many people at once, every reply arrives once, to the right person.

Run with `-s` to see the figure: `load: 100 users x 5 messages: ... replies/s`.
The heavy variants (`--heavy`): 200 people x 10 messages, and 1000 x 10 with faults.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.app import build_engine
from tests.botapi_standin import BotApiStandIn, FaultPlan
from tests.telegram_helpers import RecordingEngine, expected_texts, make_settings, running_bot, settle, standin  # noqa: F401

MESSAGES = (
    "/start",
    "what does micro cheating mean",
    "how can i trust my partner again",
    "is liking someone's photos cheating",
    "/menu",
    "thank you",
    "why does he hide his phone",
    "purple monkey dishwasher",
    "/privacy",
    "can a relationship heal after this",
)


async def run_load(standin: BotApiStandIn, tmp_path: Path, users: int, messages: int, *, timeout: float) -> None:
    settings = make_settings(standin, tmp_path, rate_limiter=False)
    engine = RecordingEngine(build_engine(settings))
    async with running_bot(settings, engine) as application:
        people = [standin.new_user(f"P{i}") for i in range(users)]
        started = time.perf_counter()
        for round_ in range(messages):
            for index, someone in enumerate(people):
                standin.user_sends(someone, MESSAGES[(index + round_) % len(MESSAGES)])
        await settle(standin, application, timeout=timeout)
        elapsed = time.perf_counter() - started

    replies = 0
    for someone in people:
        assert len(engine.turns[someone.id]) == messages, "every message was handled once"
        expected = expected_texts(engine.replies(someone.id))
        assert [e.text for e in standin.events_in(someone.id)] == expected, f"{someone.first_name} got every reply once, in order"
        replies += len(expected)
    faults = f", {len(standin.faults.injected)} faults injected" if standin.faults.injected else ""
    print(
        f"\nload: {users} users x {messages} messages: {replies} replies in {elapsed:.2f}s "
        f"= {replies / elapsed:.0f} replies/s ({users * messages / elapsed:.0f} turns/s){faults}; all arrived once"
    )


async def test_load_100_people_5_messages_each(standin: BotApiStandIn, tmp_path: Path) -> None:
    await run_load(standin, tmp_path, users=100, messages=5, timeout=60)


@pytest.mark.heavy
async def test_load_200_people_10_messages_each(standin: BotApiStandIn, tmp_path: Path) -> None:
    await run_load(standin, tmp_path, users=200, messages=10, timeout=300)


@pytest.mark.heavy
async def test_load_1000_people_with_faults(standin: BotApiStandIn, tmp_path: Path) -> None:
    standin.faults = FaultPlan(share=0.03, seed=5, methods=frozenset({"sendmessage"}))
    await run_load(standin, tmp_path, users=1000, messages=10, timeout=600)
