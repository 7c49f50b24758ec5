"""Free text that is not a safety concern: a step's answer, else matching (answer, clarify, fallback).

Kept apart from the routing (`core.py`): an open flow step or a feature's step takes the
text first; otherwise the FAQ answers it (warmer in the day after a safety answer), and a
question asked mid-step is followed by that step again. After a safety answer interrupted
something, the next turn offers it back once. `Engine` takes these methods as a base class.
"""

from __future__ import annotations

from bot.engine import faq, steps
from bot.engine.replies import Incoming, Reply
from bot.engine.safety_care import care_replies, in_care, is_acknowledgement, is_reassurance, is_short
from bot.engine.session import Session
from bot.engine.turns import MAX_TEXT_CHARS, Turn
from bot.nlu.understand import Understanding
from bot.storage.connection import now_utc


class FreeText:
    """The free-text part of `Engine` (its texts, flows, features and step actions are the engine's)."""

    async def _flow_or_action_text(self, session: Session, incoming: Incoming, intent: str | None = None) -> list[Reply] | None:
        """A step's answer, if the text is one; `intent`: what matching confidently read it as (greetings are not answers)."""
        if session.flow is not None:
            taken = self.flows.on_input(session, incoming, intent=intent)
            if taken is not None:
                return taken
        for feature in self.features:
            handled = await feature.on_text(session, incoming)
            if handled is not None:
                return handled
        return None

    async def _text(self, session: Session, incoming: Incoming, text: str, meaning: Understanding, turn: Turn) -> list[Reply]:
        handled = await self._flow_or_action_text(session, incoming, meaning.predicted if meaning.decision == "answer" else None)
        if handled is not None:
            turn.route = "flow" if session.flow is not None else "action"
            return handled
        running = session.flow  # an intent may start a flow (a journal entry): its step is shown once, not again
        action_step = [] if running is not None else await steps.step_again(self.step_actions, session)
        replies = self._understood(session, meaning, turn, text, mid_step=running is not None or bool(action_step))
        if turn.route == "fallback":
            for feature in self.features:
                await feature.on_fallback(session, text[:MAX_TEXT_CHARS])
        if len(text) > MAX_TEXT_CHARS:
            replies.insert(0, self.texts.reply("too_long"))
        if session.flow is not None:
            # A question in the middle of a flow: answered, then the step shown again with its buttons.
            return replies + (self.flows.step_again(session) if session.flow is running else [])
        return replies + action_step

    def _understood(self, session: Session, meaning: Understanding, turn: Turn, text: str = "", *, mid_step: bool = False) -> list[Reply]:
        """What matching made of the message, as replies; `mid_step`: a flow or booking step is open
        (it is shown again after these)."""
        turn.intent = meaning.top
        caring = in_care(session, now_utc())
        if caring and (is_acknowledgement(text) or meaning.predicted in {"thanks", "goodbye"}):
            # The day after a safety answer: "ok", "thanks" or "bye" get warmth, a person and the numbers.
            turn.route = "care"
            return care_replies(self.texts, session)
        if caring and is_reassurance(text):
            # "no im fine, i am safe" after a safety answer: relief, not a "did you mean".
            turn.route = "care"
            return care_replies(self.texts, session, reassured=True)
        if caring and (meaning.decision == "fallback" or (meaning.decision == "clarify" and is_short(text))):
            # Never "that's not something I can help with" in the day after a safety answer, nor "did you mean"
            # buttons for a few words it cannot place ("thinking about it"): warmth, a person and
            # the numbers instead.
            turn.route = "care"
            return care_replies(self.texts, session)
        if caring:
            meaning = Understanding(
                meaning.decision, meaning.predicted, meaning.top,
                tuple(c for c in meaning.candidates if c != "goodbye"), meaning.score, meaning.safety,
            )
        if meaning.decision == "answer":
            turn.route, turn.intent = "faq", meaning.predicted
            session.misunderstood = 0
            session.last_intent = meaning.predicted
            return self._answer(session, meaning.predicted, text=text)
        if meaning.decision == "clarify":
            turn.route = "clarify"
            return faq.clarify_replies(self.texts, meaning.candidates, text)
        turn.route = "fallback"
        session.misunderstood += 1
        return faq.fallback_replies(self.texts, meaning.candidates, session.misunderstood, mid_step=mid_step)

    def _answer(self, session: Session, intent: str, *, text: str = "", part: str = "") -> list[Reply]:
        """An FAQ answer; no feedback thumbs in the day after a safety answer.

        An intent a flow names (`intent:`) starts that flow instead, or is told to wait while another runs.
        text (the message) or part (a button's) may pick a sub-answer (`faq.answer_replies`).
        """
        requested = self.flows.on_request(session, intent)
        if requested is not None:
            return requested
        return faq.answer_replies(self.texts, intent, with_feedback=not in_care(session, now_utc()), text=text, part=part)

    async def _resume_offer(self, session: Session, turn: Turn) -> list[Reply]:
        """After a safety answer interrupted a flow or a booking step, ask (once) whether to go back to it."""
        if turn.route == "safety":
            return []
        if session.paused_flow is not None and session.flow is None:
            replies = self.flows.resume_offer(session)
            if replies:
                return replies
        return await steps.offer(self.step_actions, session, self.texts)
