"""What is said outside a person's own turn: the outbox, in the engine's terms.

Kept apart from the routing (`core.py`): a queued message (`Delivery`) is addressed to a person
or to the staff (about a person, or no one), and what the outbox row keeps of a `Reply` is plain
JSON (`reply_to_dict` / `reply_from_dict`). Channels drain it (`due_deliveries`, then
`delivery_done` / `delivery_failed` / `delivery_faulted` / `delivery_set_aside`). `Engine`
takes these methods as a base class (`EngineOutbox`), so features still call `engine.tell_person`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime

from bot.engine.replies import Button, Reply
from bot.storage.outbox_store import OutboxStore
from bot.storage.store import Store

# The engine's log lines keep one logger name, wherever in the engine they are written.
log = logging.getLogger("bot.engine.core")


@dataclass(frozen=True)
class Delivery:
    """A queued message, addressed in the engine's terms; where that is, is the channel's to know.

    person: the person it is for; None: it is for the centre's staff.
    about: for the staff, the person it is about (their conversation with the staff: see
    `bot.engine.staff_channel`); None: the staff in general.
    """

    id: int
    reply: Reply
    person: int | None = None
    about: int | None = None
    kind: str = "message"
    # When it was queued: a late reply to a person is dropped once stale (bot/telegram/late.py).
    created_at: datetime | None = None
    # Tries that failed for a reason other than Telegram being down; too many and it is set aside.
    faults: int = 0

    @property
    def for_staff(self) -> bool:
        return self.person is None

    @property
    def user_id(self) -> int | None:
        """The person it concerns: whom it is for, or (for the staff) whom it is about."""
        return self.person if self.person is not None else self.about


def outbox_payload(reply: Reply, kind: str) -> dict:
    """What the outbox keeps of a queued message (its row's `payload`), read back by `Engine.due_deliveries`."""
    return {"kind": kind, "reply": reply_to_dict(reply)}


def reply_to_dict(reply: Reply) -> dict:
    return {
        "key": reply.key,
        "text": reply.text,
        "buttons": [[{"label": b.label, "payload": b.payload, "url": b.url} for b in row] for row in reply.buttons],
        **({"request_contact": True} if reply.request_contact else {}),
        **({"language": reply.language} if reply.language != "en" else {}),
    }


def reply_from_dict(data: dict) -> Reply:
    return Reply(
        key=str(data.get("key", "")),
        text=str(data.get("text", "")),
        buttons=tuple(
            tuple(Button(label=b["label"], payload=b.get("payload", ""), url=b.get("url")) for b in row)
            for row in data.get("buttons", [])
        ),
        request_contact=bool(data.get("request_contact", False)),
        language=str(data.get("language") or "en"),
    )


class EngineOutbox:
    """The outbox part of `Engine` (`self.store` is the engine's store)."""

    store: Store

    async def tell_person(self, user_id: int, reply: Reply, *, kind: str = "message") -> int:
        """Queue a message for a person outside their own turn (a staff answer, a booking update, a late reply).

        Delivered, retried and kept in order by the channel's outbox drain; returns the delivery's id.
        """
        return await self.store.enqueue(outbox_payload(reply, kind), person=user_id)

    async def tell_staff(self, reply: Reply, *, kind: str, about: int | None = None) -> int:
        """Queue a message for the centre's staff; returns the delivery's id.

        about: the person it concerns (the channel may post it in their conversation with the
        staff, so that replies to it reach them); None: for the staff in general.
        """
        return await self.store.enqueue(outbox_payload(reply, kind), person=None, about=about)

    async def due_deliveries(self, limit: int = 20) -> list[Delivery]:
        """What is due, in order; a row that cannot be read is set aside, never left at the head of the queue."""
        rows = await self.store.due_outbox(limit)
        deliveries = []
        for row in rows:
            try:
                data = json.loads(row["payload"])
                # A row without a person's chat is for the staff (rows queued before `tell_staff` read the same).
                person = row["chat_id"]
                delivery = Delivery(
                    id=int(row["id"]), reply=reply_from_dict(data.get("reply", {})),
                    person=person, about=row["user_id"] if person is None else None,
                    kind=str(data.get("kind", "message")),
                    created_at=datetime.fromisoformat(row["created_at"]), faults=int(row["faults"]),
                )
            except (ValueError, KeyError, TypeError, AttributeError) as error:
                log.warning("outbox delivery=%s unreadable error=%s; set aside", row["id"], type(error).__name__)
                await OutboxStore(self.store).set_aside(int(row["id"]), "unreadable")
                continue
            deliveries.append(delivery)
        return deliveries

    async def delivery_done(self, delivery_id: int) -> None:
        await self.store.outbox_done(delivery_id)

    async def delivery_failed(self, delivery_id: int, retry_in_seconds: float) -> None:
        await self.store.outbox_failed(delivery_id, retry_in_seconds)

    async def delivery_faulted(self, delivery_id: int, retry_in_seconds: float, fault: str) -> None:
        """A try failed for a reason other than Telegram being down (`fault`: the error's type name)."""
        await OutboxStore(self.store).fault(delivery_id, retry_in_seconds, fault)

    async def delivery_set_aside(self, delivery_id: int, fault: str) -> None:
        """Give up on a delivery that kept failing: reported in doctor and /stats, no longer holding anything up."""
        await OutboxStore(self.store).set_aside(delivery_id, fault)
