"""Each person's language: detected from what they write, switchable with /language, remembered.

- The first message that shows a language sets it; before that, the channel's own setting
  (Telegram's `language_code`) is a hint.
- People mix languages. One message in another language does not switch: two in a row do, so
  nobody is bounced between languages on every message.
- A language chosen with /language (or the menu) stays until they choose again.
- A safety answer always follows the language of the message itself (see the engine).
It lives in the stored session, so /forget erases it with everything else.
"""

from __future__ import annotations

from typing import Final

from bot.engine import payloads
from bot.engine.replies import Reply
from bot.engine.session import Session
from bot.engine.texts import Texts
from bot.nlu.language import LANGUAGES, language_hint

LANGUAGE_KIND: Final = "language"
SWITCH_AFTER: Final = 2  # messages in a row in another language before the bot follows


def update_language(session: Session, detected: str | None, hint: str | None = None) -> None:
    """Follow the person's language as they write (unless they chose one themselves)."""
    if session.language is None:
        session.language = detected or language_hint(hint)
        return
    if session.language_chosen or detected is None or detected == session.language:
        session.language_streak = 0
        return
    session.language_streak += 1
    if session.language_streak >= SWITCH_AFTER:
        session.language = detected
        session.language_streak = 0


def choose_language(session: Session, language: str) -> bool:
    """The person picked a language; False for anything but a known one (a forged button)."""
    if language not in LANGUAGES:
        return False
    session.language = language
    session.language_chosen = True
    session.language_streak = 0
    return True


def language_question(texts: Texts) -> list[Reply]:
    """Which language? Each choice is labelled in its own language."""
    rows = tuple(
        (texts.in_language(code).button(f"language_{code}_label", payloads.build(LANGUAGE_KIND, code)),)
        for code in LANGUAGES
    )
    return [texts.reply("language_question", rows)]


def language_set(texts: Texts, language: str) -> list[Reply]:
    """Said in the newly chosen language."""
    chosen = texts.in_language(language)
    return [chosen.reply("language_set", chosen.menu())]
