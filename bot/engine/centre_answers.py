"""Practical questions about the centre: fees, location and hours, online sessions, the therapists.

Each is a topic of `about_the_centre` (content/centre.yaml `topics:`) with its own short answer:
the text `centre_<id>`, then the centre's own fact as written. The topic comes from a button
(`answer:about_the_centre:<id>`) or from the message's words; with neither, the general answer
offers a button for each topic.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from bot.catalog.loader import Catalog
from bot.engine import payloads
from bot.engine.replies import Button, Reply
from bot.engine.texts import Texts, content_rows, merge_rows

CENTRE_INTENT: Final = "about_the_centre"
# Topic buttons go two to a row: their labels are short.
_PER_ROW: Final = 2
# Word boundaries: spaces and punctuation, Latin and Devanagari (a `\w` split would cut Hindi words at their vowel signs).
_BREAKS: Final = re.compile(r"[\s.,!?;:'\"“”‘’()\[\]{}<>/\\|\-–—…।॥*_~`@#%^&+=]+")
# Ignored in Hindi spellings: the nukta (फ़ीस = फीस) and chandrabindu against anusvara (कहाँ = कहां).
_FOLD: Final = {ord("\u093c"): None, ord("\u0901"): "\u0902"}


def _words(text: str) -> str:
    """Lower-case words joined by single spaces, padded so a phrase matches only whole words."""
    folded = unicodedata.normalize("NFC", text).casefold().translate(_FOLD)
    return " " + " ".join(word for word in _BREAKS.split(folded) if word) + " "


def topic_of(catalog: Catalog, text: str) -> str | None:
    """The topic a message asks about, from its words (each counts its length in words), or None."""
    if not text:
        return None
    padded = _words(text)
    best, best_hits = None, 0
    for topic_id, topic in catalog.centre.topics.items():
        hits = 0
        for word in topic.words:
            phrase = _words(word)
            if phrase.strip() and phrase in padded:
                hits += phrase.count(" ") - 1
        if hits > best_hits:
            best, best_hits = topic_id, hits
    return best


def chosen_topic(catalog: Catalog, text: str = "", part: str = "") -> str | None:
    """The topic to answer: the button's (`part`) when it names one, else the message's words."""
    if part in catalog.centre.topics:
        return part
    return topic_of(catalog, text)


def topic_button(texts: Texts, topic_id: str) -> Button:
    return Button(label=texts.get(f"centre_{topic_id}_label"), payload=payloads.build("answer", CENTRE_INTENT, topic_id))


def topic_rows(texts: Texts, *, leave_out: str | None = None) -> tuple[tuple[Button, ...], ...]:
    """A button for each topic (but `leave_out`, the one just answered), two to a row."""
    buttons = [topic_button(texts, topic_id) for topic_id in texts.catalog.centre.topics if topic_id != leave_out]
    return tuple(tuple(buttons[start:start + _PER_ROW]) for start in range(0, len(buttons), _PER_ROW))


def topic_replies(texts: Texts, topic_id: str) -> list[Reply]:
    """One topic's short answer, then buttons for the other topics and the answer's own next steps."""
    topic = texts.catalog.centre.topics[topic_id]
    lines = [texts.get(f"centre_{topic_id}")]
    fact = next((words for language, words in topic.fact_in.items() if language == texts.language), topic.fact)
    if fact:
        # The centre's words as written: braces in a fee or a name are not placeholders.
        lines.append(fact)
    answer = texts.catalog.answer(CENTRE_INTENT, texts.language)
    rows = merge_rows(topic_rows(texts, leave_out=topic_id), content_rows(answer.buttons if answer is not None else ()))
    return [Reply(key=f"answer.{CENTRE_INTENT}.{topic_id}", text="\n".join(lines), buttons=rows, language=texts.language)]
