"""Care around a safety answer: the gentle check-in, a day of extra care, and when staff are told.

The safety check (`bot.nlu`) says how sure it is; this module decides what that means for the
conversation, as small pure functions the engine calls:

- **check-in**: risk is possible but not clear, so one warm question comes first, with buttons
  (thinking about it / not safe at home / I'm okay / a person). A typed "yes" or "no" answers it too.
- **care**: for 24 hours after an alert, short replies ("ok", "hmm", "thanks") get a brief caring
  answer with a person and the numbers one tap away; no feedback thumbs, no goodbye suggestions;
  a second safety answer is short, with the full block of numbers on a button.
- **staff alerts**: at most one per person and label in the cooldown, except an escalation, which
  always alerts: a confirmed check-in, unsafe at home becoming a crisis, a plan or means appearing.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Literal

from bot.engine import payloads
from bot.engine.replies import Reply
from bot.engine.session import Session
from bot.engine.texts import Texts
from bot.nlu.safety_check import MODEL_EVIDENCE, SafetyAssessment

CARE_PERIOD: Final = timedelta(hours=24)
CHECK_IN_KIND: Final = "chk"
CheckInAnswer = Literal["think", "unsafe", "ok", "human"]
CHECK_IN_ANSWERS: Final[tuple[CheckInAnswer, ...]] = ("think", "unsafe", "ok", "human")
OUTCOMES: Final[dict[CheckInAnswer, str]] = {
    "think": "confirmed_crisis", "unsafe": "confirmed_unsafe", "ok": "okay", "human": "human",
}
# The outcome of a check-in left unanswered because the next message was worrying too: that
# message got the full answer.
REPEATED_WORRY: Final = "followed_by_worry"
# In the day after a safety answer, a message this short that matching cannot place for sure
# ("thinking about it", "idk anymore", "sab bekaar") gets warmth, a person and the numbers, not
# "did you mean" buttons: such words there are more likely about the crisis than about a question.
SHORT_UNSURE_WORDS: Final = 5


@dataclass(frozen=True)
class AlertCause:
    """What a safety answer is about: the label, what fired (for the record and the staff card),
    and whether a plan or means was named (an escalation)."""

    label: str
    pattern: str
    evidence: str
    means: bool = False

    @classmethod
    def of(cls, assessment: SafetyAssessment) -> AlertCause:
        """From the safety check's assessment; the staff card shows the model's probability too."""
        evidence = assessment.evidence or assessment.pattern
        if evidence == MODEL_EVIDENCE:
            evidence = f"model p={assessment.probability:.2f}"
        return cls(label=assessment.label, pattern=assessment.pattern, evidence=evidence, means=assessment.means)


AlertReason = Literal["first", "escalation_check_in", "escalation_unsafe_to_crisis", "escalation_means"]

# Short answers to "are you thinking of hurting yourself?" in the three languages people write.
_YES: Final = frozenset(
    "yes yeah yea ya yep yup haan haa han ha ji jee sahi हाँ हां हा जी".split()
)
_NO: Final = frozenset(
    """no nope nah nahi nhi nai nahin na naa mat not never नहीं नही ना""".split()
)
_OKAY_PHRASES: Final = (
    "im ok", "i am ok", "im okay", "i am okay", "im fine", "i am fine", "im good", "all good", "im safe",
    "i am safe", "theek hu", "theek hoon", "thik hu", "thik hoon", "main theek", "mai theek", "mai thik",
    "main thik", "safe hu", "safe hoon", "ठीक हूँ", "ठीक हूं", "मैं ठीक",
)
# Small acknowledgements that, in the day after an alert, get a caring reply rather than a menu.
_ACKNOWLEDGEMENTS: Final = frozenset(
    """ok okay okk okie k kk hmm hmmm hm mm achha acha accha thik theek thanks thank thanku thankyou thx ty
    shukriya dhanyavad alright fine sure right bye ओके ठीक अच्छा हम्म शुक्रिया धन्यवाद""".split()
)
_FILLER: Final = frozenset("you u so much very a lot yaar ji hai h है है।".split())


def words_of(text: str) -> list[str]:
    """Lower-case words without punctuation or emoji ("Ok!! 🙏" -> ["ok"]); Devanagari vowel signs stay."""
    folded = unicodedata.normalize("NFKC", text).casefold().replace("'", "").replace("’", "")
    kept = "".join(char if unicodedata.category(char)[0] in "LMN" else " " for char in folded)
    return kept.split()


def in_care(session: Session, now: datetime) -> bool:
    """True within a day of the person's last safety alert."""
    if not session.care_until:
        return False
    try:
        return now < datetime.fromisoformat(session.care_until)
    except ValueError:
        return False


def start_care(session: Session, label: str, now: datetime) -> None:
    session.care_until = (now + CARE_PERIOD).isoformat(timespec="seconds")
    session.care_label = label
    session.care_replies = 0


def typed_check_in_answer(text: str, label: str) -> CheckInAnswer | None:
    """A typed answer to a waiting check-in: yes (to its own question), no / I'm okay, else None."""
    words = words_of(text)
    if not words or len(words) > 6:
        return None
    if _says_okay(words) or (words[0] in _NO and len(words) <= 3):
        return "ok"
    if words[0] in _YES and len(words) <= 4:
        return "think" if label == "crisis" else "unsafe"
    return None


def is_reassurance(text: str) -> bool:
    """"I'm okay", "no im fine, i am safe", "haan main safe hu", "मैं ठीक हूँ": a short message saying
    the person is all right, in the words that answer a check-in with "I'm okay" (a bare "no" is not
    enough here: no question is waiting for it)."""
    words = words_of(text)
    return 0 < len(words) <= 6 and _says_okay(words)


def _says_okay(words: Sequence[str]) -> bool:
    """The words hold "I'm ok", "safe hu", "ठीक हूँ"... (`_OKAY_PHRASES`)."""
    joined = " ".join(words)
    return any(phrase in joined for phrase in _OKAY_PHRASES)


def is_acknowledgement(text: str) -> bool:
    """"ok", "hmm", "thanks", "theek hai", "haan", "👍": a short reply that says little."""
    words = [word for word in words_of(text) if word not in _FILLER]
    if not words:
        return bool(text.strip())  # only emoji or punctuation
    # "haan", "yes": after "I'm here, keep writing to me" a bare yes agrees; it answers no question.
    return len(words) <= 3 and all(word in _ACKNOWLEDGEMENTS or word in _YES for word in words)


def is_short(text: str) -> bool:
    """At most SHORT_UNSURE_WORDS words (`words_of`)."""
    return len(words_of(text)) <= SHORT_UNSURE_WORDS


def alert_reason(
    label: str,
    means: bool,
    recent: Sequence[dict[str, Any]],
    *,
    confirmed: bool = False,
) -> AlertReason | None:
    """Why staff should be alerted now, or None while a like alert is still recent.

    `recent`: the alerts staff got about this person within the cooldown (label, means).
    """
    if confirmed:
        return "escalation_check_in"
    same = [alert for alert in recent if alert["label"] == label]
    if not same:
        if label == "crisis" and any(alert["label"] == "unsafe_at_home" for alert in recent):
            return "escalation_unsafe_to_crisis"
        return "first"
    if means and not any(alert["means"] for alert in same):
        return "escalation_means"
    return None


def check_in_replies(texts: Texts) -> list[Reply]:
    """The one gentle question, with its four answers as buttons."""
    buttons = tuple(
        (texts.button(f"safety_check_in_{answer}_label", payloads.build(CHECK_IN_KIND, answer)),)
        for answer in CHECK_IN_ANSWERS
    )
    return [texts.reply("safety_check_in", buttons)]


def care_replies(texts: Texts, session: Session, reassured: bool = False) -> list[Reply]:
    """A brief caring answer to "ok" or "thanks" in the day after an alert; shorter after the first,
    so the bot does not repeat itself word for word. `reassured`: they said they are okay or safe,
    which is met with relief (not a "did you mean"), the way back to a person kept open."""
    buttons = (
        (texts.button("safety_human_label", "human"),),
        (texts.button("safety_lines_all_label", payloads.build("lines", session.care_label)),),
    )
    if reassured:
        return [texts.reply("care_glad_safe", buttons)]
    key = "care_ack" if session.care_replies == 0 else "care_ack_again"
    session.care_replies += 1
    return [texts.reply(key, buttons)]
