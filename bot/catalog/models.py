"""Pydantic models of every YAML file in intents/ and content/.

A YAML file is a mapping of known sections (`intents`, `answers`, `texts`, ...);
the loader merges the sections of all files. Unknown keys are errors, so a typo in
a content file is reported with its file and line instead of silently ignored.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.catalog.hindi_model import HindiSpelling
from bot.catalog.safety_model import SafetyLexicon
from bot.catalog.vocabulary_model import Vocabulary

MAX_LABEL_CHARS = 40
MAX_MESSAGE_CHARS = 3500


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ButtonSpec(_Strict):
    """A button in content: what it says and where it leads (see `bot.engine.payloads`)."""

    label: str = Field(min_length=1, max_length=MAX_LABEL_CHARS)
    goto: str = Field(min_length=1, max_length=48)


class Answer(_Strict):
    """The answer to one intent: messages sent in order, optional "tell me more", next steps.

    title: the short label used when the bot offers this topic as a choice ("Did you mean…").
    """

    title: str | None = Field(default=None, max_length=MAX_LABEL_CHARS)
    messages: list[str] = Field(min_length=1)
    more: list[str] = Field(default_factory=list)
    buttons: list[ButtonSpec] = Field(default_factory=list)

    @field_validator("messages", "more")
    @classmethod
    def _chat_sized(cls, messages: list[str]) -> list[str]:
        for message in messages:
            if not message.strip():
                raise ValueError("a message is empty")
            if len(message) > MAX_MESSAGE_CHARS:
                raise ValueError(f"a message has {len(message)} characters; keep it under {MAX_MESSAGE_CHARS}")
        return messages


class IntentSpec(_Strict):
    """One intent: its id (from the catalogue) and how people phrase it."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    examples: list[str] = Field(min_length=1)


class CrisisLine(_Strict):
    """A verified helpline; `source` says where the number was checked (never ship one without).

    what_in: what the line is for, in the other languages the bot speaks (`hinglish`, `hi`).
    """

    name: str
    number: str
    what: str
    source: str
    what_in: dict[str, str] = Field(default_factory=dict)


class CountryLines(_Strict):
    """The lines of one country: for a crisis (suicide, self-harm) and for danger at home."""

    country: str
    emergency: str
    crisis: list[CrisisLine] = Field(min_length=1)
    unsafe_at_home: list[CrisisLine] = Field(min_length=1)


class CrisisLines(_Strict):
    """Lines per country code, the default country, and the international fallback text."""

    default_country: str
    countries: dict[str, CountryLines]
    international: list[str] = Field(min_length=1)
    international_in: dict[str, list[str]] = Field(default_factory=dict)


class WeeklyHours(_Strict):
    """Opening hours per weekday (mon..sun), each a list of "HH:MM-HH:MM" ranges."""

    mon: list[str] = Field(default_factory=list)
    tue: list[str] = Field(default_factory=list)
    wed: list[str] = Field(default_factory=list)
    thu: list[str] = Field(default_factory=list)
    fri: list[str] = Field(default_factory=list)
    sat: list[str] = Field(default_factory=list)
    sun: list[str] = Field(default_factory=list)


class Centre(_Strict):
    """Facts about the centre. The shipped values are placeholders the centre fills in."""

    name: str
    about: str
    address: str
    website: str
    phone: str
    email: str
    timezone: str = "Asia/Kolkata"
    staff_hours: WeeklyHours = Field(default_factory=WeeklyHours)
    staff_hours_text: str


class ContentFile(_Strict):
    """Every section a YAML file in intents/ or content/ may hold."""

    intents: list[IntentSpec] | None = None
    vocabulary: Vocabulary | None = None
    safety: SafetyLexicon | None = None
    answers: dict[str, Answer] | None = None
    texts: dict[str, str] | None = None
    menus: dict[str, list[list[ButtonSpec]]] | None = None
    centre: Centre | None = None
    crisis_lines: CrisisLines | None = None
    flow: dict | None = None
    availability: dict | None = None
    hindi_spelling: HindiSpelling | None = None


class TranslationFile(_Strict):
    """A file under content/i18n/<language>/: the same keys as the English content, in that language.

    reviewed: set to true once the centre has read the translation; `doctor` lists files still false.
    """

    reviewed: bool = False
    texts: dict[str, str] | None = None
    answers: dict[str, Answer] | None = None
    menus: dict[str, list[list[ButtonSpec]]] | None = None
    # A whole flow in this language: the same id, steps, option ids and gotos as the English one.
    flow: dict | None = None
