"""One representation for Hindi, whichever script it is typed in.

People write Hindi in Devanagari ("मैं मरना चाहती हूँ") and in Latin letters, spelt as it comes
("main marna chahti hu", "mai mrna chahti hoon"). Both meet in one loose Latin form here, so a
phrase or an example written once covers both:

1. `romanise`: Devanagari becomes Latin with `indic-transliteration`'s ITRANS scheme, after the
   silent "a" of spoken Hindi is dropped (schwa deletion: "मरना" is "marna", not "marana"), and is
   then simplified to the way Hinglish writers spell (no case, nasal vowels as "n" or nothing:
   "नहीं" -> "nahi", "में" -> "mein"; "ज़हर" -> "zahar");
2. `fold`: each romanised word is folded onto one canonical spelling, from the table in
   intents/hindi_spelling.yaml ("nhi", "nai", "nahin" -> "nahi"; "khtm" -> "khatam") and generic
   rules (doubled vowels, z/j, w/v, ph/f) that only ever land on a Hindi word the table knows;
   long vowels of other words are folded ("maarunga" -> "marunga") unless that makes an English
   word ("raat" stays "raat", never "rat"). English words are never changed; a few that are
   also Hindi spellings ("he", "me") are folded only inside a message that is otherwise Hindi.

Pure and cached: the table is read once, words are memoised.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Final

from pydantic import ValidationError

from bot.catalog.hindi_model import HindiSpelling
from bot.catalog.yaml_lines import load_located_yaml
from bot.errors import ContentError

SPELLING_FILE: Final = Path(__file__).resolve().parents[2] / "intents" / "hindi_spelling.yaml"
MIN_HINDI_WORDS: Final = 2  # a message is "otherwise Hindi" from this many Hindi words...
MIN_HINDI_SHARE: Final = 0.25  # ...making at least this share of its words

_DEVANAGARI_WORD = re.compile(r"[\u0900-\u097f\ua8e0-\ua8ff\u200c\u200d]+")
_VIRAMA: Final = "\u094d"
_NUKTA: Final = "\u093c"
_NASALS: Final = frozenset("\u0901\u0902")  # chandrabindu, anusvara
# ITRANS has no letter for the "English" o and e of loanwords ("कॉल", "ऑफिस"): plain o and e.
_BEFORE_ITRANS = str.maketrans({"\u0949": "\u094b", "\u0911": "\u0913", "\u0945": "\u0947", "\u090d": "\u090f", "\u0904": "\u090f"})

# ITRANS symbol -> loose Latin. Long vowels stay doubled here and are folded afterwards, so
# "रात" can stay "raat" where "rat" would be another (English) word. "~" marks a nasal.
_ITRANS_TO_LATIN: Final = {
    "A": "aa", "I": "ii", "U": "uu", "RRi": "ri", "RRI": "ri", "LLi": "li", "LLI": "li",
    "è": "e", "ò": "o", "M": "~", ".N": "~", "H": "h", ".a": "", "OM": "om", ".c": "",
    "~N": "n", "~n": "n", "Ch": "chh", "T": "t", "Th": "th", "D": "d", "Dh": "dh", "N": "n",
    ".D": "d", ".Dh": "dh", "Sh": "sh", "K": "kh", "G": "g", "q": "k", "Y": "y", "j~n": "gy",
    "La": "la", "Ra": "ra", "|": " ", "||": " ",
}
_ITRANS_TOKENS = re.compile("|".join(re.escape(key) for key in sorted(_ITRANS_TO_LATIN, key=len, reverse=True)))
# A nasal at the end of a word, by the vowel before it: "nahii~" -> "nahii", "me~" -> "mein".
_FINAL_NASAL: Final = (("ii~", "ii"), ("uu~", "uu"), ("i~", "i"), ("u~", "u"), ("ai~", "ain"), ("e~", "ein"), ("o~", "on"), ("a~", "an"))
_NASAL_BEFORE_LABIAL = re.compile(r"~(?=[pbm])")


# An independent vowel right after a/aa/i/ii is heard and written with a "y" before it.
_GLIDE_AFTER: Final = frozenset({"a", "\u093e", "\u093f", "\u0940", "\u0906", "\u0905"})
_GLIDE_VOWELS: Final = {"\u090f": "\u0947", "\u0908": "\u0940", "\u0907": "\u093f"}


def _is_consonant(char: str) -> bool:
    return "\u0915" <= char <= "\u0939" or "\u0958" <= char <= "\u095f"


def _is_vowel_sign(char: str) -> bool:
    return "\u093e" <= char <= "\u094c" or char in "\u0962\u0963"


@dataclass
class _Syllable:
    consonant: str  # "" for an independent vowel
    vowel: str  # a vowel sign, an independent vowel, "a" for the inherent vowel, "" after a virama
    nasal: str = ""


def _syllables(word: str) -> list[_Syllable]:
    """Split a Devanagari word into (consonant, vowel, nasal) units."""
    units: list[_Syllable] = []
    index = 0
    while index < len(word):
        char = word[index]
        index += 1
        if _is_consonant(char):
            consonant = char
            if index < len(word) and word[index] == _NUKTA:
                consonant += _NUKTA
                index += 1
            vowel = "a"
            if index < len(word) and (_is_vowel_sign(word[index]) or word[index] == _VIRAMA):
                vowel = "" if word[index] == _VIRAMA else word[index]
                index += 1
            units.append(_Syllable(consonant, vowel))
        elif char in _NASALS and units:
            units[-1].nasal += char
        elif units and char in "\u0903\u093d":
            units[-1].nasal += char
        elif units and units[-1].vowel in _GLIDE_AFTER and not units[-1].nasal and char in _GLIDE_VOWELS:
            units.append(_Syllable("\u092f", _GLIDE_VOWELS[char]))  # "लिए" -> "liye", "गई" -> "gayi"
        else:
            units.append(_Syllable("", char))
    return units


def _drop_schwas(units: list[_Syllable]) -> None:
    """Hindi's silent "a": at the end of a word of two or more syllables, and between a vowel+consonant
    and a consonant+vowel, scanning from the right ("करना" -> kar-na, "समझना" -> sa-majh-na)."""
    vowels = [index for index, unit in enumerate(units) if unit.vowel]
    last = len(units) - 1
    if len(vowels) >= 2 and units[last].consonant and units[last].vowel == "a" and not units[last].nasal:
        units[last].vowel = ""
    for index in range(last - 1, 0, -1):
        unit, before, after = units[index], units[index - 1], units[index + 1]
        if unit.vowel != "a" or unit.nasal or not unit.consonant:
            continue
        if before.vowel and after.consonant and after.vowel:
            unit.vowel = ""


@cache
def _sanscript():  # noqa: ANN202 - the indic_transliteration.sanscript module
    """indic-transliteration, imported on the first Devanagari word: it reads all its scripts'
    tables when imported (most of a second), which an English-only start-up need not pay."""
    from indic_transliteration import sanscript

    return sanscript


@lru_cache(maxsize=16384)
def _romanise_word(word: str) -> str:
    """One Devanagari word in long-vowel Latin ("रात" -> "raat", "नहीं" -> "nahii")."""
    word = unicodedata.normalize("NFC", word.translate(_BEFORE_ITRANS)).replace("\u200c", "").replace("\u200d", "")
    units = _syllables(word)
    _drop_schwas(units)
    marked = "".join(
        unit.consonant + ("" if unit.vowel == "a" else (_VIRAMA if unit.consonant and not unit.vowel else unit.vowel)) + unit.nasal
        for unit in units
    )
    sanscript = _sanscript()
    itrans = sanscript.transliterate(marked, sanscript.DEVANAGARI, sanscript.ITRANS)
    latin = _ITRANS_TOKENS.sub(lambda match: _ITRANS_TO_LATIN[match.group(0)], itrans).lower()
    latin = _NASAL_BEFORE_LABIAL.sub("m", latin)
    for ending, replacement in _FINAL_NASAL:
        if latin.endswith(ending):
            latin = latin[: -len(ending)] + replacement
            break
    latin = latin.replace("~", "n")
    # A long vowel at the end of a word is written short in Latin: "मारता" -> "maarta", "ही" -> "hi".
    return latin[:-1] if len(latin) > 2 and latin[-2:] in ("aa", "ii", "uu") else latin


def has_devanagari(text: str) -> bool:
    """Whether any Devanagari letter stands in the text."""
    return _DEVANAGARI_WORD.search(text) is not None


@lru_cache(maxsize=65536)
def _skeleton(token: str) -> str:
    """The spelling without the differences Hinglish writers make freely (z/j, w/v, ph/f, doubled
    letters, a final "h" after a vowel): "jindagee" and "zindagi" share the key "jindagi"."""
    key = token.replace("ph", "f").replace("w", "v").replace("z", "j").replace("q", "k")
    key = key.replace("ee", "i").replace("oo", "u")
    key = re.sub(r"(.)\1+", r"\1", key)
    if len(key) > 2 and key.endswith("h") and key[-2] in "aeiou":
        key = key[:-1]
    if key.endswith("ey"):
        key = key[:-1]
    return key


def _collapse_long(token: str) -> str:
    """Doubled vowels to single ones: "maarunga" -> "marunga"."""
    return token.replace("aa", "a").replace("ii", "i").replace("uu", "u")


@dataclass(frozen=True)
class HindiNormaliser:
    """The spelling table, compiled: exact variants, generic-rule keys, English to protect."""

    exact: dict[str, str]
    by_skeleton: dict[str, str]
    english: frozenset[str]
    in_hinglish: dict[str, str]
    hindi_words: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def from_spelling(cls, spelling: HindiSpelling) -> HindiNormaliser:
        exact = {variant: canonical for canonical, variants in spelling.variants.items() for variant in variants}
        canonicals = {*spelling.variants, *spelling.words}
        exact.update({word: word for word in canonicals})
        claims: dict[str, set[str]] = {}
        for spelt, canonical in exact.items():
            claims.setdefault(_skeleton(spelt), set()).add(canonical)
        # A key two words share ("mar" of "mar" and "maar") folds onto neither: die and hit stay apart.
        by_skeleton = {key: next(iter(owners)) for key, owners in claims.items() if len(owners) == 1}
        english = frozenset(spelling.english)
        return cls(
            exact=exact,
            by_skeleton=by_skeleton,
            english=english,
            in_hinglish=dict(spelling.in_hinglish),
            hindi_words=frozenset(word for word in exact if word not in english),
        )

    def __hash__(self) -> int:
        return id(self)

    def fold(self, token: str) -> str:
        """The canonical spelling of one lower-case romanised word (English words come back as they are)."""
        return _fold(self, token)

    def is_hindi(self, token: str) -> bool:
        """Whether the word is a Hindi word of the table, in any of its spellings."""
        return token in self.hindi_words or (token not in self.english and _skeleton(token) in self.by_skeleton)

    def romanise(self, text: str) -> str:
        """Devanagari words as folded Latin; everything else as it was."""
        return _DEVANAGARI_WORD.sub(lambda match: self.fold(_romanise_word(match.group(0))), text)

    def normalise(self, text: str) -> str:
        """The message in the one form: cleaned, romanised, each word folded; English kept."""
        return _normalise(self, text)

    def normalise_tokens(self, tokens: Iterable[str]) -> list[str]:
        """Fold cleaned words (Devanagari romanised), with the Hindi-only folds when the message is Hindi."""
        words = [self.fold(_romanise_word(t)) if _DEVANAGARI_WORD.fullmatch(t) else self.fold(t) for t in tokens]
        hindi = sum(self.is_hindi(word) for word in words)
        if hindi >= MIN_HINDI_WORDS and hindi >= MIN_HINDI_SHARE * len(words):
            words = [self._in_hindi(word) for word in words]
        return words

    def _in_hindi(self, word: str) -> str:
        """Inside a Hindi message: the folds of words that are also English ("he" -> "hai"), and
        "ee"/"oo" read as the long i and u of other words ("kood" -> "kud")."""
        if word in self.in_hinglish:
            return self.in_hinglish[word]
        if word in self.english or word in self.exact or not word.isalpha():
            return word
        folded = word.replace("ee", "i").replace("oo", "u")
        return word if folded in self.english else self.fold(folded)


@lru_cache(maxsize=32768)
def _fold(normaliser: HindiNormaliser, token: str) -> str:
    if token in normaliser.english or not token.isalpha():
        return token
    found = normaliser.exact.get(token)
    if found is not None:
        return found
    found = normaliser.by_skeleton.get(_skeleton(token))
    if found is not None:
        return found
    collapsed = _collapse_long(token)
    return token if collapsed in normaliser.english else collapsed


def clean_text(text: str) -> str:
    """Unicode-normalised, case-folded, apostrophes joined ("don't" = "dont"), punctuation and emoji
    spaced: the shared base's `HINDI` form (`bot.nlu.normalize.TextForm`)."""
    from bot.nlu.normalize import HINDI  # imported here: bot.nlu.normalize builds on this module

    return HINDI(text)


@lru_cache(maxsize=4096)
def _normalise(normaliser: HindiNormaliser, text: str) -> str:
    return " ".join(normaliser.normalise_tokens(clean_text(text).split()))


def load_hindi_spelling(path: Path = SPELLING_FILE) -> HindiSpelling:
    """Read and validate the `hindi_spelling:` section; a problem names the file and line."""
    doc = load_located_yaml(path)
    if not isinstance(doc.data, dict) or not isinstance(doc.data.get("hindi_spelling"), dict):
        raise ContentError([f"{path}:1: expected a top-level 'hindi_spelling:' mapping"])
    try:
        return HindiSpelling.model_validate(doc.data["hindi_spelling"])
    except ValidationError as error:
        raise ContentError(
            [f"{doc.where(('hindi_spelling', *item['loc']))}: {'.'.join(map(str, item['loc'])) or 'hindi_spelling'}: {item['msg']}" for item in error.errors()]
        ) from error


@cache
def default_normaliser() -> HindiNormaliser:
    """The normaliser of the shipped table (read on first use, once)."""
    return HindiNormaliser.from_spelling(load_hindi_spelling())


def romanise(text: str) -> str:
    """Devanagari as the loose Latin Hinglish writers use: "मैं मरना चाहती हूँ" -> "main marna chahti hu"."""
    return default_normaliser().romanise(unicodedata.normalize("NFKC", text).lower())


def fold(token: str) -> str:
    """One romanised word's canonical spelling: "nhi" -> "nahi", "bhot" -> "bahut"."""
    return default_normaliser().fold(token.lower())


def normalise_hindi(text: str) -> str:
    """A message in the one form both scripts meet in (English words unchanged)."""
    return default_normaliser().normalise(text)
