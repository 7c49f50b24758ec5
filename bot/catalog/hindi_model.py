"""Hindi spelling as content: how romanised Hindi words are spelt, and which spelling stands for all.

Kept in intents/hindi_spelling.yaml and read by `bot.nlu.hindi`. Validated like every other
content file, so a mistake names its file and line.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


def _lower_word(word: str) -> str:
    word = word.strip().lower()
    if not word or " " in word:
        raise ValueError(f"'{word}' must be one word")
    return word


class HindiSpelling(BaseModel):
    """The spelling table.

    variants: canonical spelling -> the ways people type it ("nahi": [nhi, nai, nahin]).
    words: further Hindi words in their canonical spelling; a variant of one that differs only
      by the generic rules (doubled vowels, z/j, w/v, ph/f) folds onto it.
    in_hinglish: words that are also English ("he", "me") folded only inside a Hindi message.
    english: English words a Hindi spelling must never be folded onto ("raat" stays "raat",
      it must not become "rat"); these are never changed either.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    variants: dict[str, list[str]] = Field(default_factory=dict)
    words: list[str] = Field(default_factory=list)
    in_hinglish: dict[str, str] = Field(default_factory=dict)
    english: list[str] = Field(default_factory=list)

    @field_validator("words", "english")
    @classmethod
    def _one_word_each(cls, words: list[str]) -> list[str]:
        return [_lower_word(word) for word in words]

    @field_validator("variants")
    @classmethod
    def _variants_are_words_of_one_canonical(cls, variants: dict[str, list[str]]) -> dict[str, list[str]]:
        cleaned = {_lower_word(key): [_lower_word(v) for v in values] for key, values in variants.items()}
        owner: dict[str, str] = {}
        for canonical, spellings in cleaned.items():
            for spelling in spellings:
                if spelling in owner and owner[spelling] != canonical:
                    raise ValueError(f"'{spelling}' is a variant of both '{owner[spelling]}' and '{canonical}'")
                owner[spelling] = canonical
        return cleaned

    @model_validator(mode="after")
    def _no_english_variant(self) -> HindiSpelling:
        owner = {spelling for spellings in self.variants.values() for spelling in spellings}
        clash = sorted(owner & set(self.english))
        if clash:
            raise ValueError(f"English words listed as Hindi variants: {', '.join(clash)}")
        return self
