"""FAQ replies: an answer with its next steps, a clarifying question, an honest out-of-scope reply."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from bot.catalog.loader import Catalog
from bot.catalog.models import Answer
from bot.engine import centre_answers, payloads
from bot.engine.centre_answers import CENTRE_INTENT
from bot.engine.replies import Button, Reply
from bot.engine.texts import Texts, content_rows, merge_rows, one_per_row

BOOKING_INTENT: Final = "book_therapist"
# Centre topics that answer a booking question better than the general booking answer when the
# message names them (fees, online sessions, where and when): not "therapists", a word nearly
# every booking message uses.
PRACTICAL_BEFORE_BOOKING: Final = frozenset({"fees", "online", "location"})


# Answers to something other than a question: "Did this help?" reads oddly after a hello, a thank
# you, a goodbye, a way to book or to a person, or to someone saying they are hurting.
NOT_QUESTIONS: Final[frozenset[str]] = frozenset(
    {"greeting", "thanks", "goodbye", "help", "bot_challenge", "book_therapist", "talk_to_human", "share_feelings"}
)
# Courtesies that open or close a message: in a long one they are not what it is about.
COURTESIES: Final[frozenset[str]] = frozenset({"greeting", "thanks", "goodbye"})
# More words than this and a message is "long": "did you mean" offers no courtesy for it.
SHORT_MESSAGE_WORDS: Final = 6
# Intents whose answer is a doorway to one place a button already goes ("Talk to a person" is the
# stuck menu's `human`; `help` is the menu, as the intent catalogue says): offered once, not twice.
DOORWAYS: Final[dict[str, str]] = {"talk_to_human": "human", "book_therapist": "book", "help": "menu"}


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


def answer_replies(
    texts: Texts, intent: str, *, with_feedback: bool = True, text: str = "", part: str = ""
) -> list[Reply]:
    """The messages of an intent's answer; the last one carries its next steps, then "Did this help?".

    text: the message that asked, part: a button's sub-answer (`answer:<intent>:<part>`); either may
    pick one of the centre's practical answers (fees, location, ...) instead of the general one.
    """
    answer: Answer | None = texts.catalog.answer(intent, texts.language)
    if answer is None:
        return [texts.reply("fallback", texts.menu())]
    feedback = feedback_replies(texts, intent) if with_feedback else []
    topic = centre_answers.chosen_topic(texts.catalog, text, part) if intent == CENTRE_INTENT else None
    if intent == BOOKING_INTENT and centre_answers.topic_of(texts.catalog, text) in PRACTICAL_BEFORE_BOOKING:
        # "can i do the session online?", "kitna paisa lagta hai": a booking question that asks a
        # practical one; its answer carries the booking button too.
        topic = centre_answers.topic_of(texts.catalog, text)
    if topic is not None:
        return centre_answers.topic_replies(texts, topic) + feedback
    rows: list[tuple[Button, ...]] = []
    if answer.more:
        rows.append((texts.button("more_label", payloads.build("more", intent)),))
    rows.extend(_topic_rows(texts, intent))
    rows.extend(content_rows(answer.buttons))
    return _as_messages(texts, f"answer.{intent}", answer.messages, rows) + feedback


def more_replies(texts: Texts, intent: str, *, with_feedback: bool = True) -> list[Reply]:
    """The "tell me more" part of an answer, with the same next steps."""
    answer = texts.catalog.answer(intent, texts.language)
    if answer is None or not answer.more:
        return answer_replies(texts, intent, with_feedback=with_feedback)
    rows = merge_rows(_topic_rows(texts, intent), content_rows(answer.buttons))
    replies = _as_messages(texts, f"more.{intent}", answer.more, rows)
    return replies + (feedback_replies(texts, intent) if with_feedback else [])


def _topic_rows(texts: Texts, intent: str) -> tuple[tuple[Button, ...], ...]:
    """The centre's practical topics as buttons under its general answer; nothing for other intents."""
    return centre_answers.topic_rows(texts) if intent == CENTRE_INTENT else ()


def _as_messages(texts: Texts, key: str, messages: Sequence[str], rows: Sequence[Sequence[Button]]) -> list[Reply]:
    replies = [Reply(key=key, text=texts.fill(message)) for message in messages[:-1]]
    replies.append(Reply(key=key, text=texts.fill(messages[-1]), buttons=merge_rows(rows)))
    return replies


def destination(catalog: Catalog, intent: str) -> str:
    """Where offering an intent leads: the flow it starts, the one place it is a doorway to, or its answer."""
    for flow_id, (_, raw) in catalog.flows.items():
        if raw.get("intent") == intent:
            return payloads.build("flow", flow_id)
    return DOORWAYS.get(intent) or payloads.build("answer", intent)


def offered_buttons(texts: Texts, candidates: Sequence[str], text: str, taken: set[str]) -> list[Button]:
    """The candidates worth a "did you mean" button: each destination once, none a button in `taken`
    (payloads already shown) already leads to, no courtesy for a long message. A question about the
    centre that names a practical topic ("fees") offers that topic's answer itself."""
    long_message = len(text.split()) > SHORT_MESSAGE_WORDS
    seen, labels, buttons = set(taken), set(), []
    for intent in candidates:
        if long_message and intent in COURTESIES:
            continue
        topic = centre_answers.topic_of(texts.catalog, text) if intent == CENTRE_INTENT else None
        if topic is not None:
            button = centre_answers.topic_button(texts, topic)
            place = button.payload
        else:
            button = Button(label=intent_title(texts, intent), payload=payloads.build("answer", intent))
            place = destination(texts.catalog, intent)
        label = button.label.casefold()
        if place in seen or label in labels:
            continue
        seen.add(place)
        labels.add(label)
        buttons.append(button)
    return buttons


def clarify_replies(texts: Texts, candidates: Sequence[str], text: str = "") -> list[Reply]:
    """"Did you mean…?" with the closest intents, each place once, and a way out.

    text: the message, when known (a long one is never offered a greeting or a goodbye).
    """
    # Out-of-scope messages can land here too: a person and the menu are always one tap away.
    way_out = texts.menu("stuck")
    taken = {button.payload for row in way_out for button in row}
    buttons = offered_buttons(texts, candidates, text, taken)
    if not buttons and not any(destination(texts.catalog, intent) in taken for intent in candidates):
        # Nothing left but courtesies around a long message: it is about something else.
        return [texts.reply("fallback", texts.menu())]
    return [texts.reply("clarify", merge_rows(one_per_row(buttons), way_out))]


def fallback_replies(texts: Texts, candidates: Sequence[str], misunderstood: int, *, mid_step: bool = False) -> list[Reply]:
    """An honest "that's not something I can help with", what the bot is for, and the menu.

    The closest topics of a message that matched nothing are noise, so none are offered
    (`candidates` is kept for callers). From the third in a row, a person and the menu come first.
    `mid_step`: a flow or booking step is open and shown again after this ("Priya" typed at "just
    you, or you and your partner?"): a short nudge back to its options, not the main menu beside it.
    """
    if misunderstood >= 3:
        return [texts.reply("fallback_repeated", texts.menu("stuck"))]
    if mid_step:
        return [texts.reply("step_not_understood")]
    return [texts.reply("fallback", texts.menu())]
