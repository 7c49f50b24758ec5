"""Retention: what the bot promises to delete after a while is really deleted, and nothing else."""

from __future__ import annotations

from datetime import timedelta

from bot.engine.core import Engine
from bot.engine.maintenance import run_maintenance
from bot.storage.connection import iso, now_utc
from bot.storage.inbox_store import InboxStore
from bot.telegram.inbox import HANDLED_UPDATES_KEEP, DurableUpdateQueue
from tests.conftest import make_incoming, press


async def test_maintenance_deletes_only_what_is_past_its_retention(engine: Engine) -> None:
    await engine.handle(make_incoming("/start"))
    await engine.handle(press("consent:yes"))
    await engine.handle(make_incoming("what is micro cheating"))
    old = iso(now_utc() - timedelta(days=400))
    store = engine.store
    await store.execute("UPDATE turns SET created_at = ? WHERE id = (SELECT MIN(id) FROM turns)", (old,))
    kept_id = await engine.tell_person(5, engine.texts.reply("welcome"))
    old_id = await engine.tell_person(5, engine.texts.reply("welcome"))
    await engine.delivery_done(kept_id)
    await engine.delivery_done(old_id)
    await store.execute("UPDATE outbox SET delivered_at = ? WHERE id = ?", (old, old_id))
    pending_id = await engine.tell_person(5, engine.texts.reply("welcome"))
    await store.execute("UPDATE outbox SET created_at = ? WHERE id = ?", (old, pending_id))
    turns_before = len(await store.fetchall("SELECT id FROM turns"))

    purged = await run_maintenance(engine)

    assert purged["delivered messages"] == 1 and purged["activity records"] == 1
    remaining = {row["id"] for row in await store.fetchall("SELECT id FROM outbox")}
    assert remaining == {kept_id, pending_id}, "recent copies and undelivered messages stay"
    assert len(await store.fetchall("SELECT id FROM turns")) == turns_before - 1
    assert await store.load_session(1001) is not None, "conversation state has no retention: /forget erases it"
    assert "handled update ids" not in purged, "Telegram's update ids are the Telegram side's to purge"


async def test_the_telegram_inbox_forgets_handled_update_ids_after_two_days(engine: Engine) -> None:
    inbox = InboxStore(engine.store)
    for update_id in (1, 2, 3):
        assert await inbox.receive(update_id, "{}")
    await inbox.handled(1)
    await inbox.handled(2)
    old = iso(now_utc() - HANDLED_UPDATES_KEEP - timedelta(hours=1))
    await engine.store.execute("UPDATE inbox SET handled_at = ? WHERE update_id = 1", (old,))

    assert await DurableUpdateQueue(inbox).purge_handled() == 1

    remaining = {row["update_id"] for row in await engine.store.fetchall("SELECT update_id FROM inbox")}
    assert remaining == {2, 3}, "a recent handled id and a waiting update stay"
