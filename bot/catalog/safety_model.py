"""The safety lexicon as content (intents/safety.yaml): phrases a content editor can add to.

The phrases are written in a small grammar so an editor never writes a regular expression,
and so the lexicon is validated (unknown group, unbalanced bracket) at start-up, naming the
pattern id:

    i [want to|wish to] die          alternatives; an empty one ([really|]) makes them optional
    {self}                           a named group of phrases from `groups:`
    threw ... at me                  up to three words of anything in between
    kill*                            a word and any ending: kill, kills, killed, killing
    i want to jump $                 the end of a sentence (or of the message)

Phrases match the detector's normalised text: lower case, contractions expanded
("don't" -> "do not", "he'll" -> "he will"), so they are written that way too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SafetyLabel = Literal["crisis", "unsafe_at_home"]

GAP_WORDS = 3
_TOKEN = re.compile(r"\{[a-z_]+\}|\.\.\.|[\[\]|$]|[a-z0-9\u0900-\u097f]+\*?|\S")
_ID = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)*$")
# After each word: a space, then maybe a comma that the normaliser kept as its own token.
_SEP = r" (?:, )?"
_WORD_TAIL = r"[^ |,]*"
_GAP = rf"(?:[^ |,]+{_SEP}){{0,{GAP_WORDS}}}"
_END = r"(?=[|,] |$)"


class PhraseError(ValueError):
    """A phrase that does not follow the grammar; the message says what and where."""


def _tokens(phrase: str) -> list[str]:
    return _TOKEN.findall(phrase.strip().lower())


class _Compiler:
    """Recursive-descent translation of one phrase into a regular expression body."""

    def __init__(self, groups: Mapping[str, list[str]], stack: tuple[str, ...] = ()) -> None:
        self.groups = groups
        self.stack = stack
        self.words: set[str] = set()

    def compile(self, phrase: str) -> str:
        tokens = _tokens(phrase)
        if not tokens:
            raise PhraseError("empty phrase")
        body, rest = self._sequence(tokens, 0, phrase)
        if rest != len(tokens):
            raise PhraseError(f"unexpected '{tokens[rest]}' in '{phrase}'")
        return body

    def _sequence(self, tokens: list[str], i: int, phrase: str) -> tuple[str, int]:
        parts: list[str] = []
        while i < len(tokens) and tokens[i] not in "|]":
            part, i = self._item(tokens, i, phrase)
            parts.append(part)
        return "".join(parts), i

    def _item(self, tokens: list[str], i: int, phrase: str) -> tuple[str, int]:
        token = tokens[i]
        if token == "[":
            options: list[str] = []
            i += 1
            while True:
                option, i = self._sequence(tokens, i, phrase)
                options.append(option)
                if i >= len(tokens):
                    raise PhraseError(f"'[' without ']' in '{phrase}'")
                if tokens[i] == "]":
                    return "(?:" + "|".join(options) + ")", i + 1
                i += 1  # a '|'
        if token.startswith("{"):
            return self._group(token[1:-1], phrase), i + 1
        if token == "...":
            return _GAP, i + 1
        if token == "$":
            return _END, i + 1
        if token.endswith("*"):
            self.words.add(token[:-1])
            return re.escape(token[:-1]) + _WORD_TAIL + _SEP, i + 1
        if re.fullmatch(r"[a-z0-9\u0900-\u097f]+", token):
            self.words.add(token)
            return re.escape(token) + _SEP, i + 1
        raise PhraseError(f"'{token}' is not allowed in '{phrase}' (write words as the normaliser leaves them: 'do not', no apostrophes)")

    def _group(self, name: str, phrase: str) -> str:
        if name not in self.groups:
            raise PhraseError(f"unknown group '{{{name}}}' in '{phrase}'")
        if name in self.stack:
            raise PhraseError(f"group '{{{name}}}' refers to itself")
        inner = _Compiler(self.groups, self.stack + (name,))
        body = "(?:" + "|".join(inner.compile(item) for item in self.groups[name]) + ")"
        self.words |= inner.words
        return body


def phrase_regex(phrase: str, groups: Mapping[str, list[str]]) -> tuple[str, set[str]]:
    """The regular expression for one phrase, anchored at a word start, and the words it names."""
    compiler = _Compiler(groups)
    body = compiler.compile(phrase)
    return r"(?:^|(?<= ))" + body, compiler.words


class SafetyPattern(BaseModel):
    """One thing a person in danger may write, under an id stored with each safety event.

    negatable: "not"/"never" just before the phrase cancels it ("I'm not going to hurt myself");
      false for phrases whose meaning already includes the negation.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    label: SafetyLabel
    note: str = ""
    negatable: bool = True
    phrases: list[str] = Field(min_length=1)

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError(f"pattern id '{value}' must be lower-case words joined by '.' or '_'")
        return value


class SafetyIdiom(BaseModel):
    """Hyperbole or an idiom ("this is killing me") removed before the patterns are tried.

    unless_near: phrases that, within a few words of the idiom, mean it is meant literally
      ("scared", "he said"); the idiom is then left in place for the patterns to see.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    note: str = ""
    phrases: list[str] = Field(min_length=1)
    unless_near: list[str] = Field(default_factory=list)


class SafetyLexicon(BaseModel):
    """Everything the safety detector knows about words; the logic lives in `bot.nlu.safety`.

    groups: named lists of phrases used as {name} inside patterns and idioms.
    spellings: one typed token -> what it stands for ("kms" -> "kill myself", "dont" -> "do not").
    fuzzy_words: long, distinctive words corrected when typed one or two letters off ("suicidel").
    not_typos: real words never "corrected" into a fuzzy word ("overdone" is not "overdose").
    negators: phrases that, just before a pattern, cancel it ("not", "never", "no intention of").
    negation_bridges: words allowed between a negator and the pattern ("not *going to* hurt").
    care_despite_negation: words after a negated crisis phrase that bring the care back
      ("I'd never kill myself, *but*...").
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    groups: dict[str, list[str]] = Field(default_factory=dict)
    spellings: dict[str, str] = Field(default_factory=dict)
    fuzzy_words: list[str] = Field(default_factory=list)
    not_typos: list[str] = Field(default_factory=list)
    negators: list[str] = Field(default_factory=list)
    negation_bridges: list[str] = Field(default_factory=list)
    care_despite_negation: list[str] = Field(default_factory=list)
    idioms: list[SafetyIdiom] = Field(default_factory=list)
    patterns: list[SafetyPattern] = Field(default_factory=list)

    @model_validator(mode="after")
    def _phrases_compile(self) -> SafetyLexicon:
        problems: list[str] = []
        seen: set[str] = set()
        for kind, item_id, phrase in self.all_phrases():
            try:
                phrase_regex(phrase, self.groups)
            except PhraseError as error:
                problems.append(f"{kind} '{item_id}': {error}")
        for pattern in self.patterns:
            if pattern.id in seen:
                problems.append(f"pattern id '{pattern.id}' is used twice")
            seen.add(pattern.id)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def all_phrases(self) -> Iterator[tuple[str, str, str]]:
        """(kind, id, phrase) for every phrase in the lexicon, for validation and vocabulary."""
        for name, items in self.groups.items():
            for phrase in items:
                yield "group", name, phrase
        for idiom in self.idioms:
            for phrase in [*idiom.phrases, *idiom.unless_near]:
                yield "idiom", idiom.id, phrase
        for pattern in self.patterns:
            for phrase in pattern.phrases:
                yield "pattern", pattern.id, phrase
