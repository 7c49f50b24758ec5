"""FAQ replies: an answer with its next steps, a clarifying question, an honest fallback."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from bot.catalog.models import Answer
from bot.engine import payloads
from bot.engine.replies import Button, Reply
from bot.engine.texts import Texts, content_rows, merge_rows, one_per_row


# Answers to something other than a question: "Did this help?" reads oddly after a hello, a thank
# you, a goodbye, a way to book or to a person, or to someone saying they are hurting.
NOT_QUESTIONS: Final[frozenset[str]] = frozenset(
    {"greeting", "thanks", "goodbye", "help", "bot_challenge", "book_therapist", "talk_to_human", "share_feelings"}
)


def intent_title(texts: Texts, intent: str) -> str:
    """The short label of an intent for buttons: the answer's title, else a readable id."""
    answer = texts.catalog.answer(intent, texts.language)
    if answer is not None and answer.title:
        return answer.title
    started = started_flow_title(texts, intent)
    return started or intent.replace("_", " ").capitalize()


def started_flow_title(texts: Texts, intent: str) -> str | None:
    """The title of the flow an intent starts (`intent:` in a flow file), in the person's language."""
    catalog = texts.catalog
    for flow_id, (_, raw) in catalog.flows.items():
        if raw.get("intent") != intent:
            continue
        translation = catalog.translations.get(texts.language)
        local = translation.flows.get(flow_id) if translation is not None else None
        title = (local[1] if local is not None else raw).get("title") or raw.get("title")
        return str(title) if title else None
    return None


def feedback_row(texts: Texts, intent: str) -> tuple[Button, ...]:
    return (
        texts.button("feedback_yes_label", payloads.build("fb", intent, "y")),
        texts.button("feedback_no_label", payloads.build("fb", intent, "n")),
    )


def feedback_replies(texts: Texts, intent: str) -> list[Reply]:
    """"Did this help?" with the thumbs, as a message of its own after an answer to a question.

    Never on the answer's own keyboard: beside "Book a therapist", "👍 Yes" reads as "yes, book me".
    """
    if intent in NOT_QUESTIONS:
        return []
    return [texts.reply("feedback_question", (feedback_row(texts, intent),))]


def answer_replies(texts: Texts, intent: str, *, with_feedback: bool = True) -> list[Reply]:
    """The messages of an intent's answer; the last one carries its next steps, then "Did this help?"."""
    answer: Answer | None = texts.catalog.answer(intent, texts.language)
    if answer is None:
        return [texts.reply("fallback", texts.menu())]
    rows: list[tuple[Button, ...]] = []
    if answer.more:
        rows.append((texts.button("more_label", payloads.build("more", intent)),))
    rows.extend(content_rows(answer.buttons))
    replies = _as_messages(texts, f"answer.{intent}", answer.messages, rows)
    return replies + (feedback_replies(texts, intent) if with_feedback else [])


def more_replies(texts: Texts, intent: str, *, with_feedback: bool = True) -> list[Reply]:
    """The "tell me more" part of an answer, with the same next steps."""
    answer = texts.catalog.answer(intent, texts.language)
    if answer is None or not answer.more:
        return answer_replies(texts, intent, with_feedback=with_feedback)
    replies = _as_messages(texts, f"more.{intent}", answer.more, content_rows(answer.buttons))
    return replies + (feedback_replies(texts, intent) if with_feedback else [])


def _as_messages(texts: Texts, key: str, messages: Sequence[str], rows: Sequence[Sequence[Button]]) -> list[Reply]:
    replies = [Reply(key=key, text=texts.fill(message)) for message in messages[:-1]]
    replies.append(Reply(key=key, text=texts.fill(messages[-1]), buttons=merge_rows(rows)))
    return replies


def candidate_buttons(texts: Texts, candidates: Sequence[str]) -> list[Button]:
    return [Button(label=intent_title(texts, intent), payload=payloads.build("answer", intent)) for intent in candidates]


def clarify_replies(texts: Texts, candidates: Sequence[str]) -> list[Reply]:
    """"Did you mean…?" with the closest intents, and a way out."""
    rows = one_per_row(candidate_buttons(texts, candidates))
    # Out-of-scope messages can land here too: a person and the menu are always one tap away.
    return [texts.reply("clarify", merge_rows(rows, texts.menu("stuck")))]


def fallback_replies(texts: Texts, candidates: Sequence[str], misunderstood: int) -> list[Reply]:
    """An honest "I didn't understand"; from the third in a row, a person and the menu come first."""
    if misunderstood >= 3:
        return [texts.reply("fallback_repeated", texts.menu("stuck"))]
    if candidates:
        rows = one_per_row(candidate_buttons(texts, candidates[:2]))
        return [texts.reply("fallback_suggest", merge_rows(rows, texts.menu("stuck")))]
    return [texts.reply("fallback", texts.menu("stuck"))]
