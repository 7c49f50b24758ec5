"""The dialogue engine: one `handle(incoming) -> list[Reply]` for every channel.

It never imports a transport. Each person's turns run one at a time (a per-user lock
around load -> handle -> save), different people run concurrently.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from bot.catalog.loader import Catalog
from bot.engine import faq, payloads, privacy
from bot.engine.commands import HANDOFF_END_COMMANDS, PERSON_COMMANDS, command_name
from bot.engine.features import Feature, FeatureFactory
from bot.engine.flows import FlowRunner
from bot.engine.language_choice import LANGUAGE_KIND, choose_language, language_question, language_set, update_language
from bot.engine.payloads import EXPIRED_PAYLOAD, Payload
from bot.engine.replies import Button, Incoming, Reply
from bot.engine.safety_answer import lines_again, repeat_safety_replies, safety_replies, staff_alert
from bot.engine.safety_care import (
    CHECK_IN_ANSWERS,
    CHECK_IN_KIND,
    OUTCOMES,
    REPEATED_WORRY,
    AlertCause,
    CheckInAnswer,
    alert_reason,
    care_replies,
    check_in_replies,
    in_care,
    is_acknowledgement,
    start_care,
    typed_check_in_answer,
)
from bot.engine import steps
from bot.engine.sealing import Sealer
from bot.engine.session import CheckIn, Session
from bot.engine.steps import STEP_BACK_KIND, StepAction
from bot.engine.texts import Texts, merge_rows, round_the_clock_line, speaking
from bot.errors import StorageError
from bot.nlu.language import detect_language
from bot.nlu.matcher import Matcher
from bot.nlu.safety_check import SafetyCheck
from bot.nlu.understand import Understanding, route_of, understand
from bot.storage.outbox_store import OutboxStore
from bot.storage.store import Store, now_utc

log = logging.getLogger(__name__)
F = TypeVar("F")

MAX_TEXT_CHARS = 4096
COMMAND_TARGETS: dict[str, str] = {command.name: command.target for command in PERSON_COMMANDS}


@dataclass(frozen=True)
class EngineOptions:
    """Behaviour switches from configuration, resolved once."""

    crisis_country: str | None = None
    retention_days: int = 180
    staff_alert_cooldown: timedelta = timedelta(hours=1)
    staff_enabled: bool = False
    # Kept out of reprs: an engine printed in a traceback or a debug line must not carry its keys.
    user_hash_key: bytes = field(default=b"alumaura", repr=False)
    data_encryption_key: str | None = field(default=None, repr=False)
    staff_chat_id: int | None = None
    admin_user_ids: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Delivery:
    """A queued message: chat_id None means the staff chat."""

    id: int
    chat_id: int | None
    thread_id: int | None
    reply: Reply
    kind: str = "message"
    user_id: int | None = None
    # When it was queued: a late reply to a person is dropped once stale (bot/telegram/late.py).
    created_at: datetime | None = None
    # Tries that failed for a reason other than Telegram being down; too many and it is set aside.
    faults: int = 0


@dataclass
class Turn:
    """What one turn decided, for the statistics row (never the text)."""

    route: str = "none"
    intent: str | None = None
    # The language this message itself is written in, when it shows one (a safety answer follows it).
    language: str | None = None


def reply_to_dict(reply: Reply) -> dict:
    return {
        "key": reply.key,
        "text": reply.text,
        "buttons": [[{"label": b.label, "payload": b.payload, "url": b.url} for b in row] for row in reply.buttons],
        **({"request_contact": True} if reply.request_contact else {}),
        **({"language": reply.language} if reply.language != "en" else {}),
    }


def reply_from_dict(data: dict) -> Reply:
    return Reply(
        key=str(data.get("key", "")),
        text=str(data.get("text", "")),
        buttons=tuple(
            tuple(Button(label=b["label"], payload=b.get("payload", ""), url=b.get("url")) for b in row)
            for row in data.get("buttons", [])
        ),
        request_contact=bool(data.get("request_contact", False)),
        language=str(data.get("language") or "en"),
    )


@dataclass
class Engine:
    """Routes each incoming event to the replies a person sees.

    Routing order (first match wins), in `_route`:
      1. safety check on any text (crisis, unsafe at home) — always, in every state: a clear risk
         gets the full safety answer (alert tier), a possible one a gentle check-in question first;
         a typed "yes" / "I'm okay" answers a waiting check-in;
      1b. each feature's `gate` (the handoff: a person flooding the bot is slowed down);
      2. edited messages and unsupported media get a kind note;
      3. first contact gets the welcome (then the message is still handled);
      4. commands (/start, /menu, /privacy, ...; /cancel and /end end an open chat with the team);
      5. button payloads: the engine's own kinds, then the kind's feature (malformed or stale ones
         get "that button has expired");
      6. the active flow's step, if the text fits it (a label, a number, or own words where the
         step invites them, unless the text is clearly a question);
      7. each feature's `on_text`, in the declared order (booking note, a booking button's typed
         label, then the handoff relay), when one of its steps is open;
      8. intent matching: answer (then "Did this help?" after answers to questions; an intent a
         flow names starts that flow), clarify, or honest fallback (in the day after a safety
         alert, "ok" or "thanks" get a brief caring reply instead, and no feedback thumbs);
         a question answered mid-step is followed by that step again, with its buttons.
    After a safety answer interrupted a flow or a booking step, the next turn asks once whether to go back.

    The features beside this routing (booking, handoff, journal: `bot.engine.features.Feature`)
    are declared, in order, in `bot/app.py` and built here from `feature_factories`.
    """

    catalog: Catalog
    store: Store
    detector: SafetyCheck
    matcher: Matcher
    options: EngineOptions = field(default_factory=EngineOptions)
    # The features, in the order they see a turn (declared in `bot/app.py`); each is built with this engine.
    feature_factories: Sequence[FeatureFactory] = ()
    _locks: weakref.WeakValueDictionary[int, asyncio.Lock] = field(default_factory=weakref.WeakValueDictionary)

    def __post_init__(self) -> None:
        country = self._country()
        self.texts = Texts(
            self.catalog, emergency=country.emergency, retention_days=self.options.retention_days,
            helpline=round_the_clock_line(country),
        )
        # One key seals every word kept: flow answers in the session, journal entries, a check-in's message.
        self.sealer = Sealer(self.options.data_encryption_key)
        self.flows = FlowRunner(self.catalog, self.texts, self.sealer)
        self.features: tuple[Feature, ...] = tuple(make(self) for make in self.feature_factories)
        self._owners: dict[str, Feature] = {kind: feature for feature in self.features for kind in feature.kinds}
        # Features with steps of their own (the booking): shown again after a question, offered back after a safety answer.
        self.step_actions: tuple[StepAction, ...] = tuple(f.steps for f in self.features if f.steps is not None)

    def _country(self):  # noqa: ANN202 - CountryLines
        lines = self.catalog.crisis_lines
        code = (self.options.crisis_country or lines.default_country).upper()
        return lines.countries.get(code) or lines.countries[lines.default_country]

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        await self.store.open()

    async def close(self) -> None:
        await self.store.close()

    def feature(self, kind: type[F]) -> F | None:
        """The declared feature of this type, if any (the channel's staff side asks for booking and handoff)."""
        return next((feature for feature in self.features if isinstance(feature, kind)), None)

    def user_hash(self, user_id: int) -> str:
        """A stable pseudonym for logs and statistics; not reversible without the key."""
        return hmac.new(self.options.user_hash_key, str(user_id).encode(), hashlib.sha256).hexdigest()[:12]

    # --- the one entry point -----------------------------------------------------------------

    async def handle(self, incoming: Incoming) -> list[Reply]:
        """Handle one event of one person and return what they should see, in order."""
        lock = self._locks.get(incoming.user_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[incoming.user_id] = lock
        async with lock:
            try:
                session = Session.from_dict(incoming.user_id, await self.store.load_session(incoming.user_id))
            except StorageError as error:
                log.error(
                    "turn without storage user=%s kind=%s error=%s", self.user_hash(incoming.user_id), incoming.kind, error
                )
                return self._without_storage(incoming)
            except Exception:  # an unreadable session row: the turn still answers, a crisis included
                log.exception("session unreadable user=%s kind=%s", self.user_hash(incoming.user_id), incoming.kind)
                return self._without_storage(incoming)
            if incoming.first_name:
                session.first_name = incoming.first_name[:64]
            turn = Turn()
            if incoming.kind in {"text", "edited"} and incoming.text and not incoming.text.startswith("/"):
                turn.language = detect_language(incoming.text[:MAX_TEXT_CHARS])
            update_language(session, turn.language, incoming.language_code)
            try:
                with speaking(session.language):
                    replies = await self._route(session, incoming, turn)
            except StorageError as error:
                # Faults never cost a person their crisis answer: a flagged message still gets it.
                log.error(
                    "turn without storage user=%s kind=%s route=%s error=%s",
                    self.user_hash(incoming.user_id), incoming.kind, turn.route, error,
                )
                return self._without_storage(incoming)
            except Exception:
                log.exception("turn failed user=%s kind=%s", self.user_hash(incoming.user_id), incoming.kind)
                return self._without_storage(incoming)
            if turn.route != "forget" and not await self._save(incoming.user_id, session, turn) and turn.route != "safety":
                # The step did not stick: "try again" is true (the same button still works); a crisis answer is always given.
                return self._without_storage(incoming)
            log.info(
                "turn user=%s kind=%s route=%s intent=%s replies=%d",
                self.user_hash(incoming.user_id), incoming.kind, turn.route, turn.intent, len(replies),
            )
            return replies

    async def language_of(self, user_id: int) -> str | None:
        """A person's language, for what is said to them outside their own turn (staff actions, reminders)."""
        try:
            stored = await self.store.load_session(user_id) or {}
        except StorageError:
            return None
        language = stored.get("language")
        return language if isinstance(language, str) else None

    async def remember_once(self, key: str) -> bool:
        return await self.store.remember_once(key)

    async def _save(self, user_id: int, session: Session, turn: Turn) -> bool:
        """Keep the session (False when the database stayed locked); the statistics row is best effort."""
        try:
            await self.store.save_session(user_id, session.to_dict())
        except StorageError:
            log.error("session not saved user=%s route=%s", self.user_hash(user_id), turn.route)
            return False
        try:
            await self.store.record_turn(self.user_hash(user_id), turn.route, turn.intent)
        except StorageError:
            log.warning("turn statistics not recorded user=%s", self.user_hash(user_id))
        return True

    def _without_storage(self, incoming: Incoming) -> list[Reply]:
        """The turn failed (the database, or a bug): a crisis still gets its full answer, anything else a kind "try again"."""
        text = (incoming.text or "").strip()[:MAX_TEXT_CHARS]
        verdict = None
        if text:
            try:
                verdict = understand(text, self.detector, self.matcher).safety
            except Exception:  # the matcher failed: the safety detector alone still decides
                log.exception("understanding failed in a failed turn user=%s", self.user_hash(incoming.user_id))
                verdict = self.detector.check(text)
        if verdict is not None:
            return safety_replies(self.texts, verdict.label, self.options.crisis_country)
        return [self.texts.reply("internal_error", self.texts.menu("stuck"))]

    # --- routing -----------------------------------------------------------------------------

    async def _route(self, session: Session, incoming: Incoming, turn: Turn) -> list[Reply]:
        text = (incoming.text or "").strip()
        # Order matters: safety must win over everything, including flows and commands.
        meaning = understand(text[:MAX_TEXT_CHARS], self.detector, self.matcher) if text else None
        if meaning is not None and meaning.safety is not None:
            # A safety answer follows the language of the message itself, even before the person's switches.
            with speaking(turn.language or session.language):
                # A second worrying message while a check-in waits for its answer is not asked
                # about twice: two signals in a row get the full answer.
                asking = route_of(meaning, in_care=in_care(session, now_utc())) == "safety_check_in"
                if asking and session.check_in is None:
                    turn.route, turn.intent = "safety_check_in", meaning.safety.label
                    return await self._check_in(session, incoming, meaning, text)
                if asking and session.check_in is not None and session.check_in.event_id:
                    try:
                        await self.store.set_safety_outcome(session.check_in.event_id, incoming.user_id, REPEATED_WORRY)
                    except StorageError:
                        log.error("check-in outcome not recorded user=%s", self.user_hash(incoming.user_id))
                turn.route, turn.intent = "safety", meaning.safety.label
                return await self._safety(session, incoming, AlertCause.of(meaning.safety), text)
        pending = session.check_in
        if pending is not None and incoming.kind == "text":
            # One chance to answer by typing; the check-in's buttons keep working afterwards.
            session.check_in = None
            typed = typed_check_in_answer(text, pending.label)
            if typed is not None:
                return await self._check_in_answered(session, incoming, typed, pending, turn)
        for feature in self.features:
            held = await feature.gate(session, incoming)
            if held is not None:
                turn.route = "slowed"
                return held
        if incoming.kind == "edited":
            turn.route = "edited"
            return [self.texts.reply("edited_message")]
        if incoming.kind == "unsupported" or (incoming.kind == "contact" and not await self._expects_contact(session)):
            turn.route = "unsupported"
            return [self.texts.reply("unsupported_media")]

        replies: list[Reply] = []
        if not session.welcomed and not self._is_safety_button(incoming):
            session.welcomed = True
            replies += privacy.welcome_replies(self.texts, ask_consent=session.consent is None)
            if incoming.kind == "text" and self._is_opening(text, meaning):
                # "/start" or a plain hello: the welcome already greets, so show the menu, not a second hello.
                turn.route = "start"
                return replies + [self.texts.reply("menu_intro", self.texts.menu())]

        if incoming.kind == "button":
            replies += await self._button(session, incoming, turn)
        elif incoming.kind == "contact":
            turn.route = "contact"
            # A contact no step took after all (empty, or the step timed out) still gets an answer.
            replies += await self._flow_or_action_text(session, incoming) or [self.texts.reply("unsupported_media")]
        elif text.startswith("/"):
            replies += await self._command(session, incoming, text, turn)
        elif not text:
            turn.route = "empty"
            replies.append(self.texts.reply("empty_text"))
        else:
            assert meaning is not None
            replies += await self._text(session, incoming, text, meaning, turn)
        return replies + await self._resume_offer(session, turn)

    @staticmethod
    def _is_safety_button(incoming: Incoming) -> bool:
        """A "yes" to a check-in gets the safety answer at once, even as a first event."""
        return incoming.kind == "button" and (incoming.button or "") in {f"{CHECK_IN_KIND}:think", f"{CHECK_IN_KIND}:unsafe"}

    @staticmethod
    def _is_opening(text: str, meaning: Understanding | None) -> bool:
        """"/start" or a plain hello as a first message."""
        if not text or text.split()[0].lower().startswith("/start"):
            return True
        if text.startswith("/") or meaning is None:
            return False
        return meaning.decision == "answer" and meaning.predicted == "greeting"

    async def _expects_contact(self, session: Session) -> bool:
        if session.flow is not None and self.flows.expects_contact(session.flow):
            return True
        for feature in self.features:
            if await feature.expects_contact(session):
                return True
        return False

    # --- safety --------------------------------------------------------------------------------

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
        await self.enqueue(card, chat_id=None, kind="safety_alert", user_id=incoming.user_id)
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

    # --- commands ------------------------------------------------------------------------------

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

    # --- free text -----------------------------------------------------------------------------

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
        replies = self._understood(session, meaning, turn, text)
        if turn.route == "fallback":
            for feature in self.features:
                await feature.on_fallback(session, text[:MAX_TEXT_CHARS])
        if len(text) > MAX_TEXT_CHARS:
            replies.insert(0, self.texts.reply("too_long"))
        if session.flow is not None:
            # A question in the middle of a flow: answered, then the step shown again with its buttons.
            replies += self.flows.step_again(session) if session.flow is running else []
        else:
            replies += await steps.step_again(self.step_actions, session)
        return replies

    def _understood(self, session: Session, meaning: Understanding, turn: Turn, text: str = "") -> list[Reply]:
        turn.intent = meaning.top
        caring = in_care(session, now_utc())
        if caring and (is_acknowledgement(text) or meaning.predicted in {"thanks", "goodbye"}):
            # The day after a safety answer: "ok", "thanks" or "bye" get warmth, a person and the numbers.
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
        return faq.fallback_replies(self.texts, meaning.candidates, session.misunderstood)

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

    # --- outbox ----------------------------------------------------------------------------------

    async def enqueue(
        self, reply: Reply, *, chat_id: int | None, thread_id: int | None = None, kind: str = "message", user_id: int | None = None
    ) -> int:
        """Queue a message for the staff chat (chat_id None) or a person; delivered by the channel."""
        payload = {"kind": kind, "reply": reply_to_dict(reply)}
        return await self.store.enqueue(payload, chat_id=chat_id, thread_id=thread_id, user_id=user_id)

    async def due_deliveries(self, limit: int = 20) -> list[Delivery]:
        """What is due, in order; a row that cannot be read is set aside, never left at the head of the queue."""
        rows = await self.store.due_outbox(limit)
        deliveries = []
        for row in rows:
            try:
                data = json.loads(row["payload"])
                delivery = Delivery(
                    id=int(row["id"]), chat_id=row["chat_id"], thread_id=row["thread_id"],
                    reply=reply_from_dict(data.get("reply", {})), kind=str(data.get("kind", "message")),
                    user_id=row["user_id"], created_at=datetime.fromisoformat(row["created_at"]),
                    faults=int(row["faults"]),
                )
            except (ValueError, KeyError, TypeError, AttributeError) as error:
                log.warning("outbox delivery=%s unreadable error=%s; set aside", row["id"], type(error).__name__)
                await OutboxStore(self.store).set_aside(int(row["id"]), "unreadable")
                continue
            deliveries.append(delivery)
        return deliveries

    async def delivery_done(self, delivery_id: int) -> None:
        await self.store.outbox_done(delivery_id)

    async def delivery_failed(self, delivery_id: int, retry_in_seconds: float) -> None:
        await self.store.outbox_failed(delivery_id, retry_in_seconds)

    async def delivery_faulted(self, delivery_id: int, retry_in_seconds: float, fault: str) -> None:
        """A try failed for a reason other than Telegram being down (`fault`: the error's type name)."""
        await OutboxStore(self.store).fault(delivery_id, retry_in_seconds, fault)

    async def delivery_set_aside(self, delivery_id: int, fault: str) -> None:
        """Give up on a delivery that kept failing: reported in doctor and /stats, no longer holding anything up."""
        await OutboxStore(self.store).set_aside(delivery_id, fault)
