"""Turn what people type on a phone into comparable tokens.

The one base every route reads text with is `TextForm` (Unicode NFKC, case folded, characters
joined or kept, the rest of punctuation and emoji spaced, letter runs optionally shortened,
spaces collapsed); each route is one named form of it: `MATCHER` (here), `HINDI`
(`bot.nlu.hindi.normalise_hindi`, which the safety model reads), `TYPED` (a flow's typed
answers) and `bot.nlu.safety.SAFETY` (with its contractions and sentence marks as its own step). The trained models depend on these forms: a change to one is a retraining.

The matcher's steps, in order: clean (`MATCHER`: apostrophes joined, punctuation and
emoji dropped, letter runs like "sooo" shortened) -> Hindi folded to one form (Devanagari
romanised, Hinglish spellings "nhi"/"nahin"/"नहीं" -> "nahi": `bot.nlu.hindi`, the same
normalisation the safety check uses, so one example covers both scripts) -> optional typo
correction against the words the intents themselves use (never of a Hindi word) -> slang
expansion ("bf" -> "boyfriend"; inside a Hindi message also its own table, where "hi" is the
emphatic ही and not a greeting) -> concept groups ("boyfriend", "pati" -> "partner") ->
optional light stemming. Each step was kept because it measurably helped the matcher (see
`bot.nlu.matcher`). Everything here is pure and deterministic.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from bot.catalog.vocabulary_model import Vocabulary
from bot.nlu.hindi import MIN_HINDI_SHARE, MIN_HINDI_WORDS, HindiNormaliser, default_normaliser
from bot.nlu.language import detect_language
from bot.nlu.words import TypoCorrector, hindi_stem, stem

__all__ = [
    "HINDI", "MATCHER", "TYPED", "Expander", "TextForm", "TypoCorrector", "analyse", "clean",
    "expander_for", "normalize", "replace_phrases", "stem", "tokens",
]

APOSTROPHES: Final = "'’‘`´ʼ"
JOINERS: Final = "\u200c\u200d"  # the zero-width (non-)joiners some Hindi keyboards put inside a word
LETTER_RUNS: Final = re.compile(r"(\D)\1{2,}")  # three or more of one letter: "sooo", "hiii"
_SPACES = re.compile(r"\s+")

Phrases = Mapping[tuple[str, ...], tuple[str, ...]]


@lru_cache(maxsize=8192)
def _is_word_char(char: str) -> bool:
    """Letters, digits and combining marks (so Hindi in Devanagari, with its vowel signs, survives)."""
    return unicodedata.category(char)[0] in "LNM"


@dataclass(frozen=True)
class TextForm:
    """How one route reads raw text; the stages, in order, each named by its option:

    1. Unicode NFKC (`compatible`; full-width letters, ligatures) and case folding;
    2. `joined`: characters removed, so the parts around them meet ("don't" = "dont");
    3. `rewrite`: the route's own step, if it has one (the safety check's contractions and sentence marks);
    4. letters, digits, combining marks and the characters in `kept` stay; the rest becomes a space;
    5. `letter_runs`: a run of three or more of one letter becomes one ("sooo" -> "so");
    6. spaces collapsed, ends trimmed.
    """

    compatible: bool = True
    joined: str = ""
    rewrite: Callable[[str], str] | None = None
    kept: str = ""
    letter_runs: bool = False

    def __call__(self, text: str) -> str:
        text = unicodedata.normalize("NFKC", text).casefold() if self.compatible else text.casefold()
        if self.joined:
            text = text.translate(_removal(self.joined))
        if self.rewrite is not None:
            text = self.rewrite(text)
        kept = self.kept
        text = "".join(char if char in kept or _is_word_char(char) else " " for char in text)
        if self.letter_runs:
            text = LETTER_RUNS.sub(r"\1", text)
        return _SPACES.sub(" ", text).strip()


@lru_cache(maxsize=16)
def _removal(chars: str) -> dict[int, None]:
    return str.maketrans("", "", chars)


# The matcher's words: apostrophes and joiners joined, letter runs shortened.
MATCHER: Final = TextForm(joined=APOSTROPHES + JOINERS, letter_runs=True)
# The Hindi form (`bot.nlu.hindi.normalise_hindi`, the safety model's words): joiners kept inside a word.
HINDI: Final = TextForm(joined=APOSTROPHES, kept=JOINERS)
# A flow's typed answer, compared with button labels: no compatibility forms, apostrophes kept.
TYPED: Final = TextForm(compatible=False, kept="'")


def clean(text: str) -> str:
    """Unicode-normalise, casefold, drop punctuation and emoji, and collapse whitespace (`MATCHER`).

    Apostrophes are removed rather than spaced so "don't" and "dont" meet; a run of three
    or more of the same letter becomes one ("sooo" -> "so", "hiii" -> "hi").
    """
    return MATCHER(text)


def _phrase_table(
    pairs: Iterable[tuple[str, str]], hindi: HindiNormaliser | None
) -> dict[tuple[str, ...], tuple[str, ...]]:
    """Map each source phrase, cleaned and Hindi-folded as messages are (so a key may be written
    in Devanagari or in any Hinglish spelling), to the tokens that replace it."""
    table: dict[tuple[str, ...], tuple[str, ...]] = {}
    for source, target in pairs:
        words = clean(source).split()
        key = tuple(hindi.normalise_tokens(words) if hindi is not None else words)
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


@lru_cache(maxsize=32768)
def _is_hindi(hindi: HindiNormaliser, word: str) -> bool:
    """`HindiNormaliser.is_hindi`, remembered: it is asked for every word of every message."""
    return hindi.is_hindi(word)


@lru_cache(maxsize=8192)
def _fold_text(expander: Expander, text: str) -> tuple[tuple[str, ...], bool]:
    words, hindi = expander.fold(clean(text).split())
    return tuple(words), hindi or detect_language(text) in ("hinglish", "hi")


@dataclass(frozen=True, eq=False)
class Expander:
    """Hindi folding, slang and concept tables built once from a Vocabulary (compared and
    hashed by identity, so a text's Hindi fold can be remembered per expander)."""

    slang: Phrases
    slang_longest: int
    hindi_slang: Phrases
    hindi_slang_longest: int
    concepts: Phrases
    concepts_longest: int
    stopwords: frozenset[str]
    groups: frozenset[str]
    unstemmed: frozenset[str]
    hindi: HindiNormaliser | None = None

    @classmethod
    def from_vocabulary(cls, vocabulary: Vocabulary, hindi: HindiNormaliser | None = None) -> Expander:
        """Precompute the phrase tables (slang keys and concept words may span several words).

        `hindi` defaults to the shipped spelling table (`bot.nlu.hindi.default_normaliser`).
        """
        hindi = hindi or default_normaliser()
        slang = _phrase_table(vocabulary.slang.items(), hindi)
        hindi_slang = _phrase_table(vocabulary.hindi_slang.items(), hindi)
        concepts = _phrase_table(
            ((word, group) for group, words in vocabulary.concepts.items() for word in [group, *words]), hindi
        )
        stopwords = frozenset(hindi.fold(t) for word in vocabulary.stopwords for t in clean(word).split())
        groups = frozenset(clean(group) for group in vocabulary.concepts)
        return cls(
            slang=slang,
            slang_longest=max((len(k) for k in slang), default=1),
            hindi_slang=hindi_slang,
            hindi_slang_longest=max((len(k) for k in hindi_slang), default=1),
            concepts=concepts,
            concepts_longest=max((len(k) for k in concepts), default=1),
            stopwords=stopwords,
            groups=groups,
            unstemmed=groups | stopwords,
            hindi=hindi,
        )

    def known_words(self) -> frozenset[str]:
        """Every word the vocabulary itself mentions: never "corrected" into something else."""
        words: set[str] = set(self.stopwords)
        for table in (self.slang, self.hindi_slang, self.concepts):
            for key, value in table.items():
                words.update(key)
                words.update(value)
        return frozenset(words)

    def fold_text(self, text: str) -> tuple[list[str], bool]:
        """`fold` of the cleaned text, remembered (the matcher asks twice per example); a text is
        Hindi also when `bot.nlu.language.detect_language` says Hinglish or Hindi."""
        words, hindi = _fold_text(self, text)
        return list(words), hindi

    def fold(self, words: Sequence[str]) -> tuple[list[str], bool]:
        """Cleaned words in the one Hindi form (Devanagari romanised, spellings folded, English
        kept), and whether the message is Hindi (in either script) by the normaliser's own rule."""
        if self.hindi is None:
            return list(words), False
        folded = self.hindi.normalise_tokens(words)
        count = sum(1 for word in folded if _is_hindi(self.hindi, word))
        return folded, count >= MIN_HINDI_WORDS and count >= MIN_HINDI_SHARE * len(folded)

    def is_hindi(self, word: str) -> bool:
        """Whether the folded word is a Hindi word the spelling table knows (never typo-corrected)."""
        return self.hindi is not None and _is_hindi(self.hindi, word)


    def expand(self, tokens: Sequence[str], hindi_message: bool = False) -> list[str]:
        """Slang first (its output may name a concept word), then concept groups. Inside a Hindi
        message the Hindi-only slang goes first ("hi" there is ही, not a greeting)."""
        if hindi_message and self.hindi_slang:
            tokens = replace_phrases(tokens, self.hindi_slang, self.hindi_slang_longest)
        tokens = replace_phrases(tokens, self.slang, self.slang_longest)
        return replace_phrases(tokens, self.concepts, self.concepts_longest)


def analyse(
    text: str,
    expander: Expander,
    corrector: TypoCorrector | None = None,
    stemming: bool = False,
    hindi_stemming: bool = True,
    hindi_corrector: TypoCorrector | None = None,
) -> tuple[list[str], bool]:
    """Clean, fold Hindi, optionally correct typos, then expand slang and concepts.

    Returns the tokens and whether the message is written in Hindi (Hinglish or Devanagari by
    `bot.nlu.language.detect_language`, or enough Hindi words by the spelling table's own rule),
    which the matcher uses to pick its examples.
    A Hindi message is corrected by `hindi_corrector` when given (the words of every example),
    any other by `corrector` (the words of the English examples only). Words of the Hindi
    spelling table are never typo-corrected: "karna" is not a slip for "karma".
    With `stemming`, words that are not concept names are reduced to a light stem: Hindi's
    endings too (`hindi_stem`) inside a Hindi message and for words of the spelling table.
    """
    raw, hindi_message = expander.fold_text(text)
    if hindi_message and hindi_corrector is not None:
        corrector = hindi_corrector
    if corrector is not None:
        fix = corrector.correct_hinglish if hindi_message else corrector.correct
        raw = [word if expander.is_hindi(word) else fix(word) for word in raw]
    expanded = expander.expand(raw, hindi_message)
    if not stemming:
        return expanded, hindi_message
    if not hindi_stemming:
        return [t if t in expander.unstemmed else stem(t) for t in expanded], hindi_message
    return [
        t if t in expander.unstemmed else hindi_stem(t) if hindi_message or expander.is_hindi(t) else stem(t)
        for t in expanded
    ], hindi_message


def tokens(
    text: str,
    expander: Expander,
    corrector: TypoCorrector | None = None,
    stemming: bool = False,
    hindi_stemming: bool = True,
) -> list[str]:
    """The tokens of `analyse`, without the language."""
    return analyse(text, expander, corrector, stemming, hindi_stemming)[0]


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
