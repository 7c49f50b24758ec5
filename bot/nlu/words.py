"""Word-level help for the normaliser: light stems (English, and Hindi's endings) and typo
correction against the intents' own words, including the vowel-less spellings of SMS Hinglish.

Pure and deterministic; the caches only remember answers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

_INNER_VOWELS = re.compile(r"(?<=.)[aeiou]")
_MIN_CONSONANTS = 3


def _consonants(word: str) -> str:
    """The word without its inner vowels ("matlab" -> "mtlb"): what SMS Hinglish keeps."""
    return _INNER_VOWELS.sub("", word)


def _drops_vowels(word: str, token: str) -> bool:
    """Whether `token` is `word` with some inner vowels left out: same first and last letter
    ("skte" of "sakte", "mtlb" of "matlab"; not "sham" of "shame")."""
    if len(token) >= len(word) or token[0] != word[0] or token[-1] != word[-1]:
        return False
    position = 0
    for char in word:
        if position < len(token) and char == token[position]:
            position += 1
        elif char not in "aeiou":
            return False
    return position == len(token)


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
        self._by_consonants: dict[str, list[str]] = {}
        for word in sorted(self._frequencies, key=lambda w: (-self._frequencies[w], w)):
            key = _consonants(word)
            if len(key) >= _MIN_CONSONANTS and word.isalpha():
                self._by_consonants.setdefault(key, []).append(word)
        self.correct: Callable[[str], str] = lru_cache(maxsize=cache_size)(self._correct)
        self.correct_hinglish: Callable[[str], str] = lru_cache(maxsize=cache_size)(self._correct_hinglish)

    def _correct_hinglish(self, token: str) -> str:
        """Inside a Hindi message: a word typed without some of its vowels, as SMS Hinglish does
        ("mtlb", "skte", "hmsha"), becomes the known word it shortens (the most frequent one, and
        only one at least as frequent as the short form itself, which examples may use too);
        any other word goes through the usual rules."""
        if not token.isalpha():
            return token
        seen = self._frequencies.get(token, 0)
        for word in self._by_consonants.get(_consonants(token), ()):
            if _drops_vowels(word, token) and self._frequencies[word] >= seen:
                return word
        return self._correct(token)

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


_HINDI_PLURALS = ("iyon", "iyan", "iyaan", "yon", "yan", "ein", "on", "en")


@lru_cache(maxsize=8192)
def hindi_stem(token: str) -> str:
    """Inside a Hindi message: the light English stem, then Hindi's gender and number endings
    ("karta", "karti", "karte" -> "kart"; "baatein", "baaton" -> "baat"). Short words stay."""
    word = stem(token)
    if len(word) <= 3 or not word.isalpha():
        return word
    for suffix in _HINDI_PLURALS:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    if word[-1] in "aiou" and len(word) >= 4:
        return word[:-1]
    return word
