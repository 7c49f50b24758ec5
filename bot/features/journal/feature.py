"""The private journal: reflections a person chose to save, listed, charted, deletable.

A declared feature (`bot/app.py`): it owns the payload kinds `journal` (the list, also
/journal) and `jr` (`jr:save`, `jr:open:<id>`, `jr:del:<id>`, `jr:dely:<id>`), and erases
its entries on /forget. Saving is the person's explicit choice per entry
(the button is the consent). Entry words are sealed with Fernet when
DATA_ENCRYPTION_KEY is set (the engine's one `Sealer`; `bot/app.py` has the store check
at open that the key is the one the stored words were sealed with, `bot.engine.key_check`),
so the database file never holds them in clear.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Final, Literal
from zoneinfo import ZoneInfo

from bot.engine import payloads
from bot.engine.availability import ENGLISH_CALENDAR, CalendarWords, centre_zone
from bot.engine.features import FeatureBase
from bot.engine.payloads import Payload
from bot.engine.replies import Button, Incoming, Reply
from bot.engine.session import Session
from bot.storage.connection import now_utc
from bot.storage.journal_store import JournalRow, JournalStore

if TYPE_CHECKING:
    from bot.engine.core import Engine

log = logging.getLogger(__name__)

LIST_LIMIT: Final = 8
TREND_LIMIT: Final = 12
TREND_MIN_ENTRIES: Final = 3
SPARK: Final = {1: "▁", 2: "▃", 3: "▄", 4: "▆", 5: "█"}
Trend = Literal["eased", "grew", "steady"]
# A free entry in the person's own words (content/flows/journal_entry.yaml).
WRITE_PAYLOAD: Final = "flow:journal_entry"


# --- pure view helpers ---------------------------------------------------------------------


def short_date(
    created_at: str, zone: ZoneInfo | timezone, *, year: bool = True, words: CalendarWords = ENGLISH_CALENDAR
) -> str:
    """"12 Mar 2025" in the centre's time zone, month names from content (locale-independent)."""
    try:
        moment = datetime.fromisoformat(created_at)
    except ValueError:
        return created_at[:10]
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    local = moment.astimezone(zone)
    month = words.months[local.month - 1]
    return f"{local.day} {month} {local.year}" if year else f"{local.day} {month}"


def intensity_dots(intensity: int | None, none_mark: str) -> str:
    if intensity is None or not 1 <= intensity <= 5:
        return none_mark
    return f"{'●' * intensity}{'○' * (5 - intensity)} {intensity}/5"


def sparkline(values: Sequence[int]) -> str:
    return "".join(SPARK.get(value, "·") for value in values)


def trend_of(values: Sequence[int]) -> Trend:
    """Compare the first third with the last third: a change of a whole point counts."""
    third = max(1, len(values) // 3)
    first = sum(values[:third]) / third
    last = sum(values[-third:]) / third
    if last - first <= -1:
        return "eased"
    if last - first >= 1:
        return "grew"
    return "steady"


def feelings_text(data: dict[str, Any] | None, and_word: str) -> str:
    feelings = [str(f) for f in (data or {}).get("feelings", []) if str(f).strip()]
    if len(feelings) <= 1:
        return "".join(feelings)
    return f"{', '.join(feelings[:-1])} {and_word} {feelings[-1]}"


def entry_title(data: dict[str, Any] | None) -> str:
    """What a free entry (no feelings picked) is listed as: its flow's title."""
    return str((data or {}).get("title") or "").strip()


def parse_entry_id(raw: str) -> int | None:
    return int(raw) if raw.isdigit() and len(raw) <= 12 else None


# --- the actions -----------------------------------------------------------------------------


class Journal(FeatureBase):
    """The journal feature of one engine: its buttons, /journal, and its part of /forget."""

    name = "journal"
    kinds = frozenset({"journal", "jr"})

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.texts = engine.texts
        self.rows = JournalStore(engine.store)
        self.sealer = engine.sealer
        self.zone = centre_zone(engine.catalog)

    async def on_payload(self, session: Session, payload: Payload, incoming: Incoming) -> list[Reply]:
        """`journal` (the list) or `jr:...` (an entry's buttons)."""
        if payload.kind == "jr":
            return await self.on_jr(session, payload, incoming)
        return await self.on_journal(session, payload, incoming)

    async def on_journal(self, session: Session, payload: Payload, incoming: Incoming) -> list[Reply]:
        """`journal` (/journal): the latest entries, and the trend once there are a few."""
        if payload.args:
            return self._expired()
        rows = await self.rows.latest(incoming.user_id, TREND_LIMIT)
        write = (self.texts.button("journal_write_label", WRITE_PAYLOAD),)
        if not rows:
            buttons = (write, (self.texts.button("journal_reflect_label", "flow:reflection"),))
            return [self.texts.reply("journal_empty", buttons)]
        total = await self.rows.count(incoming.user_id)
        shown = rows[:LIST_LIMIT]
        and_word = self.texts.get("flow_word_and")
        none_mark = self.texts.get("journal_no_intensity")
        lines = []
        for number, row in enumerate(shown, start=1):
            data = self.sealer.unseal(row.body)
            feelings = feelings_text(data, and_word) or entry_title(data) or none_mark
            lines.append(f"{number}. {short_date(row.created_at, self.zone, words=self.calendar())} · {feelings} · {intensity_dots(row.intensity, none_mark)}")
        text = self.texts.get("journal_intro") + "\n\n" + "\n".join(lines)
        if total > len(shown):
            text += "\n\n" + self.texts.get("journal_older_note")
        open_buttons = [
            Button(f"📖 {number} · {short_date(row.created_at, self.zone, year=False, words=self.calendar())}", payloads.build("jr", "open", row.id))
            for number, row in enumerate(shown, start=1)
        ]
        rows_of_buttons = tuple(tuple(open_buttons[i:i + 2]) for i in range(0, len(open_buttons), 2))
        replies = [Reply(key="journal.list", text=text)]
        trend = self._trend(rows)
        if trend is not None:
            replies.append(trend)
        last = replies[-1]
        replies[-1] = Reply(key=last.key, text=last.text, buttons=(*rows_of_buttons, write))
        return replies


    def calendar(self) -> CalendarWords:
        """Month names in the person's language."""
        return CalendarWords.of(self.texts.get("calendar_days"), self.texts.get("calendar_months"))
    def _trend(self, rows: Sequence[JournalRow]) -> Reply | None:
        """How the intensity changed, oldest to latest, in words and a one-line chart."""
        dated = [(row.created_at, row.intensity) for row in reversed(rows) if row.intensity in SPARK]
        if len(dated) < TREND_MIN_ENTRIES:
            return None
        values = [intensity for _, intensity in dated if intensity is not None]
        key = f"journal_trend_{trend_of(values)}"
        first, last = short_date(dated[0][0], self.zone, year=False, words=self.calendar()), short_date(dated[-1][0], self.zone, year=False, words=self.calendar())
        chart = f"{first} {sparkline(values)} {last}\n{self.texts.get('journal_chart_legend')}"
        return Reply(key=f"text.{key}", text=f"{self.texts.get(key)}\n\n{chart}")

    async def on_jr(self, session: Session, payload: Payload, incoming: Incoming) -> list[Reply]:
        """`jr:save`, `jr:open:<id>`, `jr:del:<id>` (asks), `jr:dely:<id>` (deletes)."""
        action = payload.arg(0)
        if action == "save" and len(payload.args) == 1:
            return await self._save(session, incoming.user_id)
        entry_id = parse_entry_id(payload.arg(1)) if len(payload.args) == 2 else None
        if entry_id is None:
            return self._expired()
        if action == "open":
            return await self._open(incoming.user_id, entry_id)
        if action == "del":
            if await self.rows.get(incoming.user_id, entry_id) is None:
                return self._expired()
            buttons = (
                (self.texts.button("journal_delete_yes_label", payloads.build("jr", "dely", entry_id)),),
                (self.texts.button("journal_delete_no_label", "journal"),),
            )
            return [self.texts.reply("journal_delete_confirm", buttons)]
        if action == "dely":
            if not await self.rows.delete(incoming.user_id, entry_id):
                return self._expired()
            log.info("journal entry deleted user=%s", self.engine.user_hash(incoming.user_id))
            return [self.texts.reply("journal_deleted", ((self.texts.button("journal_back_label", "journal"),),))]
        return self._expired()

    async def _save(self, session: Session, user_id: int) -> list[Reply]:
        flows = self.engine.flows
        draft = flows.journal_draft(session)
        if draft is None:
            return [self.texts.reply("journal_nothing_to_save", self.texts.menu())]
        open_journal = ((self.texts.button("journal_open_label", "journal"),),)
        if flows.already_saved(session):
            return [self.texts.reply("journal_already_saved", open_journal)]
        body = self.sealer.seal(
            {"flow": draft.flow_id, "title": draft.title, "feelings": list(draft.feelings), "text": draft.text}
        )
        await self.rows.add(user_id, now_utc(), draft.intensity, body)
        flows.mark_saved(session)
        log.info("journal entry saved user=%s flow=%s", self.engine.user_hash(user_id), draft.flow_id)
        return [self.texts.reply("journal_saved", open_journal)]

    async def _open(self, user_id: int, entry_id: int) -> list[Reply]:
        row = await self.rows.get(user_id, entry_id)
        if row is None:
            return self._expired()
        data = self.sealer.unseal(row.body)
        none_mark = self.texts.get("journal_no_intensity")
        header = f"{short_date(row.created_at, self.zone, words=self.calendar())} · {str((data or {}).get('title', ''))}".rstrip(" ·")
        feelings = feelings_text(data, self.texts.get("flow_word_and")) or none_mark
        body = str(data.get("text", "")) if data else self.texts.get("journal_unreadable")
        text = f"{header}\n{feelings} · {intensity_dots(row.intensity, none_mark)}\n\n{body}"
        buttons = (
            (self.texts.button("journal_delete_label", payloads.build("jr", "del", row.id)),),
            (self.texts.button("journal_back_label", "journal"),),
        )
        return [Reply(key="journal.entry", text=text, buttons=buttons)]

    def _expired(self) -> list[Reply]:
        return [self.texts.reply("button_expired", self.texts.menu())]

    async def on_housekeeping(self, now: datetime) -> dict[str, int]:
        """Entries older than RETENTION_DAYS."""
        return {"journal entries": await purge_old_journal_entries(self.engine, now)}

    async def on_forget(self, user_id: int) -> dict[str, int]:
        """/forget: every journal entry of this person."""
        return {"journal entries": await self.rows.delete_all(user_id)}


async def purge_old_journal_entries(engine: Engine, now: datetime | None = None) -> int:
    """Delete entries older than `engine.options.retention_days` (0 or less keeps them); returns how many."""
    days = engine.options.retention_days
    if days <= 0:
        return 0
    cutoff = (now or now_utc()) - timedelta(days=days)
    deleted = await JournalStore(engine.store).delete_older_than(cutoff)
    log.info("journal retention purge deleted=%d older_than_days=%d", deleted, days)
    return deleted
