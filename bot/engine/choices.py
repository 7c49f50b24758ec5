"""A person's commands and pressed buttons: each becomes a payload, and each payload kind its answer.

Kept apart from the routing (`core.py`): the engine's own kinds (menu, answers, feedback,
consent, privacy, language, forget, lines, check-in, step back, flows) are answered here,
any other kind by the feature that owns it; a malformed or stale one gets "that button has
expired". `Engine` takes these methods as a base class.
"""

from __future__ import annotations

from bot.engine import faq, payloads, privacy, steps
from bot.engine.commands import HANDOFF_END_COMMANDS, PERSON_COMMANDS, command_name
from bot.engine.language_choice import LANGUAGE_KIND, choose_language, language_question, language_set
from bot.engine.payloads import EXPIRED_PAYLOAD, Payload
from bot.engine.replies import Incoming, Reply
from bot.engine.safety_answer import lines_again
from bot.engine.safety_care import CHECK_IN_ANSWERS, CHECK_IN_KIND, in_care
from bot.engine.session import Session
from bot.engine.steps import STEP_BACK_KIND
from bot.engine.turns import Turn
from bot.storage.connection import now_utc

COMMAND_TARGETS: dict[str, str] = {command.name: command.target for command in PERSON_COMMANDS}


class Choices:
    """The commands and buttons part of `Engine` (its texts, catalog, store, flows and features are the engine's)."""

    async def _command(self, session: Session, incoming: Incoming, text: str, turn: Turn) -> list[Reply]:
        command = command_name(text) or ""
        turn.route = f"command:{command}"[:40]
        # During a chat with the team, /cancel and /end end that chat (the handoff's gate refreshed the flag).
        target = "human:end" if command in HANDOFF_END_COMMANDS and session.handoff_open else COMMAND_TARGETS.get(command)
        if target is None:
            turn.route = "command:unknown"
            return [self.texts.reply("unknown_command", self.texts.menu())]
        parsed = payloads.parse(target)
        assert parsed is not None
        return await self._goto(session, parsed, incoming, turn)

    # --- buttons -------------------------------------------------------------------------------

    async def _button(self, session: Session, incoming: Incoming, turn: Turn) -> list[Reply]:
        parsed = payloads.parse(incoming.button)
        if parsed is None or incoming.button == EXPIRED_PAYLOAD:
            turn.route = "expired"
            return [self.texts.reply("button_expired", self.texts.menu())]
        return await self._goto(session, parsed, incoming, turn)

    async def _goto(self, session: Session, payload: Payload, incoming: Incoming, turn: Turn) -> list[Reply]:
        """Follow a payload (a pressed button, a command, or a content `goto`)."""
        kind = payload.kind
        turn.route = turn.route if turn.route.startswith("command") else f"button:{kind}"
        if kind == "menu":
            return [self.texts.reply("menu_intro", self.texts.menu())]
        if kind == "ask":
            return [self.texts.reply("ask_prompt")]
        if kind in {"answer", "more"}:
            intent = payload.arg()
            # An intent may start a flow instead of having an answer ("write in my journal"), never a "more".
            if intent not in self.catalog.answers and (kind == "more" or self.flows.started_by(intent) is None):
                return self._expired(turn)
            turn.intent = intent
            session.last_intent = intent
            session.misunderstood = 0
            if kind == "answer":
                # `answer:<intent>:<part>`: a sub-answer (the centre's fees, location, ...).
                return self._answer(session, intent, part=payload.arg(1))
            return faq.more_replies(self.texts, intent, with_feedback=not in_care(session, now_utc()))
        if kind == "fb":
            intent, value = payload.arg(0), payload.arg(1)
            if intent not in self.catalog.answers or value not in {"y", "n"}:
                return self._expired(turn)
            if session.consent is not False:
                await self.store.record_feedback(intent, value == "y")
            if value == "y":
                return [self.texts.reply("feedback_yes_done")]
            return [self.texts.reply("feedback_no_done", self.texts.menu("stuck"))]
        if kind == "consent":
            if payload.arg() not in {"yes", "no"}:
                return self._expired(turn)
            session.consent = payload.arg() == "yes"
            key = "consent_yes_done" if session.consent else "consent_no_done"
            return [self.texts.reply(key)]
        if kind == "privacy":
            return privacy.privacy_replies(self.texts)
        if kind == LANGUAGE_KIND:
            if not payload.args:
                return language_question(self.texts)
            if not choose_language(session, payload.arg()):
                return self._expired(turn)
            return language_set(self.texts, payload.arg())
        if kind == "forget":
            if not payload.args:
                return privacy.forget_confirm_replies(self.texts)
            if payload.arg() == "yes":
                return await self._forget(session, incoming, turn)
            if payload.arg() == "no":
                return [self.texts.reply("forget_cancelled")]
            return self._expired(turn)
        if kind == "lines":
            return lines_again(self.texts, payload.arg() or "crisis", self.options.crisis_country)
        if kind == CHECK_IN_KIND:
            answer = payload.arg()
            if answer not in CHECK_IN_ANSWERS:
                return self._expired(turn)
            # A stale check-in button still works: "yes" must never be lost.
            pending, session.check_in = session.check_in, None
            return await self._check_in_answered(session, incoming, answer, pending, turn)  # type: ignore[arg-type]
        if kind == STEP_BACK_KIND:
            return await steps.answer(self.step_actions, session, payload.arg()) or self._expired(turn)
        if kind in {"flow", "signs", "reflect", "resume", "fl"}:
            return self.flows.on_payload(session, payload) or self._expired(turn)
        owner = self._owners.get(kind)
        if owner is not None:
            return await owner.on_payload(session, payload, incoming)
        return self._expired(turn)

    def _expired(self, turn: Turn) -> list[Reply]:
        turn.route = "expired"
        return [self.texts.reply("button_expired", self.texts.menu())]

    async def _forget(self, session: Session, incoming: Incoming, turn: Turn) -> list[Reply]:
        turn.route = "forget"
        erased = await self.store.forget_user(incoming.user_id, self.user_hash(incoming.user_id))
        for feature in self.features:
            erased.update(await feature.on_forget(incoming.user_id))
        return privacy.forget_done_replies(self.texts, erased)
