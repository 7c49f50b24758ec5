"""The safety lexicon as content (intents/safety.yaml): phrases a content editor can add to.

The phrases are written in a small grammar so an editor never writes a regular expression,
and so the lexicon is validated (unknown group, unbalanced bracket) at start-up, naming the
pattern id:

    i [want to|wish to] die          alternatives; an empty one ([really|]) makes them optional
    {self}                           a named group of phrases from `groups:`
    threw ... at me                  up to three words of anything in between
    kill*                            a word and any ending: kill, kills, killed, killing
    i want to jump $                 the end of a sentence (or of the message)
    sorry for everything / goodbye   a sentence break may stand here ("... everything. goodbye")

Phrases match the detector's normalised text: lower case, contractions expanded
("don't" -> "do not", "he'll" -> "he will"), so they are written that way too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SafetyLabel = Literal["crisis", "unsafe_at_home"]

GAP_WORDS = 3
_TOKEN = re.compile(r"\{[a-z_]+\}|\.\.\.|[\[\]|$/]|[a-z0-9\u0900-\u097f]+\*?|\S")
_ID = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)*$")
# After each word: a space, then maybe a comma that the normaliser kept as its own token.
_SEP = r" (?:, )?"
_WORD_TAIL = r"[^ |,]*"
_GAP = rf"(?:[^ |,]+{_SEP}){{0,{GAP_WORDS}}}"
_END = r"(?=[|,] |$)"
_WORD = re.compile(r"[a-z0-9\u0900-\u097f]+")
_BREAK = r"(?:[|,] )?"


class PhraseError(ValueError):
    """A phrase that does not follow the grammar; the message says what and where."""


@dataclass(frozen=True)
class Phrase:
    """A phrase compiled: its regular expression (to match at a word start) and how it can begin.

    firsts / stems: the words (or word beginnings, from "kill*") it can start with, so the
    detector only tries it where one of them stands; anywhere: it may start with any word.
    words: every word it names (the vocabulary the typo fixer must not "correct").
    """

    regex: str
    firsts: frozenset[str] = frozenset()
    stems: frozenset[str] = frozenset()
    anywhere: bool = False
    nullable: bool = False
    words: frozenset[str] = frozenset()


_EMPTY = Phrase("", nullable=True)


def _then(first: Phrase, second: Phrase) -> Phrase:
    """Two parts one after the other."""
    return Phrase(
        regex=first.regex + second.regex,
        firsts=first.firsts | second.firsts if first.nullable else first.firsts,
        stems=first.stems | second.stems if first.nullable else first.stems,
        anywhere=first.anywhere or (first.nullable and second.anywhere),
        nullable=first.nullable and second.nullable,
        words=first.words | second.words,
    )


def _either(options: list[Phrase]) -> Phrase:
    """One of the options; the longest regex first, so a match covers as much as it can."""
    ordered = sorted(options, key=lambda option: len(option.regex), reverse=True)
    return Phrase(
        regex="(?:" + "|".join(option.regex for option in ordered) + ")",
        firsts=frozenset().union(*(option.firsts for option in options)),
        stems=frozenset().union(*(option.stems for option in options)),
        anywhere=any(option.anywhere for option in options),
        nullable=any(option.nullable for option in options),
        words=frozenset().union(*(option.words for option in options)),
    )


def _tokens(phrase: str) -> list[str]:
    return _TOKEN.findall(phrase.strip().lower())


class PhraseCompiler:
    """Recursive-descent translation of phrases into `Phrase`s; groups are compiled once."""

    def __init__(self, groups: Mapping[str, list[str]]) -> None:
        self.groups = groups
        self.done: dict[str, Phrase] = {}
        self.stack: list[str] = []

    def compile(self, phrase: str) -> Phrase:
        """The phrase compiled; PhraseError when it breaks the grammar or could match nothing."""
        part = self._whole(phrase)
        if part.nullable:
            raise PhraseError(f"'{phrase}' can match nothing at all: give it at least one word that is not optional")
        return part

    def _whole(self, phrase: str) -> Phrase:
        tokens = _tokens(phrase)
        if not tokens:
            raise PhraseError("empty phrase")
        part, rest = self._sequence(tokens, 0, phrase)
        if rest != len(tokens):
            raise PhraseError(f"unexpected '{tokens[rest]}' in '{phrase}'")
        return part

    def _sequence(self, tokens: list[str], i: int, phrase: str) -> tuple[Phrase, int]:
        part = _EMPTY
        while i < len(tokens) and tokens[i] not in ("|", "]"):
            item, i = self._item(tokens, i, phrase)
            part = _then(part, item)
        return part, i

    def _item(self, tokens: list[str], i: int, phrase: str) -> tuple[Phrase, int]:
        token = tokens[i]
        if token == "[":
            options: list[Phrase] = []
            i += 1
            while True:
                option, i = self._sequence(tokens, i, phrase)
                options.append(option)
                if i >= len(tokens):
                    raise PhraseError(f"'[' without ']' in '{phrase}'")
                if tokens[i] == "]":
                    return _either(options), i + 1
                i += 1  # a '|'
        if token.startswith("{"):
            return self._group(token[1:-1], phrase), i + 1
        if token == "...":
            return Phrase(_GAP, anywhere=True, nullable=True), i + 1
        if token == "$":
            return Phrase(_END, nullable=True), i + 1
        if token == "/":
            return Phrase(_BREAK, nullable=True), i + 1
        if token.endswith("*") and _WORD.fullmatch(token[:-1]):
            stem = token[:-1]
            return Phrase(re.escape(stem) + _WORD_TAIL + _SEP, stems=frozenset({stem}), words=frozenset({stem})), i + 1
        if _WORD.fullmatch(token):
            return Phrase(re.escape(token) + _SEP, firsts=frozenset({token}), words=frozenset({token})), i + 1
        raise PhraseError(f"'{token}' is not allowed in '{phrase}' (write words as the normaliser leaves them: 'do not', no apostrophes)")

    def _group(self, name: str, phrase: str) -> Phrase:
        if name not in self.groups:
            raise PhraseError(f"unknown group '{{{name}}}' in '{phrase}'")
        if name in self.stack:
            raise PhraseError(f"group '{{{name}}}' refers to itself")
        if name not in self.done:
            self.stack.append(name)
            try:
                self.done[name] = _either([self._whole(item) for item in self.groups[name]])
            finally:
                self.stack.pop()
        return self.done[name]


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
    care_despite_negation: phrases that, right after a negated crisis phrase, bring the care
      back on their own ("I won't hurt myself *tonight*", "...*yet*", "...*unless* he leaves").
    care_turns / care_hints: a turn ("but") followed by a hint that the thought is still there
      brings it back too ("I'd never kill myself, *but sometimes* I wish..."); a turn alone does
      not ("I'm not going to hurt myself over him, but it hurts").
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    groups: dict[str, list[str]] = Field(default_factory=dict)
    spellings: dict[str, str] = Field(default_factory=dict)
    fuzzy_words: list[str] = Field(default_factory=list)
    not_typos: list[str] = Field(default_factory=list)
    negators: list[str] = Field(default_factory=list)
    negation_bridges: list[str] = Field(default_factory=list)
    care_despite_negation: list[str] = Field(default_factory=list)
    care_turns: list[str] = Field(default_factory=list)
    care_hints: list[str] = Field(default_factory=list)
    idioms: list[SafetyIdiom] = Field(default_factory=list)
    patterns: list[SafetyPattern] = Field(default_factory=list)

    @model_validator(mode="after")
    def _phrases_compile(self) -> SafetyLexicon:
        problems: list[str] = []
        seen: set[str] = set()
        compiler = PhraseCompiler(self.groups)
        for kind, item_id, phrase in self.all_phrases():
            try:
                compiler.compile(phrase)
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
        """(kind, id, phrase) for every phrase written in the grammar, so validation can name it."""
        for name, items in self.groups.items():
            for phrase in items:
                yield "group", name, phrase
        for idiom in self.idioms:
            for phrase in [*idiom.phrases, *idiom.unless_near]:
                yield "idiom", idiom.id, phrase
        for pattern in self.patterns:
            for phrase in pattern.phrases:
                yield "pattern", pattern.id, phrase
        for phrase in [*self.care_despite_negation, *self.care_hints]:
            yield "care", "care_despite_negation/care_hints", phrase
