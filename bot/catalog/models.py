"""Pydantic models of every YAML file in intents/ and content/.

A YAML file is a mapping of known sections (`intents`, `answers`, `texts`, ...);
the loader merges the sections of all files. Unknown keys are errors, so a typo in
a content file is reported with its file and line instead of silently ignored.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

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


# A topic id ends up in a button payload ("answer:about_the_centre:<id>", at most 48 bytes).
TOPIC_ID_PATTERN = r"^[a-z][a-z0-9_]{0,19}$"


class CentreTopic(_Strict):
    """A practical question under "About the centre" (fees, location, ...) with its own short answer.

    The answer is the text `centre_<id>` (its button: `centre_<id>_label`), then `fact` on a line
    of its own. fact: the centre's own words, shown exactly as written; a shipped value says
    plainly that it is a placeholder. fact_in: the same in `hinglish` / `hi` once the centre writes
    it (otherwise `fact` is shown). words: lower-case words or short phrases, in any language,
    that pick this topic from a message about the centre.
    """

    fact: str | None = Field(default=None, min_length=1, max_length=1000)
    fact_in: dict[Literal["hinglish", "hi"], str] = Field(default_factory=dict)
    words: list[str] = Field(min_length=1)

    @field_validator("words")
    @classmethod
    def _plain_words(cls, words: list[str]) -> list[str]:
        for word in words:
            if not word.strip():
                raise ValueError("a word is empty")
        return words

    @model_validator(mode="after")
    def _fact_first(self) -> CentreTopic:
        if self.fact_in and self.fact is None:
            raise ValueError("fact_in needs a `fact` in English first")
        return self


class Centre(_Strict):
    """Facts about the centre. The shipped values are placeholders the centre fills in.

    topics: the practical questions under "About the centre", in the order their buttons show.
    """

    name: str
    about: str
    address: str
    website: str
    phone: str
    email: str
    timezone: str = "Asia/Kolkata"
    staff_hours: WeeklyHours = Field(default_factory=WeeklyHours)
    staff_hours_text: str
    topics: dict[str, CentreTopic] = Field(default_factory=dict)

    @field_validator("topics")
    @classmethod
    def _distinct_topics(cls, topics: dict[str, CentreTopic]) -> dict[str, CentreTopic]:
        owner: dict[str, str] = {}
        for topic_id, topic in topics.items():
            if not re.fullmatch(TOPIC_ID_PATTERN, topic_id):
                raise ValueError(f"topic id '{topic_id}': use lower-case letters, digits and _ (at most 20)")
            for word in topic.words:
                key = " ".join(word.casefold().split())
                if owner.setdefault(key, topic_id) != topic_id:
                    raise ValueError(f"the word '{word}' is in both '{owner[key]}' and '{topic_id}'")
        return topics


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
