"""Different people are served at once; one person's updates are handled strictly in arrival order."""

from __future__ import annotations

import asyncio
import random

from bot.telegram.processor import PerUserUpdateProcessor, ordering_key
from tests.telegram_helpers import make_callback, make_message, make_update


def update_from(user_id: int, update_id: int) -> object:
    return make_update({"message": make_message({"text": f"m{update_id}"}, user_id=user_id)}, update_id=update_id)


async def test_one_persons_updates_run_in_order_while_people_overlap() -> None:
    processor = PerUserUpdateProcessor(max_running=16)
    rng = random.Random(3)
    log: list[tuple[str, int, int]] = []
    running = 0
    most_running = 0

    async def work(user_id: int, seq: int) -> None:
        nonlocal running, most_running
        running += 1
        most_running = max(most_running, running)
        log.append(("start", user_id, seq))
        await asyncio.sleep(rng.uniform(0, 0.01))
        log.append(("end", user_id, seq))
        running -= 1

    async with processor:
        tasks = []
        for seq in range(10):
            for user_id in (1, 2, 3, 4):
                update = update_from(user_id, seq * 10 + user_id)
                tasks.append(asyncio.create_task(processor.process_update(update, work(user_id, seq))))
        await asyncio.gather(*tasks)

    for user_id in (1, 2, 3, 4):
        mine = [(event, seq) for event, uid, seq in log if uid == user_id]
        assert mine == [(event, seq) for seq in range(10) for event in ("start", "end")], "never overlapping, in order"
    assert most_running >= 4, "different people run concurrently"
    assert processor.queued_people == 0


async def test_a_person_flooding_the_bot_does_not_hold_the_others_back() -> None:
    processor = PerUserUpdateProcessor(max_running=4, max_pending=1000)
    gate = asyncio.Event()
    served: list[int] = []

    async def slow() -> None:
        await gate.wait()

    async def quick(user_id: int) -> None:
        served.append(user_id)

    async with processor:
        flood = [asyncio.create_task(processor.process_update(update_from(1, i), slow())) for i in range(200)]
        others = [asyncio.create_task(processor.process_update(update_from(uid, 1000 + uid), quick(uid))) for uid in (2, 3)]
        await asyncio.wait_for(asyncio.gather(*others), 1)
        gate.set()
        await asyncio.gather(*flood)
    assert served == [2, 3]


async def test_a_cancelled_queued_update_does_not_block_the_next_one() -> None:
    processor = PerUserUpdateProcessor()
    gate = asyncio.Event()
    done: list[str] = []

    async def first() -> None:
        await gate.wait()
        done.append("first")

    async def never() -> None:
        done.append("cancelled one ran")

    async def third() -> None:
        done.append("third")

    async with processor:
        a = asyncio.create_task(processor.process_update(update_from(1, 1), first()))
        b = asyncio.create_task(processor.process_update(update_from(1, 2), never()))
        c = asyncio.create_task(processor.process_update(update_from(1, 3), third()))
        await asyncio.sleep(0)
        b.cancel()
        gate.set()
        await asyncio.gather(a, c, return_exceptions=True)
    assert done == ["first", "third"]


def test_the_ordering_key_is_the_person_not_the_chat() -> None:
    assert ordering_key(make_update(make_callback("x"))) == ("user", 10_001)
    assert ordering_key(update_from(10_002, 1)) == ("user", 10_002)
    assert ordering_key("not an update") is None
