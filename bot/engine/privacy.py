"""What the bot stores, the consent question, and erasing everything about a person."""

from __future__ import annotations

from bot.engine.replies import Reply
from bot.engine.texts import Texts


def consent_buttons(texts: Texts) -> tuple[tuple, ...]:
    return (
        (texts.button("consent_yes_label", "consent:yes"),),
        (texts.button("consent_no_label", "consent:no"),),
    )


def welcome_replies(texts: Texts, *, ask_consent: bool) -> list[Reply]:
    """First contact: who I am (and am not), and, once, may I keep optional data."""
    replies = [texts.reply("welcome"), texts.reply("welcome_what_i_am")]
    if ask_consent:
        replies.append(texts.reply("consent_question", consent_buttons(texts)))
    return replies


def privacy_replies(texts: Texts) -> list[Reply]:
    return [
        texts.reply("privacy_full"),
        texts.reply(
            "privacy_who",
            (
                (texts.button("privacy_consent_yes_label", "consent:yes"), texts.button("privacy_consent_no_label", "consent:no")),
                (texts.button("privacy_forget_label", "forget"),),
            ),
        ),
    ]


def forget_confirm_replies(texts: Texts) -> list[Reply]:
    return [
        texts.reply(
            "forget_confirm",
            ((texts.button("forget_yes_label", "forget:yes"),), (texts.button("forget_no_label", "forget:no"),)),
        )
    ]


def erased_words(texts: Texts, kind: str) -> str:
    """What a kind of erased record is called in the person's language ("journal entries" -> `erased_journal_entries`)."""
    key = "erased_" + "_".join(kind.split())
    words = texts.get(key)
    return kind if words == key else words


def forget_done_replies(texts: Texts, erased: dict[str, int]) -> list[Reply]:
    """Say exactly what was erased, in plain words."""
    parts = [f"{erased_words(texts, kind)} ({count})" for kind, count in erased.items() if count]
    if not parts:
        return [texts.reply("forget_nothing", texts.menu())]
    return [texts.reply("forget_done", texts.menu(), erased=", ".join(parts))]
