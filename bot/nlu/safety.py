"""The safety check: does this message speak of suicide, self-harm, or danger at home?

It runs on every incoming text before anything else. The phrases are content
(intents/safety.yaml, `SafetyLexicon`); this module holds the logic, in order:

1. normalise: lower case, contractions expanded ("can't" -> "can not"), sentence ends kept as
   "|" (commas as ","), spellings and slang from the lexicon ("kms" -> "kill myself"),
   letter runs shortened ("diiiie" -> "die"), and long distinctive words corrected when typed
   a letter or two off ("suicidel" -> "suicidal");
2. remove idioms and hyperbole ("this is killing me", "she'd kill me if she found out"),
   unless a word nearby says it is meant literally ("I'm scared he'd kill me if he found out");
3. try the patterns whose first word stands in the message; a match right after a negator
   ("I'm not going to hurt myself") does not count, unless the denial leaves the door open:
   "...yet", "...unless he leaves", "...tonight", or "but" followed by a hint the thought is
   still there ("I'd never kill myself, but sometimes I wish..."). People minimise, and a
   false alarm costs far less than a missed crisis;
4. crisis wins over unsafe_at_home, unless the crisis words are the tail of an unsafe phrase
   ("he threatens to kill himself if I leave" is coercion).

Pure and deterministic: regular expressions are compiled once in `from_lexicon`, and checking
a message takes a fraction of a millisecond.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Final

import yaml
from pydantic import ValidationError
from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.catalog.safety_model import Phrase, PhraseCompiler, SafetyLabel, SafetyLexicon
from bot.errors import ContentError
from bot.nlu.normalize import LETTER_RUNS, TextForm

BOUNDARY: Final = "|"
SOFT_BOUNDARY: Final = ","
NEGATION_REACH: Final = 5  # words between a negator and the phrase it cancels ("not really going to ever")
IDIOM_CONTEXT_BEFORE: Final = 6
IDIOM_CONTEXT_AFTER: Final = 8
FUZZY_MIN_LENGTH: Final = 6
FUZZY_LONG_WORD: Final = 9  # from this length two typos are forgiven, below it one
DESPITE_NEGATION: Final = "+despite_negation"
CARE_REACH: Final = 4  # "...yet", "...tonight" count right after the denial, not at the far end of the message

_QUOTES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "ʼ": "'", "′": "'"})
_CONTRACTIONS: Final = (
    (re.compile(r"\bcan'?t\b"), "can not"),
    (re.compile(r"\bwon't\b"), "will not"),
    (re.compile(r"\bain't\b"), "is not"),
    (re.compile(r"\bcannot\b"), "can not"),
    (re.compile(r"n't\b"), " not"),
    (re.compile(r"'ll\b"), " will"),
    (re.compile(r"'d\b"), " would"),
    (re.compile(r"'m\b"), " am"),
    (re.compile(r"'re\b"), " are"),
    (re.compile(r"'ve\b"), " have"),
    (re.compile(r"\b(he|she|it|that|what|there|who|where|here|life|everyone|everything|nobody|someone)'s\b"), r"\1 is"),
)
_JOINERS = str.maketrans("", "", "'*")  # "k*ll" -> "kll", "dont" and "don't" meet
_HARD_STOPS = re.compile(r"[.!?;:\n\r()\[\]{}\"“”«»¿¡]+")
_ELLIPSIS = re.compile(r"\.{2,}|…")


@dataclass(frozen=True)
class SafetyVerdict:
    """The safety check fired: which label, and the id of the pattern (never the person's words)."""

    label: SafetyLabel
    pattern: str


@dataclass(frozen=True)
class _Pattern:
    """What the detector needs of a lexicon pattern once its phrases are filed in the index."""

    id: str
    label: SafetyLabel
    negatable: bool


@dataclass(frozen=True)
class _Hit:
    label: SafetyLabel
    pattern: str
    order: int
    start: int
    end: int


@dataclass(frozen=True)
class _Index:
    """Compiled phrases filed under the words they can start with, so a message of twenty words
    tries a handful of phrases instead of all of them. Each entry is (owner's number, regex)."""

    by_word: Mapping[str, tuple[tuple[int, re.Pattern[str]], ...]]
    by_stem: tuple[tuple[str, tuple[tuple[int, re.Pattern[str]], ...]], ...]
    anywhere: tuple[tuple[int, re.Pattern[str]], ...]

    @classmethod
    def build(cls, owned: list[tuple[int, Phrase]]) -> _Index:
        by_word: dict[str, list[tuple[int, re.Pattern[str]]]] = {}
        by_stem: dict[str, list[tuple[int, re.Pattern[str]]]] = {}
        anywhere: list[tuple[int, re.Pattern[str]]] = []
        for owner, phrase in owned:
            entry = (owner, re.compile(phrase.regex))
            if phrase.anywhere:
                anywhere.append(entry)
                continue
            for word in phrase.firsts:
                by_word.setdefault(word, []).append(entry)
            for stem in phrase.stems:
                by_stem.setdefault(stem, []).append(entry)
        return cls(
            by_word={word: tuple(entries) for word, entries in by_word.items()},
            by_stem=tuple((stem, tuple(entries)) for stem, entries in by_stem.items()),
            anywhere=tuple(anywhere),
        )

    def matches(self, tokens: list[str], joined: str, starts: list[int]) -> Iterator[tuple[int, int, re.Match[str]]]:
        """(owner, first token, match) for every phrase matching at a word of the message."""
        for index, token in enumerate(tokens):
            if token in (BOUNDARY, SOFT_BOUNDARY):
                continue
            entries = [*self.by_word.get(token, ()), *self.anywhere]
            entries += [entry for stem, stemmed in self.by_stem if token.startswith(stem) for entry in stemmed]
            for owner, regex in entries:
                match = regex.match(joined, starts[index])
                if match is not None:
                    yield owner, index, match


def _sentence_marks(text: str) -> str:
    """The safety check's own step: quotes as "'", contractions expanded, "'" and "*" joined,
    sentence ends as " | ", commas (and an ellipsis) as " , ", dashes and underscores as spaces."""
    text = text.translate(_QUOTES)
    for pattern, replacement in _CONTRACTIONS:
        text = pattern.sub(replacement, text)
    text = text.translate(_JOINERS)
    text = _ELLIPSIS.sub(" , ", text)
    return _HARD_STOPS.sub(" | ", text).replace(",", " , ").replace("-", " ").replace("_", " ")


# The shared base (`bot.nlu.normalize.TextForm`) with the sentence marks kept: emoji and symbols become spaces.
SAFETY: Final = TextForm(rewrite=_sentence_marks, kept=f"{BOUNDARY}{SOFT_BOUNDARY}")


def clean(text: str) -> str:
    """Lower case, contractions expanded, sentence ends as " | ", commas as " , ", the rest words."""
    return SAFETY(text)


def _token_fixer(lexicon: SafetyLexicon, vocabulary: frozenset[str]) -> Callable[[str], tuple[str, ...]]:
    """Per-token spelling: the lexicon's spellings, shortened letter runs, then a fuzzy fix."""
    spellings = {key.lower(): tuple(clean(value).split()) for key, value in lexicon.spellings.items()}
    fuzzy_words = sorted({word.lower() for word in lexicon.fuzzy_words})
    protected = vocabulary | {word.lower() for word in lexicon.not_typos}

    def known(token: str) -> bool:
        return token in protected or token in spellings

    @lru_cache(maxsize=8192)
    def fix(token: str) -> tuple[str, ...]:
        if token in spellings:
            return spellings[token]
        if LETTER_RUNS.search(token):
            two, one = LETTER_RUNS.sub(r"\1\1", token), LETTER_RUNS.sub(r"\1", token)
            token = one if known(one) and not known(two) else two
            if token in spellings:
                return spellings[token]
        if token.endswith("in") and not known(token) and token + "g" in protected:
            return (token + "g",)  # "cuttin" -> "cutting"
        if len(token) < FUZZY_MIN_LENGTH or known(token) or not token.isalpha() or not fuzzy_words:
            return (token,)
        cutoff = 2 if len(token) >= FUZZY_LONG_WORD else 1
        best = process.extractOne(token, fuzzy_words, scorer=OSA.distance, score_cutoff=cutoff)
        if best is not None and best[0][0] == token[0]:
            return (best[0],)
        return (token,)

    return fix


@dataclass(frozen=True)
class SafetyDetector:
    """Decides, for one message, whether the safety answer must replace everything else."""

    patterns: tuple[_Pattern, ...]
    pattern_index: _Index
    idiom_index: _Index
    idiom_unless: tuple[re.Pattern[str] | None, ...]
    negators: tuple[tuple[str, ...], ...]
    bridges: frozenset[str]
    care_alone: re.Pattern[str] | None
    care_turns: frozenset[str]
    care_hints: re.Pattern[str] | None
    fix_token: Callable[[str], tuple[str, ...]]

    @classmethod
    def from_lexicon(cls, lexicon: SafetyLexicon) -> SafetyDetector:
        """Compile the lexicon's phrases once; the lexicon was validated when it was loaded."""
        compiler = PhraseCompiler(lexicon.groups)
        vocabulary: set[str] = set()

        def compiled(phrases: list[str]) -> list[Phrase]:
            parts = [compiler.compile(phrase) for phrase in phrases]
            for part in parts:
                vocabulary.update(part.words)
            return parts

        pattern_phrases = [(order, part) for order, p in enumerate(lexicon.patterns) for part in compiled(p.phrases)]
        idiom_phrases = [(order, part) for order, idiom in enumerate(lexicon.idioms) for part in compiled(idiom.phrases)]

        def searcher(phrases: list[str]) -> re.Pattern[str] | None:
            return re.compile("(?:^|(?<= ))(?:" + "|".join(part.regex for part in compiled(phrases)) + ")") if phrases else None

        unless = tuple(searcher(idiom.unless_near) for idiom in lexicon.idioms)
        small_words = [*lexicon.negators, *lexicon.negation_bridges, *lexicon.care_turns]
        for phrase in [*small_words, *lexicon.spellings.values()]:
            vocabulary.update(clean(phrase).split())
        return cls(
            patterns=tuple(_Pattern(p.id, p.label, p.negatable) for p in lexicon.patterns),
            pattern_index=_Index.build(pattern_phrases),
            idiom_index=_Index.build(idiom_phrases),
            idiom_unless=unless,
            negators=tuple(tuple(clean(n).split()) for n in lexicon.negators if clean(n)),
            bridges=frozenset(clean(b) for b in lexicon.negation_bridges),
            care_alone=searcher(lexicon.care_despite_negation),
            care_turns=frozenset(clean(c) for c in lexicon.care_turns),
            care_hints=searcher(lexicon.care_hints),
            fix_token=_token_fixer(lexicon, frozenset(vocabulary)),
        )

    def normalise(self, text: str) -> list[str]:
        """The message as the patterns see it: a list of tokens, "|" and "," between sentences."""
        tokens: list[str] = []
        for token in clean(text).split():
            tokens.extend((token,) if token in (BOUNDARY, SOFT_BOUNDARY) else self.fix_token(token))
        return tokens

    def check(self, text: str) -> SafetyVerdict | None:
        """The safety verdict for one message, or None when it is safe to answer normally."""
        tokens = self._without_idioms(self.normalise(text))
        if not tokens:
            return None
        joined, starts = _join(tokens)
        hits: list[_Hit] = []
        negated: list[_Hit] = []
        for order, first, match in self.pattern_index.matches(tokens, joined, starts):
            pattern = self.patterns[order]
            hit = _Hit(pattern.label, pattern.id, order, match.start(), match.end())
            negative = pattern.negatable and self._negated(tokens, first)
            (negated if negative else hits).append(hit)
        hits.sort(key=lambda hit: (hit.order, hit.start))
        return _decide(hits) or self._care_despite_negation(negated, tokens, starts)

    def explained_away(self, text: str) -> bool:
        """True when the message holds an idiom or a denial the lexicon knows ("dying to know",
        "not going to hurt myself"): a reason for other signals (the matcher's backstop) to stand down."""
        tokens = self.normalise(text)
        if self._without_idioms(tokens) != tokens:
            return True
        kept = tokens
        joined, starts = _join(kept)
        for order, first, _match in self.pattern_index.matches(kept, joined, starts):
            if self.patterns[order].negatable and self._negated(kept, first):
                return True
        return False

    def _without_idioms(self, tokens: list[str]) -> list[str]:
        """Replace each idiom by a sentence break, unless a word nearby says it is literal."""
        joined, starts = _join(tokens)
        drop: list[tuple[int, int]] = []
        for order, first, match in self.idiom_index.matches(tokens, joined, starts):
            last = bisect_right(starts, match.end() - 1) - 1  # the trailing space belongs to the last word
            unless = self.idiom_unless[order]
            if unless is not None:
                context = " ".join(tokens[max(0, first - IDIOM_CONTEXT_BEFORE) : last + 1 + IDIOM_CONTEXT_AFTER]) + " "
                if unless.search(context):
                    continue
            drop.append((first, last))
        if not drop:
            return tokens
        gone = [False] * len(tokens)
        for first, last in drop:
            for index in range(first, last + 1):
                gone[index] = True
        kept: list[str] = []
        for index, token in enumerate(tokens):
            if not gone[index]:
                kept.append(token)
            elif index == 0 or not gone[index - 1]:
                kept.append(BOUNDARY)
        return kept

    def _negated(self, tokens: list[str], first: int) -> bool:
        """True when a negator stands just before token `first`, perhaps across a few bridge words."""
        index = first - 1
        for _ in range(NEGATION_REACH + 1):
            if index < 0 or tokens[index] in (BOUNDARY, SOFT_BOUNDARY):
                return False
            for negator in self.negators:
                size = len(negator)
                if index + 1 >= size and tuple(tokens[index + 1 - size : index + 1]) == negator:
                    return True
            if tokens[index] not in self.bridges:
                return False
            index -= 1
        return False

    def _care_despite_negation(self, negated: list[_Hit], tokens: list[str], starts: list[int]) -> SafetyVerdict | None:
        """A denied crisis followed by "yet", "unless", or "but" with a hint it is still there: care."""
        for hit in negated:
            if hit.label != "crisis":
                continue
            tail = tokens[bisect_right(starts, hit.end - 1) :]
            turn = next((index for index, token in enumerate(tail) if token in self.care_turns), None)
            after_turn = " ".join(tail[turn + 1 :]) + " " if turn is not None else ""
            if (self.care_alone and self.care_alone.search(" ".join(tail[:CARE_REACH]) + " ")) or (
                self.care_hints and after_turn.strip() and self.care_hints.search(after_turn)
            ):
                return SafetyVerdict("crisis", hit.pattern + DESPITE_NEGATION)
        return None


def _join(tokens: list[str]) -> tuple[str, list[int]]:
    """The tokens as one string with a trailing space (the phrase grammar's shape) and each start."""
    starts: list[int] = []
    offset = 0
    for token in tokens:
        starts.append(offset)
        offset += len(token) + 1
    return " ".join(tokens) + " ", starts


def _decide(hits: list[_Hit]) -> SafetyVerdict | None:
    """Crisis first, unless every crisis phrase is the tail of an unsafe one ("threatens to kill himself")."""
    unsafe = [hit for hit in hits if hit.label == "unsafe_at_home"]
    for hit in hits:
        if hit.label == "crisis" and not any(u.start < hit.start < u.end for u in unsafe):
            return SafetyVerdict("crisis", hit.pattern)
    if unsafe:
        return SafetyVerdict("unsafe_at_home", unsafe[0].pattern)
    return None


def load_safety_lexicon(path: Path) -> SafetyLexicon:
    """Read the `safety:` section of a YAML file (tests and tools; the app uses the catalogue loader)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise ContentError([f"{path}: cannot read the safety lexicon: {error}"]) from error
    if not isinstance(data, dict) or not isinstance(data.get("safety"), dict):
        raise ContentError([f"{path}: expected a top-level 'safety:' mapping"])
    try:
        return SafetyLexicon(**data["safety"])
    except ValidationError as error:
        raise ContentError([f"{path}: safety: {item['msg']}" for item in error.errors()]) from error


