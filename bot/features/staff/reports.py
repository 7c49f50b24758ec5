"""The staff's listings: /bookings, /stats and /unanswered, each one message.

Kept apart from the router (`router.py`), which decides who may act and what an action is:
these only read the booking and handoff records and put them into words for the staff.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from bot.engine import payloads
from bot.engine.availability import format_when, from_utc_text
from bot.engine.replies import Button, Reply
from bot.engine.texts import Texts
from bot.features.booking.feature import BookingDesk
from bot.features.handoff.feature import HandoffDesk
from bot.storage.connection import now_utc
from bot.storage.outbox_store import OutboxStore

STATS_WINDOWS: Final = (7, 30)
UNANSWERED_DAYS: Final = 30


async def bookings_reply(texts: Texts, booking: BookingDesk) -> Reply:
    rows = await booking.bookings.open_requests()
    if not rows:
        return texts.reply("staff_bookings_none")
    zone = booking.zone
    lines, buttons = [], []
    for row in rows:
        when = format_when(from_utc_text(row.slot_start), zone) if row.slot_start else "?"
        status = booking.status_label("staff_status", row.status)
        lines.append(f"#{row.id} · {when} · {row.first_name or '?'} · {status}")
        buttons.append((Button(f"#{row.id} · {when}"[:40], payloads.build("staff", "card", row.id)),))
    header = texts.get("staff_bookings_header")
    return Reply(key="text.staff_bookings_header", text="\n".join([header, *lines]), buttons=tuple(buttons))


async def stats_reply(texts: Texts, booking: BookingDesk, handoff: HandoffDesk) -> Reply:
    """Counts for the last 7 and 30 days, from anonymous records (routes and intents, never text)."""
    store = handoff.handoffs
    now = now_utc()
    blocks = []
    for days in STATS_WINDOWS:
        since = now - timedelta(days=days)
        intents = await store.answered_by_intent(since)
        bookings = await booking.bookings.count_by_status(since)
        safety = await store.safety_by_label(since)
        blocks.append(
            texts.get(
                "staff_stats",
                days=str(days),
                people=str(await store.people_helped(since)),
                intents=listing(intents, total=True),
                fallbacks=str(await store.route_count(since, "fallback")),
                bookings=listing(sorted(bookings.items())),
                safety=listing(sorted(safety.items())),
                handoffs=str(await store.opened_since(since)),
            )
        )
    aside = await OutboxStore(store.store).set_aside_summary()
    if aside.total and aside.oldest is not None:
        # Messages the outbox gave up on (a booking card among them is a request staff never saw).
        blocks.append(
            texts.get(
                "staff_stats_set_aside", count=str(aside.total), kinds=listing(list(aside.by_kind)),
                since=format_when(aside.oldest, booking.zone),
            )
        )
    return Reply(key="text.staff_stats", text="\n\n".join(blocks))


async def unanswered_reply(texts: Texts, handoff: HandoffDesk) -> Reply:
    since = now_utc() - timedelta(days=UNANSWERED_DAYS)
    top = await handoff.handoffs.top_unanswered(since)
    if not top:
        return texts.reply("staff_unanswered_none", days=str(UNANSWERED_DAYS))
    header = texts.get("staff_unanswered_header", days=str(UNANSWERED_DAYS))
    lines = [f"• {count}× ({people} 👤) {text}" for text, count, people in top]
    return Reply(key="text.staff_unanswered_header", text="\n".join([header, *lines]))


def listing(pairs: list[tuple[str, int]], *, total: bool = False) -> str:
    """"rebuild_trust 5, red_flags 3" (with the sum first when asked), or "0"."""
    if not pairs:
        return "0"
    body = ", ".join(f"{name} {count}" for name, count in pairs)
    return f"{sum(count for _, count in pairs)} ({body})" if total else body
