"""Which language a message is written in: English, Hinglish (Hindi in Latin script) or Hindi.

The bot answers people in their own language. Devanagari is recognised by its script;
Hinglish by the Hindi function words people type in Latin letters ("hai", "nhi", "mujhe",
"kya", "yaar"), which English sentences practically never contain. Words that are also
common English ("to", "me", "main", "he", "the", "par") do not count, so an English
message is never taken for Hinglish because of them.

Pure and cheap: a set lookup per word.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final, Literal

Language = Literal["en", "hinglish", "hi"]
LANGUAGES: Final[tuple[Language, ...]] = ("en", "hinglish", "hi")
DEFAULT_LANGUAGE: Final[Language] = "en"

# Hindi words as people write them in Latin script, with their SMS forms. Only words that an
# English sentence would not contain: "to", "me", "main", "he", "the", "par", "so" are left out.
HINGLISH_MARKERS: Final = frozenset(
    """
    hai hain h hei hay nahi nhi nahin nai nahii nai mujhe mujhko mjhe muje mujhey mera meri mere mra mri
    tera teri tere uska uski uske unka unki unke iska iski kya kia kyaa kyu kyun kyon kiyu kaise kaisa
    kaisi kab kahan kaha kuch kuchh kch bahut bhot bohot bahot bht yaar yr accha acha achha theek thik
    haan haa ji aur lekin pr bhi bi toh tho sirf abhi aaj raat din wo woh vo voh ye yeh koi sab sabko
    karna krna karu kru karta krta karti krti karte krte raha rha rahi rhi rahe rhe hu hoon hun hua hui
    tha thi gaya gayi gya gyi diya diye liya liye dil pyaar pyar shaadi shadi pati patni biwi saas
    sasural ghar baat baar sath saath mein ke ki ko se ka ne jaana jana chahiye chahta chahti chahiye
    samajh samjh pata pta kaun kon kyunki kyuki jab tab phir fir mat mai maine mene humne hum tum tumhe
    tumhara tumhari aap apna apni apne unhe use usse unse isse zindagi jindagi jeena jina marna mrna
    khatam khtm dard dukh pareshan gussa darr dar lagta lgta lagti lgti hota hoti hote kar kr bol bola
    boli bolta bolti wala wali wale jaisa jaisi bas bss sach jhooth jhoot dhoka dhokha bharosa
    aapki aapka aapke aapko kitni kitna kitne batao bataiye bataye batayein baare milega milegi milta
    milti sakta sakti sakte skta skti hoga hogi karo karein kijiye dijiye chalega yahan wahan matlab mtlb
    namaste namastey namaskar namaskaar pranam
    """.split()
)
_WORD: Final = re.compile(r"[^\W\d_]+", re.UNICODE)
MIN_MARKERS: Final = 2
MIN_MARKER_SHARE: Final = 0.2
MIN_DEVANAGARI_SHARE: Final = 0.3


def _is_devanagari(char: str) -> bool:
    return "\u0900" <= char <= "\u097f" or "\ua8e0" <= char <= "\ua8ff"


def devanagari_share(text: str) -> float:
    """The share of letters in Devanagari script (0 when there are no letters)."""
    letters = [char for char in text if unicodedata.category(char)[0] in "LM"]
    if not letters:
        return 0.0
    return sum(1 for char in letters if _is_devanagari(char)) / len(letters)


def hinglish_markers(text: str) -> tuple[int, int]:
    """(Hindi words in Latin script, all words) in `text`."""
    words = [word.casefold() for word in _WORD.findall(text) if word.isascii()]
    return sum(1 for word in words if word in HINGLISH_MARKERS), len(words)


def detect_language(text: str) -> Language | None:
    """The language of one message, or None when it gives no sign (an emoji, "ok", a number)."""
    if devanagari_share(text) >= MIN_DEVANAGARI_SHARE:
        return "hi"
    markers, words = hinglish_markers(text)
    if words == 0:
        return None
    if markers >= MIN_MARKERS and markers / words >= MIN_MARKER_SHARE:
        return "hinglish"
    if markers >= 1 and words <= 3 and markers / words >= 0.5:
        return "hinglish"
    if words >= 3 or markers == 0 and words >= 2:
        return "en"
    return None


def language_hint(code: str | None) -> Language | None:
    """A hint from the channel's own language setting (Telegram's `language_code`), if any."""
    if not code:
        return None
    base = code.split("-")[0].casefold()
    if base == "hi":
        return "hi"
    if base == "en":
        return "en"
    return None
