"""Messages of emoji alone: cleaning drops emoji, so matching on its own reads "😭" as out of scope.

A message with no word in it that holds an emoji listed under `emoji_only:` in
intents/vocabulary.yaml means that intent ("😭", "💔💔", "🥺🙏" -> share_feelings). Pure.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.catalog.vocabulary_model import Vocabulary
from bot.nlu.normalize import clean

# Variation selectors (text vs emoji presentation) carry no meaning here: "☹️" is "☹".
_PRESENTATION = str.maketrans("", "", "\ufe0e\ufe0f")


def emoji_meanings(vocabulary: Vocabulary) -> dict[str, str]:
    """emoji -> intent, from the vocabulary's `emoji_only` section."""
    return {
        emoji.translate(_PRESENTATION): intent
        for intent, emojis in vocabulary.emoji_only.items()
        for emoji in emojis
        if emoji.translate(_PRESENTATION)
    }


def emoji_only_intent(text: str, meanings: Mapping[str, str]) -> str | None:
    """The intent of a message made of emoji alone (the first listed emoji in it decides), else None."""
    compact = text.translate(_PRESENTATION)
    if not meanings or clean(compact):  # a selector is a combining mark, which cleaning keeps
        return None
    found = [(compact.find(emoji), intent) for emoji, intent in meanings.items() if emoji in compact]
    return min(found)[1] if found else None
