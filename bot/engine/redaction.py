"""Take personal details out of a text before it is stored, as the privacy text promises.

What goes: phone numbers in any common Indian or international format (`phonenumbers`, region
IN, Devanagari digits included), e-mail addresses, links, @handles, and names a person gives
("my name is Priya", "her name is Neha", "mera naam Riya hai", "मेरा नाम प्रिया है", "I'm Priya",
"main Riya hoon", "मैं प्रिया हूँ"). What stays: ordinary words, times ("10:30", "5 pm", "6 baje")
and amounts ("₹2,500", "2000 rs"), which say what a question is about without saying who asked.

Names are found by the words around them, never by a list of names: after an introduction
("my name is", "her name's", "named", "mera naam … hai", "मेरा नाम … है") the name always goes;
after "I'm" or "main … hoon" only a word that looks like a name does (capitalised, or ending a
clause, and not a common word such as "sad", "pareshan" or "ठीक"), and after "this is", "call me"
or a bare "name is" only a capitalised one. So "I'm tired", "this is hard" and "main theek hoon"
stay. Names mentioned without such words ("married to Rahul") are not found.
Everything here is pure and deterministic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

import phonenumbers

from bot.nlu.normalize import clean

Kind = Literal["phone", "email", "link", "handle", "name", "time", "amount"]
PLACEHOLDERS: Final[dict[str, str]] = {
    "phone": "[phone]", "email": "[email]", "link": "[link]", "handle": "[handle]", "name": "[name]",
}
PHONE_REGION: Final = "IN"

# A word of letters in any script; Devanagari vowel signs and virama are marks, not letters, so
# its block is named (the danda and Devanagari digits, U+0964 on, are left out).
_WORD: Final = r"(?:[^\W\d_]|[\u0900-\u0963])+"
_LINK = re.compile(
    r"(?:https?://|www\.)\S+|\b(?:[a-z0-9-]+\.)+(?:com|in|org|net|io|me|ly|co|app|link)\b(?:/\S*)?", re.IGNORECASE
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Telegram and Instagram handles start with a letter or "_": "@5pm" is a time, not a handle.
_HANDLE = re.compile(r"(?<![\w.@])@[^\W\d][\w.]*\w|(?<![\w.@])@[^\W\d]")

# --- names --------------------------------------------------------------------------------------
# The name always follows an introduction: "my name is", "her name's", "named", "mera naam (hai)",
# "uska naam", "मेरा नाम (है)". A bare "name" is too common ("what name should I use") to count.
_OWNERS: Final = r"(?:my|his|her|their|mera|meri|mere|uska|uski|unka|unki|iska|iski|ka|ki)"
_NAMED_CUE = re.compile(
    rf"(?:\b{_OWNERS}\s+(?:name|naam)(?:\s*(?:is|was|'s|’s|:|-))?|\bmy\s+names|\bnamed"
    r"|(?<!\S)(?:मेरा|मेरी|उसका|उसकी|उनका|इसका|का|की)\s+नाम|(?<!\S)नाम\s*:)"
    rf"\s+(?:(?:hai|h|है)\s+)?(?={_WORD})",
    re.IGNORECASE,
)
# A word that looks like a name may follow "I'm": "I'm Priya", "hi im priya".
_SELF_CUE = re.compile(rf"\b(?:i\s*['’]?\s*m|i\s+am)\s+(?={_WORD})", re.IGNORECASE)
# Only a capitalised word after these is a name: "this is Neha" (not "this is hard"), "call me
# Riya", "the name is Priya" (not "the app name is confusing").
_CAPITALISED_CUE = re.compile(rf"\b(?:this\s+is|call\s+me|(?:name|naam)\s*(?:is|was|'s|’s|:))\s+(?={_WORD})", re.IGNORECASE)
# Hinglish and Hindi put the name between "I" and "am": "main Riya hoon", "मैं प्रिया हूँ".
_HINDI_SELF = re.compile(
    rf"(?:\b(?:main|mai|mein|me)|(?<!\S)मैं)\s+(?P<name>{_WORD})\s+"
    r"(?:bol\s+rah[ai]\s+|बोल\s+रह[ाी]\s+)?(?:hoon|hun|hu|hoo|हूँ|हूं|हू|हुं)(?![\w\u0900-\u0963])",
    re.IGNORECASE,
)
# A greeting signed with a name: "Hi, Priya here".
_HERE = re.compile(rf"^\W*(?:(?i:hi|hello|hey|namaste)\W+)?(?P<name>[A-Z][a-z]+)\s+here\b")
_NEXT_WORD = re.compile(rf"\s*(?P<word>{_WORD}(?:['’]{_WORD})?)")
_CLAUSE_END = re.compile(r"\s*(?:$|[.,!?;:)\n।]|(?:and|aur|from|se|here)\b)", re.IGNORECASE)
_HINDI_CLOSERS: Final = frozenset({"hai", "h", "he", "hain", "है", "हैं"})
# Words that end a name or never are one, whatever follows a cue.
_CONNECTORS: Final = frozenset(
    "and but or i im my me is am was are to the a an from of in at on for with so not also"
    " hai h he hain hoon hun hu aur se ka ki ke ko par pe mera meri mere uska uski unka nahi nhi"
    " है हैं हूँ हूं और से का की के को पर मेरा मेरी उसका उसकी".split()
)
# What follows "I'm", "main … hoon" or "मैं … हूँ" when it is not a name: feelings, states, places.
_NOT_NAMES: Final = frozenset(
    """
    ok okay fine good well sad tired lost alone lonely hurt done sorry sure here there home back new
    not so very really just still also always never only too confused scared worried upset angry
    mad jealous insecure afraid stuck broken weak strong single married pregnant divorced engaged
    separated free busy ready safe unsafe happy unhappy numb exhausted anxious depressed stressed
    tensed tense shocked devastated heartbroken desperate helpless hopeless fed sick ill glad
    grateful thankful curious unsure writing trying going asking looking thinking feeling getting
    wondering reading talking planning waiting calling texting his her their your yours hers
    anyone someone everyone nobody somebody anybody who what why how where when is are we you they
    hi hello hey help please wahi vahi woh wo koi sab sirf
    pareshan preshan udaas udas dukhi khush naraz naaraz theek thik thk akeli akela thaki thaka
    bimar beemar majboor pagal galat sahi tayyar taiyar yahan yaha wahan waha ghar abhi bhi to toh
    na nahi nhi kaun kya kahan kaha kyun aisi aisa waisi aise uski uska unki unka tumhari apni
    teri tera tumhara aapki aapka bahut bohot thoda thodi hairan pareshaan tanav gussa dara dari
    darri tooti tuti toota tuta shaadishuda shadishuda kunwari kuwari bekar bekaar
    परेशान उदास दुखी ख़ुश खुश नाराज़ नाराज ठीक अकेली अकेला थकी थका बीमार मजबूर पागल गलत ग़लत सही
    तैयार सुरक्षित यहाँ यहां वहाँ वहां घर अभी भी तो ना नहीं कौन क्या कहाँ कहां क्यों ऐसी ऐसा उसकी
    उसका उनकी उनका आपकी आपका तुम्हारी अपनी बहुत थोड़ी थोड़ा हैरान डरी डरा टूटी टूटा शादीशुदा
    कुंवारी बेकार गुस्से
    """.split()
)
_NOT_NAME_ENDINGS: Final = ("ed", "ing", "ly", "ful", "less", "ous", "ive", "ish", "able", "ible", "ness")

# --- what stays -----------------------------------------------------------------------------------
_MONEY_WORDS: Final = r"(?:₹|rs\b\.?|rupees?\b|rupaye\b|rupaiye\b|rupay\b|inr\b|bucks\b|dollars?\b|/-|रुपये|रुपए|रुपया|रु\b\.?)"
_AMOUNT = re.compile(
    rf"(?:₹|\$|€|£|(?<![^\W\d_])(?:rs\.?|inr|rupees?))\s*\d[\d,]*(?:\.\d+)?(?:\s*(?:k\b|lakhs?\b|lacs?\b|crores?\b|/-))?"
    rf"|\d[\d,]*(?:\.\d+)?\s*(?:(?:k|lakhs?|lacs?|crores?)\s*)?{_MONEY_WORDS}",
    re.IGNORECASE,
)
_TIME = re.compile(
    r"\b(?:[01]?\d|2[0-3])[:.][0-5]\d(?:\s*(?:am|pm|a\.m\.|p\.m\.)(?![^\W\d_]))?"
    r"|\b(?:1[0-2]|0?[1-9])\s*(?:am|pm|a\.m\.|p\.m\.|o['’]?\s?clock)(?![^\W\d_])"
    r"|\b\d{1,2}\s*(?:baje|bje|बजे)",
    re.IGNORECASE,
)
_DIGITS = re.compile(r"\d+")
_NUMBER_RUNS = re.compile(r"(#\s*)+")


@dataclass(frozen=True)
class Span:
    """A stretch of the text that is a personal detail (redacted) or a time or amount (kept)."""

    start: int
    end: int
    kind: Kind


def _looks_like_name(word: str, after: str) -> bool:
    """After "I'm" or "main … hoon": a name is capitalised, or ends the clause, and is no common word."""
    lowered = word.casefold()
    if lowered in _NOT_NAMES or lowered in _CONNECTORS:
        return False
    if word[0].isupper() and not word.isupper():
        return True
    if word.isupper() and len(word) > 1:
        return False
    latin = word.isascii()
    if latin and lowered.endswith(_NOT_NAME_ENDINGS):
        return False
    return not latin or _CLAUSE_END.match(after) is not None


def _named_spans(text: str) -> list[Span]:
    """Names after an introduction: "my name is Priya Sharma", "mera naam Riya Sharma hai", "उसका नाम नेहा है"."""
    spans: list[Span] = []
    for cue in _NAMED_CUE.finditer(text):
        words: list[re.Match[str]] = []
        closed = False
        at = cue.end()
        while len(words) < 3:
            found = _NEXT_WORD.match(text, at)
            if found is None:
                break
            lowered = found["word"].casefold()
            if lowered in _HINDI_CLOSERS:
                closed = True
                break
            if lowered in _CONNECTORS:
                break
            words.append(found)
            at = found.end()
        if not closed:
            words = words[:1] + list(_followers(text, words[1:]))
        if words:
            spans.append(Span(words[0].start("word"), words[-1].end("word"), "name"))
    return spans


def _followers(text: str, words: list[re.Match[str]]) -> list[re.Match[str]]:
    """Words after the first that still belong to the name: capitalised ("Priya Sharma"), or a
    lowercase second word that ends the clause ("priya sharma.")."""
    taken: list[re.Match[str]] = []
    for i, found in enumerate(words):
        word = found["word"]
        if word[0].isupper() and not word.isupper():
            taken.append(found)
            continue
        if i == 0 and word.isascii() and word.casefold() not in _NOT_NAMES and _CLAUSE_END.match(text, found.end()):
            taken.append(found)
        break
    return taken


def _self_spans(text: str) -> list[Span]:
    """Names in a self-introduction, only when the word looks like one: "I'm Priya", "main Riya hoon"."""
    spans: list[Span] = []
    for cue in _SELF_CUE.finditer(text):
        found = _NEXT_WORD.match(text, cue.end())
        if found is not None and _looks_like_name(found["word"], text[found.end():]):
            spans.append(Span(found.start("word"), found.end("word"), "name"))
    for cue in _CAPITALISED_CUE.finditer(text):
        found = _NEXT_WORD.match(text, cue.end())
        if found is not None and found["word"][0].isupper() and _looks_like_name(found["word"], ""):
            spans.append(Span(found.start("word"), found.end("word"), "name"))
    for found in _HINDI_SELF.finditer(text):
        if _looks_like_name(found["name"], ""):
            spans.append(Span(found.start("name"), found.end("name"), "name"))
    for found in _HERE.finditer(text):
        if found["name"].casefold() not in _NOT_NAMES:
            spans.append(Span(found.start("name"), found.end("name"), "name"))
    return spans


def _phone_spans(text: str) -> list[Span]:
    return [Span(m.start, m.end, "phone") for m in phonenumbers.PhoneNumberMatcher(text, PHONE_REGION)]


def _pattern_spans(text: str, pattern: re.Pattern[str], kind: Kind) -> list[Span]:
    return [Span(m.start(), m.end(), kind) for m in pattern.finditer(text)]


def find_spans(text: str) -> list[Span]:
    """Personal details and kept times and amounts, in order, without overlaps (earlier kinds win)."""
    found = [
        *_pattern_spans(text, _EMAIL, "email"),
        *_pattern_spans(text, _LINK, "link"),
        *_pattern_spans(text, _HANDLE, "handle"),
        *_phone_spans(text),
        *_named_spans(text),
        *_self_spans(text),
        *_pattern_spans(text, _AMOUNT, "amount"),
        *_pattern_spans(text, _TIME, "time"),
    ]
    chosen: list[Span] = []
    for span in found:
        if all(span.end <= other.start or span.start >= other.end for other in chosen):
            chosen.append(span)
    return sorted(chosen, key=lambda span: span.start)


def redact(text: str) -> str:
    """The text with each personal detail replaced by its placeholder ("[phone]", "[name]"…); the rest as written."""
    out: list[str] = []
    at = 0
    for span in find_spans(text):
        out.append(text[at:span.start])
        out.append(PLACEHOLDERS.get(span.kind, text[span.start:span.end]))
        at = span.end
    out.append(text[at:])
    return "".join(out)


def _plain(part: str) -> str:
    """Ordinary words, cleaned for comparison; any other number (a date, an age, a code) becomes "#"."""
    return _NUMBER_RUNS.sub("# ", _DIGITS.sub("#", clean(part)))


def redact_question(text: str, max_words: int = 14, max_chars: int = 120) -> str | None:
    """A question the bot could not answer, as stored for /unanswered: redacted, then reduced to comparable words.

    None when fewer than two words are left ("hmm" teaches nothing).
    """
    pieces: list[str] = []
    at = 0
    for span in find_spans(text):
        pieces.append(_plain(text[at:span.start]))
        kept = " ".join(text[span.start:span.end].casefold().split())
        pieces.append(PLACEHOLDERS.get(span.kind, kept))
        at = span.end
    pieces.append(_plain(text[at:]))
    words = " ".join(pieces).split()
    if len(words) < 2:
        return None
    return " ".join(words[:max_words])[:max_chars]
