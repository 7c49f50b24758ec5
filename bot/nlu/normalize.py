"""Turn what people type on a phone into comparable tokens.

The steps, in order: clean (Unicode NFKC, casefold, apostrophes joined, punctuation and
emoji dropped, letter runs like "sooo" shortened) -> optional typo correction against the
words the intents themselves use -> slang expansion ("bf" -> "boyfriend") -> concept
groups ("boyfriend" -> "partner") -> optional light stemming. Each step was kept because
it measurably helped the matcher (see `bot.nlu.matcher`). Everything here is pure and
deterministic.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from bot.catalog.vocabulary_model import Vocabulary

_APOSTROPHES = str.maketrans("", "", "'’‘`´ʼ")
_LETTER_RUNS = re.compile(r"(\D)\1{2,}")
_SPACES = re.compile(r"\s+")

Phrases = Mapping[tuple[str, ...], tuple[str, ...]]


def _keep(char: str) -> str:
    """Letters, digits and combining marks stay (so Hindi in Devanagari survives); the rest is a space."""
    return char if unicodedata.category(char)[0] in "LNM" else " "


def clean(text: str) -> str:
    """Unicode-normalise, casefold, drop punctuation and emoji, and collapse whitespace.

    Apostrophes are removed rather than spaced so "don't" and "dont" meet; a run of three
    or more of the same letter becomes one ("sooo" -> "so", "hiii" -> "hi").
    """
    text = unicodedata.normalize("NFKC", text).casefold().translate(_APOSTROPHES)
    text = "".join(_keep(char) for char in text)
    text = _LETTER_RUNS.sub(r"\1", text)
    return _SPACES.sub(" ", text).strip()


def _phrase_table(pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, ...], tuple[str, ...]]:
    """Map each cleaned source phrase to the tokens that replace it."""
    table: dict[tuple[str, ...], tuple[str, ...]] = {}
    for source, target in pairs:
        key = tuple(clean(source).split())
        if key:
            table[key] = tuple(clean(target).split())
    return table


def replace_phrases(tokens: Sequence[str], table: Phrases, longest: int) -> list[str]:
    """Replace phrases greedily, longest first, left to right ("micro cheating" before "cheating")."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        for size in range(min(longest, len(tokens) - i), 0, -1):
            replacement = table.get(tuple(tokens[i : i + size]))
            if replacement is not None:
                out.extend(replacement)
                i += size
                break
        else:
            out.append(tokens[i])
            i += 1
    return out


@dataclass(frozen=True)
class Expander:
    """Slang and concept tables built once from a Vocabulary."""

    slang: Phrases
    slang_longest: int
    concepts: Phrases
    concepts_longest: int
    stopwords: frozenset[str]
    groups: frozenset[str]
    unstemmed: frozenset[str]

    @classmethod
    def from_vocabulary(cls, vocabulary: Vocabulary) -> Expander:
        """Precompute the phrase tables (slang keys and concept words may span several words)."""
        slang = _phrase_table(vocabulary.slang.items())
        concepts = _phrase_table(
            (word, group) for group, words in vocabulary.concepts.items() for word in [group, *words]
        )
        stopwords = frozenset(t for word in vocabulary.stopwords for t in clean(word).split())
        groups = frozenset(clean(group) for group in vocabulary.concepts)
        return cls(
            slang=slang,
            slang_longest=max((len(k) for k in slang), default=1),
            concepts=concepts,
            concepts_longest=max((len(k) for k in concepts), default=1),
            stopwords=stopwords,
            groups=groups,
            unstemmed=groups | stopwords,
        )

    def known_words(self) -> frozenset[str]:
        """Every word the vocabulary itself mentions: never "corrected" into something else."""
        words: set[str] = set(self.stopwords)
        for table in (self.slang, self.concepts):
            for key, value in table.items():
                words.update(key)
                words.update(value)
        return frozenset(words)

    def expand(self, tokens: Sequence[str]) -> list[str]:
        """Slang first (its output may name a concept word), then concept groups."""
        tokens = replace_phrases(tokens, self.slang, self.slang_longest)
        return replace_phrases(tokens, self.concepts, self.concepts_longest)


class TypoCorrector:
    """Word-level typo correction against a fixed list of known words (the intents' own).

    Without an English dictionary, a word the intents never use may be a typo ("somone")
    or a real word of another topic ("cooking", "cheap"). Measured on both kinds, these
    rules keep most real typos and leave most real words alone: only words of
    `min_length` letters or more, the same first letter, one edit (two for long words),
    and short words only for the typos phones make most, a dropped letter or two swapped
    ones (a changed or extra letter in a short word is usually another real word).
    Ties go to the more frequent known word, then alphabetical order: deterministic.
    """

    def __init__(
        self,
        frequencies: Mapping[str, int],
        min_length: int = 5,
        long_word: int = 7,
        cache_size: int = 8192,
    ) -> None:
        self._frequencies = dict(frequencies)
        self._min_length = min_length
        self._long_word = long_word
        self._by_start: dict[tuple[str, int], list[str]] = {}
        for word in sorted(self._frequencies):
            self._by_start.setdefault((word[:1], len(word)), []).append(word)
        self.correct: Callable[[str], str] = lru_cache(maxsize=cache_size)(self._correct)

    def _plausible(self, token: str, word: str) -> bool:
        """Whether `token` looks like a slip of the thumb for `word` rather than another word."""
        if len(token) >= self._long_word:
            return True
        if len(token) < len(word):
            return True
        return len(token) == len(word) and sorted(token) == sorted(word)

    def _correct(self, token: str) -> str:
        """The closest known word, or the token itself when nothing is close enough."""
        if token in self._frequencies or len(token) < self._min_length or not token.isalpha():
            return token
        max_edits = 2 if len(token) >= 10 else 1
        choices = [
            word
            for size in range(len(token) - max_edits, len(token) + max_edits + 1)
            for word in self._by_start.get((token[0], size), ())
        ]
        found = process.extract(
            token,
            choices,
            scorer=DamerauLevenshtein.distance,
            processor=None,
            score_cutoff=max_edits,
            limit=None,
        )
        plausible = [hit for hit in found if self._plausible(token, hit[0])]
        if not plausible:
            return token
        best = min(plausible, key=lambda hit: (hit[1], -self._frequencies[hit[0]], hit[0]))
        return best[0]

    def correct_all(self, tokens: Iterable[str]) -> list[str]:
        """Correct each token independently."""
        return [self.correct(token) for token in tokens]


_VOWELS = frozenset("aeiouy")


@lru_cache(maxsize=8192)
def stem(token: str) -> str:
    """A light suffix stripper so "texted", "texting" and "texts" meet; not linguistics.

    Words of three letters or fewer and anything with a digit are left alone. Both sides
    of a comparison go through the same function, so odd stems ("delet") still match.
    """
    if len(token) <= 3 or not token.isalpha():
        return token
    word = token
    if len(word) > 4 and word.endswith("ies"):
        word = word[:-3] + "y"
    elif len(word) > 4 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix in ("ingly", "edly", "ing", "ed", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and _VOWELS & set(word[: -len(suffix)]):
            word = word[: -len(suffix)]
            break
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
        word = word[:-1]
    if len(word) > 3 and word.endswith("e"):
        word = word[:-1]
    return word


def tokens(
    text: str,
    expander: Expander,
    corrector: TypoCorrector | None = None,
    stemming: bool = False,
) -> list[str]:
    """Clean, optionally correct typos, then expand slang and concepts; returns the tokens.

    With `stemming`, words that are not concept names are reduced to a light stem.
    """
    raw = clean(text).split()
    if corrector is not None:
        raw = corrector.correct_all(raw)
    expanded = expander.expand(raw)
    if stemming:
        return [t if t in expander.unstemmed else stem(t) for t in expanded]
    return expanded


_EXPANDERS: dict[int, tuple[Vocabulary, Expander]] = {}


def expander_for(vocabulary: Vocabulary) -> Expander:
    """A cached Expander for this vocabulary object (the object is kept, so its id stays unique)."""
    cached = _EXPANDERS.get(id(vocabulary))
    if cached is not None and cached[0] is vocabulary:
        return cached[1]
    if len(_EXPANDERS) >= 8:
        _EXPANDERS.clear()
    expander = Expander.from_vocabulary(vocabulary)
    _EXPANDERS[id(vocabulary)] = (vocabulary, expander)
    return expander


def normalize(text: str, vocabulary: Vocabulary) -> str:
    """The canonical form of a message: cleaned, slang expanded, concept words named by group."""
    return " ".join(tokens(text, expander_for(vocabulary)))
