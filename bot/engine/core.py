"""The dialogue engine: one `handle(incoming) -> list[Reply]` for every channel.

It never imports a transport. Each person's turns run one at a time (a per-user lock
around load -> handle -> save), different people run concurrently.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TypeVar

from bot.catalog.loader import Catalog
from bot.engine import privacy
from bot.engine.choices import Choices
from bot.engine.features import Feature, FeatureFactory
from bot.engine.flows import FlowRunner
from bot.engine.free_text import FreeText
from bot.engine.language_choice import update_language
from bot.engine.outbox import EngineOutbox
from bot.engine.replies import Incoming, Reply
from bot.engine.safety_answer import safety_replies
from bot.engine.safety_care import CHECK_IN_KIND, REPEATED_WORRY, AlertCause, in_care, typed_check_in_answer
from bot.engine.safety_turns import SafetyTurns
from bot.engine.sealing import Sealer
from bot.engine.session import Session
from bot.engine.staff_channel import SharedStaffRoom, StaffChannel
from bot.engine.steps import StepAction
from bot.engine.texts import Texts, round_the_clock_line, speaking
from bot.engine.turns import MAX_TEXT_CHARS, Turn, TurnRecords
from bot.errors import StorageError
from bot.nlu.language import detect_language
from bot.nlu.matcher import Matcher
from bot.nlu.safety_check import SafetyCheck
from bot.nlu.understand import Understanding, route_of, understand
from bot.storage.connection import now_utc
from bot.storage.store import Store

log = logging.getLogger(__name__)
F = TypeVar("F")


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


@dataclass
class Engine(SafetyTurns, Choices, FreeText, EngineOutbox, TurnRecords):
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

    What each step of the routing then does lives beside it, in the base classes: the safety
    answer and check-in (`safety_turns.py`), commands and buttons (`choices.py`), free text
    (`free_text.py`), the outbox (`outbox.py`), the session and statistics (`turns.py`).
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
        # The channel the staff use (bot/engine/staff_channel.py); a channel that keeps a place per person sets its own.
        self.staff_channel: StaffChannel = SharedStaffRoom(self.tell_staff)

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
