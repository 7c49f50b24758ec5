"""Reading typed answers in a flow or a form: a number, a label, a list of labels, "1"-"5", "stop", a phone number."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

from bot.engine.flow_model import Option
from bot.nlu.normalize import TYPED

# Typed commands inside a flow, in English, Hinglish and Hindi (buttons do the same in every language).
STOP_WORDS: Final = frozenset(
    {"stop", "cancel", "quit", "exit", "enough", "ruko", "ruk jao", "bas", "band karo", "rehne do",
     "रुको", "बस", "बंद करो", "रहने दो"}
)
BACK_WORDS: Final = frozenset({"back", "go back", "previous", "peeche", "wapas", "pichla", "पीछे", "वापस"})
DONE_WORDS: Final = frozenset(
    {"done", "that's all", "thats all", "finished", "next", "ho gaya", "hogaya", "bas itna", "हो गया", "बस इतना"}
)
NEXT_WORDS: Final = frozenset(
    {"next", "ok", "okay", "continue", "go on", "yes", "aage", "aage chalo", "theek hai", "thik hai", "haan",
     "आगे", "आगे चलो", "ठीक है", "हाँ", "हां"}
)
SKIP_WORDS: Final = frozenset({"skip", "pass", "chhodo", "skip karo", "छोड़ो", "छोड़ें", "छोड़ दो"})
# A message that opens with one of these (or has a question mark) asks something: it is
# answered, not taken as a step's answer in the person's own words.
QUESTION_WORDS: Final = frozenset(
    {"what", "whats", "what's", "how", "hows", "how's", "why", "when", "where", "who", "whom", "whose", "which",
     "can", "could", "should", "would", "will", "does", "did", "shall", "isn't", "aren't", "don't", "doesn't",
     "didn't", "can't", "won't", "shouldn't", "wouldn't", "couldn't", "tell", "explain",
     "kya", "kaise", "kese", "kyun", "kyon", "kyu", "kab", "kahan", "kaha", "kaun", "kon", "kitna", "kitne",
     "kitni", "konsa", "kaunsa", "kis", "batao", "bataiye", "samjhao",
     "क्या", "कैसे", "क्यों", "क्यूँ", "कब", "कहाँ", "कहां", "कौन", "कितना", "कितने", "कितनी", "कौनसा", "किस",
     "बताओ", "बताइए", "बताइये", "समझाओ"}
)
# Words that ask only before an English subject: in Hinglish "is baat se" is "this thing",
# "do din se" is "for two days", "are yaar" is "oh man".
ASKING_BEFORE_SUBJECT: Final = frozenset({"is", "are", "am", "do", "was", "were"})
SUBJECTS: Final = frozenset(
    {"it", "it's", "he", "she", "they", "we", "you", "i", "this", "that", "there", "these", "those", "my", "your",
     "his", "her", "their", "our", "the", "a", "an", "people", "couples", "most", "all", "someone", "anyone",
     "something", "anything", "texting", "liking", "flirting", "talking", "chatting", "being", "having"}
)
# Replies that are no answer in one's own words, whatever the step asked.
NOT_OWN_WORDS: Final = frozenset(
    {"ok", "okay", "k", "yes", "no", "hi", "hello", "hey", "thanks", "thank you", "thx", "bye", "hmm", "haan", "nahi",
     "theek hai", "thik hai", "shukriya", "dhanyavaad", "namaste", "हाँ", "हां", "नहीं", "ठीक है", "शुक्रिया",
     "धन्यवाद", "नमस्ते"}
)
_SPLIT: Final = re.compile(r"\s*(?:,|;|/|&|\band\b|\baur\b|(?<!\S)और(?!\S)|\n)\s*")
_SPLIT_ANY_CASE: Final = re.compile(_SPLIT.pattern, re.IGNORECASE)
_SCALE: Final = re.compile(r"([1-5])(?:\s*(?:/|out of|of|me se|में से)\s*5)?")
# A run of at least seven digits, with the spaces, dots, dashes and brackets people type in numbers.
_PHONE_RUN: Final = re.compile(r"\+?\d[\d\s().\-]{5,}\d")
_BRACKETED: Final = re.compile(r"\([^)]*\)")


def typed(text: str) -> str:
    """Typed text reduced for comparing with labels: lower case, no emoji or punctuation
    (letters, digits and the vowel signs of Devanagari stay): the shared normaliser's TYPED form."""
    return TYPED(text)


def label_forms(label: str) -> set[str]:
    """How a button's label may be typed: as shown, or without its bracketed aside ("Online (video call)" -> "online")."""
    forms = {typed(label), typed(_BRACKETED.sub(" ", label))}
    return {form for form in forms if form}


def looks_like_phone(text: str) -> bool:
    """"+91 98765 43210", "my number is 98765-43210": a phone number typed in a short message."""
    if len(text) > 80:
        return False
    return any(sum(ch.isdigit() for ch in run) >= 7 for run in _PHONE_RUN.findall(text))


def option_index(options: Sequence[Option], said: str) -> int | None:
    """A typed option (already `typed`): its number, or its label."""
    # isdecimal, not isdigit: "²" and "①" are digits to Python but int() refuses them; and
    # int() refuses more than 4,300 digits, so only a short number can name an option.
    if said.isdecimal() and len(said) <= 3 and 1 <= int(said) <= len(options):
        return int(said) - 1
    for index, option in enumerate(options):
        if said and said == typed(option.label):
            return index
    return None


def split_parts(text: str) -> list[str]:
    """"hurt, confused and anxious" -> ["hurt", "confused", "anxious"] (as typed, empty parts left out)."""
    return [part.strip() for part in _SPLIT_ANY_CASE.split(text) if part.strip()]


def option_indexes(options: Sequence[Option], text: str) -> list[int] | None:
    """"hurt, confused and anxious" -> their indexes; None unless every part names an option."""
    parts = [typed(part) for part in _SPLIT.split(text.casefold())]
    picks = [option_index(options, part) for part in parts if part]
    if not picks or any(index is None for index in picks):
        return None
    return [index for index in picks if index is not None]


def scale_answer(said: str) -> int | None:
    """"3", "3/5", "3 out of 5" -> 3."""
    match = _SCALE.fullmatch(said)
    return int(match.group(1)) if match else None


def is_question(text: str) -> bool:
    """Clearly a question: a question mark anywhere, or a question word first ("can we...", "kya...", "क्या...")."""
    if "?" in text or "？" in text:
        return True
    words = typed(text).split()
    if not words:
        return False
    if words[0] in ASKING_BEFORE_SUBJECT:
        return len(words) > 1 and words[1] in SUBJECTS
    return words[0] in QUESTION_WORDS


def fits_own_words(text: str, said: str, limit: int) -> bool:
    """Typed text that can stand as an answer in the person's own words (not a question, a thank-you or a novel)."""
    commands = NOT_OWN_WORDS | NEXT_WORDS | DONE_WORDS | SKIP_WORDS | BACK_WORDS | STOP_WORDS
    return bool(said) and len(text) <= limit and said not in commands and not is_question(text)
