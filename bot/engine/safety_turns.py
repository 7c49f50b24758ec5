"""A turn that raised a safety concern: the full safety answer, the gentle check-in, and its answer.

Kept apart from the routing (`core.py`, which decides *that* a message is a safety turn):
this is what then happens, in order: an open flow or step is paused (offered back later),
the staff are alerted when due, the event is recorded (never at the cost of the answer),
and a day of extra care begins. `Engine` takes these methods as a base class.
"""

from __future__ import annotations

import logging

from bot.engine import payloads, steps
from bot.engine.replies import Incoming, Reply
from bot.engine.safety_answer import repeat_safety_replies, safety_replies, staff_alert
from bot.engine.safety_care import (
    OUTCOMES,
    AlertCause,
    CheckInAnswer,
    alert_reason,
    check_in_replies,
    in_care,
    start_care,
)
from bot.engine.session import CheckIn, Session
from bot.engine.turns import MAX_TEXT_CHARS, Turn
from bot.errors import StorageError
from bot.nlu.understand import Understanding
from bot.storage.connection import now_utc

# The engine's log lines keep one logger name, wherever in the engine they are written.
log = logging.getLogger("bot.engine.core")


class SafetyTurns:
    """The safety part of `Engine` (its texts, store, options, features and sealer are the engine's)."""

    async def _safety(
        self, session: Session, incoming: Incoming, cause: AlertCause, text: str, *, confirmed: bool = False
    ) -> list[Reply]:
        """The safety answer; staff alerted when due; a day of extra care begins."""
        if session.flow is not None:
            # Never resumed silently: the person is asked later whether to go back.
            session.paused_flow = session.flow
            session.flow = None
        try:
            await steps.pause(self.step_actions, session)  # a booking step too: offered back, never lost
        except StorageError:
            log.error("open step not paused user=%s", self.user_hash(incoming.user_id))
        session.misunderstood = 0
        session.check_in = None
        # Someone whose first words are a crisis gets the safety answer, not a welcome tour.
        session.welcomed = True
        now = now_utc()
        repeat = in_care(session, now) and session.care_label == cause.label
        start_care(session, cause.label, now)
        try:
            reason = await self._alert_staff(session, incoming, cause, text, confirmed=confirmed)
            await self.store.add_safety_event(
                incoming.user_id, cause.label, cause.pattern, text if session.consent else None, reason is not None,
                tier="alert", means=cause.means, reason=reason,
            )
            for feature in self.features:
                await feature.on_safety(session, incoming, cause.label)
        except StorageError:
            # Recording must never cost a person in crisis the lines and the way to a person.
            log.error("safety event not recorded user=%s label=%s", self.user_hash(incoming.user_id), cause.label)
        texts = self.texts
        if repeat:
            # The full block again, word for word, reads like a form letter: short, with the rest on a button.
            return repeat_safety_replies(texts, cause.label, self.options.crisis_country)
        return safety_replies(texts, cause.label, self.options.crisis_country)

    async def _alert_staff(
        self, session: Session, incoming: Incoming, cause: AlertCause, text: str, *, confirmed: bool
    ) -> str | None:
        """Queue the staff card when due; returns why (None: a like alert went out within the cooldown)."""
        if not self.options.staff_enabled:
            return None
        recent = await self.store.recent_alerts(incoming.user_id, now_utc() - self.options.staff_alert_cooldown)
        reason = alert_reason(cause.label, cause.means, recent, confirmed=confirmed)
        if reason is None:
            return None
        card = staff_alert(
            self.texts.in_language("en"), label=cause.label, pattern=cause.pattern, first_name=session.first_name,
            user_id=incoming.user_id, message=text, reason=reason, evidence=cause.evidence,
        )
        await self.tell_staff(card, kind="safety_alert", about=incoming.user_id)
        return reason

    async def _check_in(self, session: Session, incoming: Incoming, meaning: Understanding, text: str) -> list[Reply]:
        """Risk is possible but not clear: one gentle question before anything else."""
        assert meaning.safety is not None
        cause = AlertCause.of(meaning.safety)
        session.welcomed = True
        try:
            event_id = await self.store.add_safety_event(
                incoming.user_id, cause.label, cause.pattern, text if session.consent else None, False,
                tier="check_in", means=cause.means,
            )
        except StorageError:
            log.error("check-in not recorded user=%s label=%s", self.user_hash(incoming.user_id), cause.label)
            event_id = 0
        try:
            # Talking to the team: the words that raised the question still reach them.
            for feature in self.features:
                await feature.on_safety(session, incoming, cause.label)
        except StorageError:
            log.error("check-in not relayed user=%s", self.user_hash(incoming.user_id))
        session.check_in = CheckIn(
            event_id=event_id, label=cause.label,
            decision=meaning.decision if meaning.decision != "answer" or meaning.predicted not in {"crisis", "unsafe_at_home"} else "fallback",
            predicted=meaning.predicted if meaning.predicted not in {"crisis", "unsafe_at_home"} else "out_of_scope",
            candidates=list(meaning.candidates[:3]),
            text=self.sealer.seal_text(text[:MAX_TEXT_CHARS]),
        )
        return check_in_replies(self.texts)

    async def _check_in_answered(
        self, session: Session, incoming: Incoming, answer: CheckInAnswer, pending: CheckIn | None, turn: Turn
    ) -> list[Reply]:
        """The person answered the check-in (a button, or a typed yes / no)."""
        label = pending.label if pending is not None else "crisis"
        words = self.sealer.open_text(pending.text) if pending is not None else ""
        if pending is not None and pending.event_id:
            try:
                await self.store.set_safety_outcome(pending.event_id, incoming.user_id, OUTCOMES[answer])
            except StorageError:
                log.error("check-in outcome not recorded user=%s", self.user_hash(incoming.user_id))
        turn.intent = label
        if answer in {"think", "unsafe"}:
            turn.route = "safety"
            confirmed_label = "crisis" if answer == "think" else "unsafe_at_home"
            cause = AlertCause(label=confirmed_label, pattern="check_in.confirmed", evidence="check-in answer", means=False)
            return await self._safety(session, incoming, cause, words or "(answered yes at a check-in)", confirmed=True)
        if answer == "human":
            turn.route = "safety_check_in"
            parsed = payloads.parse("human")
            assert parsed is not None
            return await self._goto(session, parsed, incoming, turn)
        turn.route = "safety_check_in"
        replies = [self.texts.reply("safety_check_in_okay")]
        if pending is None or not words:
            return replies + [self.texts.reply("menu_intro", self.texts.menu())]
        # "I'm okay": carry on with what the message was about, as if the question had not been needed.
        meaning = Understanding(
            decision=pending.decision,  # type: ignore[arg-type]
            predicted=pending.predicted, top=pending.predicted, candidates=tuple(pending.candidates), score=0.0,
        )
        carried = Incoming(user_id=incoming.user_id, kind="text", text=words, first_name=incoming.first_name)
        return replies + await self._text(session, carried, words, meaning, turn)
