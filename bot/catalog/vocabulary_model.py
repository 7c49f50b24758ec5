"""The matcher's vocabulary as content: slang to expand, concept groups, filler words."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Vocabulary(BaseModel):
    """What the normaliser and matcher know about words, kept in intents/vocabulary.yaml.

    slang: chat shorthand expanded before matching ("bf" -> "boyfriend").
    concepts: groups of words that mean the same thing to the matcher; each word in a
      group is replaced by the group's name ("hubby", "wife" -> "partner").
    stopwords: filler words that carry little meaning and weigh less.
    hindi_slang: slang applied only inside a message written in Hindi (Hinglish or Devanagari),
      where a word means something else than in English ("hi" is the emphatic ही there).
    emoji_only: intent -> emoji; a message of emoji alone with one of these means that intent
      (cleaning drops emoji, so on its own "😭" would read as out of scope).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    slang: dict[str, str] = Field(default_factory=dict)
    concepts: dict[str, list[str]] = Field(default_factory=dict)
    stopwords: list[str] = Field(default_factory=list)
    hindi_slang: dict[str, str] = Field(default_factory=dict)
    emoji_only: dict[str, list[str]] = Field(default_factory=dict)
