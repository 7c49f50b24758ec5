"""The centre's bookable times, from content/availability.yaml, and the centre's clock.

Pure functions only: weekly hours are wall-clock times in the centre's time zone, turned
into UTC instants with `zoneinfo` day by day, so a slot at 10:00 stays at 10:00 local
across a daylight-saving change. Times that do not exist locally (the spring-forward gap)
are skipped; a repeated hour (autumn) is offered once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.catalog.loader import Catalog
from bot.catalog.models import WeeklyHours
from bot.errors import ContentError

Who = Literal["individual", "couple"]
Mode = Literal["online", "in_person"]
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")


def parse_range(text: str) -> tuple[int, int]:
    """"10:00-13:30" -> (600, 810) minutes after midnight; ValueError when malformed or empty."""
    match = _RANGE.match(text.strip())
    if match is None:
        raise ValueError(f"'{text}' is not a time range like 10:00-13:00")
    start = int(match.group(1)) * 60 + int(match.group(2))
    end = int(match.group(3)) * 60 + int(match.group(4))
    if end > 24 * 60 or end <= start:
        raise ValueError(f"'{text}' ends before it starts")
    return start, end


def _check_hours(hours: WeeklyHours) -> WeeklyHours:
    for day in WEEKDAYS:
        for item in getattr(hours, day):
            parse_range(item)
    return hours


class Therapist(BaseModel):
    """One bookable therapist: who they see, how, and when (centre time)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,23}$")
    name: str = Field(min_length=1, max_length=60)
    sessions: list[Who] = Field(default_factory=lambda: ["individual", "couple"], min_length=1)
    modes: list[Mode] = Field(default_factory=lambda: ["online", "in_person"], min_length=1)
    hours: WeeklyHours

    @field_validator("hours")
    @classmethod
    def _ranges_parse(cls, hours: WeeklyHours) -> WeeklyHours:
        return _check_hours(hours)


class Availability(BaseModel):
    """The `availability:` section: session length, how slots are offered, the therapists."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    session_minutes: int = Field(default=50, ge=15, le=240)
    slot_minutes: int = Field(default=60, ge=15, le=240)
    min_notice_hours: int = Field(default=12, ge=0, le=24 * 14)
    days_ahead: int = Field(default=28, ge=1, le=120)
    days_per_page: int = Field(default=3, ge=1, le=7)
    max_slots_per_day: int = Field(default=4, ge=1, le=12)
    hold_minutes: int = Field(default=15, ge=2, le=120)
    therapists: list[Therapist] = Field(default_factory=list)

    def therapist(self, therapist_id: str | None) -> Therapist | None:
        return next((t for t in self.therapists if t.id == therapist_id), None)


@dataclass(frozen=True)
class Slot:
    """A bookable start time (UTC) and the therapists free then, in content order."""

    start: datetime
    end: datetime
    therapists: tuple[str, ...]


@dataclass(frozen=True)
class SlotPage:
    """The slots of a few days, and the first day of the next page (None when there is none)."""

    days: tuple[tuple[date, tuple[Slot, ...]], ...]
    next_day: date | None

    @property
    def slots(self) -> list[Slot]:
        return [slot for _, slots in self.days for slot in slots]


def load_availability(catalog: Catalog) -> Availability:
    """Validate the raw `availability:` section; ContentError names the file and the field."""
    raw = dict(catalog.availability)
    where = catalog.where.get("availability", "content/availability.yaml")
    try:
        return Availability.model_validate(raw)
    except ValidationError as error:
        problems = [
            f"{where}: availability.{'.'.join(str(p) for p in item['loc'])}: {item['msg']}" for item in error.errors()
        ]
        raise ContentError(problems) from error


def availability_problems(catalog: Catalog) -> list[str]:
    """What `python -m bot check` should report about availability and the centre's time zone."""
    problems: list[str] = []
    try:
        centre_zone(catalog)
    except ContentError as error:
        problems.extend(error.problems)
    try:
        _check_hours(catalog.centre.staff_hours)
    except ValueError as error:
        problems.append(f"{catalog.where.get('centre', 'content/centre.yaml')}: centre.staff_hours: {error}")
    try:
        load_availability(catalog)
    except ContentError as error:
        problems.extend(error.problems)
    return problems


def centre_zone(catalog: Catalog) -> ZoneInfo:
    """The centre's time zone; an unknown name is a content error, not a silent UTC."""
    try:
        return ZoneInfo(catalog.centre.timezone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        where = catalog.where.get("centre", "content/centre.yaml")
        raise ContentError([f"{where}: centre.timezone: unknown time zone '{catalog.centre.timezone}'"]) from error


def local_instant(day: date, minute: int, zone: ZoneInfo) -> datetime | None:
    """The UTC instant of wall time `minute` on `day` in `zone`, or None if that time never happens there."""
    if minute >= 24 * 60:
        return None
    wall = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone)
    moment = wall.astimezone(timezone.utc)
    back = moment.astimezone(zone)
    if (back.hour, back.minute, back.date()) != (wall.hour, wall.minute, day):
        return None
    return moment


def ranges_of(hours: WeeklyHours, day: date) -> list[tuple[int, int]]:
    """The opening ranges of `day`'s weekday, in minutes after midnight."""
    return [parse_range(item) for item in getattr(hours, WEEKDAYS[day.weekday()])]


def day_slots(
    availability: Availability, zone: ZoneInfo, day: date, *, who: str, mode: str, earliest: datetime,
    taken: set[tuple[str, str]],
) -> list[Slot]:
    """The free slots of one local day for this kind of session, earliest first."""
    length = timedelta(minutes=availability.session_minutes)
    free: dict[datetime, list[str]] = {}
    for therapist in availability.therapists:
        if who not in therapist.sessions or mode not in therapist.modes:
            continue
        for start_minute, end_minute in ranges_of(therapist.hours, day):
            minute = start_minute
            while minute + availability.session_minutes <= end_minute:
                start = local_instant(day, minute, zone)
                minute += availability.slot_minutes
                if start is None or start < earliest:
                    continue
                if (therapist.id, utc_text(start)) in taken:
                    continue
                free.setdefault(start, []).append(therapist.id)
    ordered = sorted(free.items())[: availability.max_slots_per_day]
    return [Slot(start=start, end=start + length, therapists=tuple(ids)) for start, ids in ordered]


def slot_page(
    availability: Availability, zone: ZoneInfo, now: datetime, *, who: str, mode: str,
    taken: Iterable[tuple[str, str]], from_day: date | None = None,
) -> SlotPage:
    """The next `days_per_page` days that have a free slot, starting at `from_day` (local)."""
    earliest = now + timedelta(hours=availability.min_notice_hours)
    first = earliest.astimezone(zone).date()
    last = now.astimezone(zone).date() + timedelta(days=availability.days_ahead)
    day = max(first, from_day) if from_day else first
    taken_set = set(taken)
    days: list[tuple[date, tuple[Slot, ...]]] = []
    while day <= last:
        slots = day_slots(availability, zone, day, who=who, mode=mode, earliest=earliest, taken=taken_set)
        if slots:
            if len(days) == availability.days_per_page:
                return SlotPage(days=tuple(days), next_day=day)
            days.append((day, tuple(slots)))
        day += timedelta(days=1)
    return SlotPage(days=tuple(days), next_day=None)


def find_slot(
    availability: Availability, zone: ZoneInfo, now: datetime, start: datetime, *, who: str, mode: str,
    taken: Iterable[tuple[str, str]],
) -> Slot | None:
    """The offered slot starting at `start`, if it is (still) a real, free slot; guards stale or forged buttons."""
    earliest = now + timedelta(hours=availability.min_notice_hours)
    last = now.astimezone(zone).date() + timedelta(days=availability.days_ahead)
    day = start.astimezone(zone).date()
    if day > last:
        return None
    # The page shows only the first slots of a day; a later one is still valid (staff may propose it).
    wide = availability.model_copy(update={"max_slots_per_day": 1000})
    slots = day_slots(wide, zone, day, who=who, mode=mode, earliest=earliest, taken=set(taken))
    return next((slot for slot in slots if slot.start == start), None)


def utc_text(moment: datetime) -> str:
    """The stored form of an instant (same as the Store's `iso`)."""
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")


def from_utc_text(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(timezone.utc)


def day_before(start: datetime, zone: ZoneInfo) -> datetime:
    """The same wall-clock time on the previous local day (not simply 24 hours earlier)."""
    local = start.astimezone(zone)
    previous = local.date() - timedelta(days=1)
    wall = datetime.combine(previous, local.time().replace(tzinfo=None), tzinfo=zone)
    return wall.astimezone(timezone.utc)


@dataclass(frozen=True)
class CalendarWords:
    """Short weekday (Monday first) and month names, from content, so dates read in the person's language."""

    days: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    months: tuple[str, ...] = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

    @classmethod
    def of(cls, days: str, months: str) -> CalendarWords:
        """From two space-separated content texts; anything malformed keeps the English names."""
        day_names, month_names = tuple(days.split()), tuple(months.split())
        default = cls()
        return cls(
            days=day_names if len(day_names) == 7 else default.days,
            months=month_names if len(month_names) == 12 else default.months,
        )


ENGLISH_CALENDAR: Final = CalendarWords()


def format_when(moment: datetime, zone: ZoneInfo, words: CalendarWords = ENGLISH_CALENDAR) -> str:
    """"Tue 14 Jan, 10:00" in the centre's zone."""
    local = moment.astimezone(zone)
    return f"{format_day(local.date(), words)}, {local:%H:%M}"


def format_time(moment: datetime, zone: ZoneInfo) -> str:
    return f"{moment.astimezone(zone):%H:%M}"


def format_day(day: date, words: CalendarWords = ENGLISH_CALENDAR) -> str:
    return f"{words.days[day.weekday()]} {day.day} {words.months[day.month - 1]}"


def staff_open_now(hours: WeeklyHours, zone: ZoneInfo, now: datetime) -> bool:
    """Whether `now` falls inside the centre's staff hours."""
    local = now.astimezone(zone)
    minute = local.hour * 60 + local.minute
    return any(start <= minute < end for start, end in ranges_of(hours, local.date()))


def next_staff_opening(hours: WeeklyHours, zone: ZoneInfo, now: datetime, horizon_days: int = 8) -> datetime | None:
    """When the staff are next in (a UTC instant), or None if no hours are set."""
    local_day = now.astimezone(zone).date()
    for offset in range(horizon_days):
        day = local_day + timedelta(days=offset)
        for start, _ in sorted(ranges_of(hours, day)):
            moment = local_instant(day, start, zone)
            if moment is not None and moment > now:
                return moment
    return None
