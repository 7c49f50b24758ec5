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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

from bot.catalog.loader import Catalog
from bot.engine import faq, payloads, privacy
from bot.engine.flows import FlowRunner
from bot.engine.payloads import EXPIRED_PAYLOAD, Payload
from bot.engine.replies import Button, Incoming, Reply
from bot.engine.safety_answer import lines_again, safety_replies, staff_alert
from bot.engine.session import Session
from bot.engine.texts import Texts, merge_rows
from bot.errors import StorageError
from bot.nlu.matcher import Matcher
from bot.nlu.safety import SafetyDetector, SafetyVerdict
from bot.nlu.understand import Understanding, understand
from bot.storage.store import Store, now_utc

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 4096
ActionHandler = Callable[[Session, Payload, Incoming], Awaitable[list[Reply]]]


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


@dataclass
class Turn:
    """What one turn decided, for the statistics row (never the text)."""

    route: str = "none"
    intent: str | None = None


def reply_to_dict(reply: Reply) -> dict:
    return {
        "key": reply.key,
        "text": reply.text,
        "buttons": [[{"label": b.label, "payload": b.payload, "url": b.url} for b in row] for row in reply.buttons],
    }


def reply_from_dict(data: dict) -> Reply:
    return Reply(
        key=str(data.get("key", "")),
        text=str(data.get("text", "")),
        buttons=tuple(
            tuple(Button(label=b["label"], payload=b.get("payload", ""), url=b.get("url")) for b in row)
            for row in data.get("buttons", [])
        ),
    )


@dataclass
class Engine:
    """Routes each incoming event to the replies a person sees.

    Routing order (first match wins), in `_route`:
      1. safety check on any text (crisis, unsafe at home) — always, in every state;
      2. edited messages and unsupported media get a kind note;
      3. first contact gets the welcome (then the message is still handled);
      4. commands (/start, /menu, /privacy, ...);
      5. button payloads (malformed or stale ones get "that button has expired");
      6. the active flow's step, if the text fits it;
      7. an action's text step (booking note, handoff relay), when one is open;
      8. intent matching: answer, clarify, or honest fallback.
    """

    catalog: Catalog
    store: Store
    detector: SafetyDetector
    matcher: Matcher
    options: EngineOptions = field(default_factory=EngineOptions)
    actions: dict[str, ActionHandler] = field(default_factory=dict)
    text_hooks: list[Callable[[Session, Incoming], Awaitable[list[Reply] | None]]] = field(default_factory=list)
    forget_hooks: list[Callable[[int], Awaitable[dict[str, int]]]] = field(default_factory=list)
    # Action steps that take a shared contact (the booking's phone step), beside the flows' own.
    contact_hooks: list[Callable[[Session], Awaitable[bool]]] = field(default_factory=list)
    # Told the text of a question the bot could not answer (kept only with consent, for /unanswered).
    fallback_hooks: list[Callable[[Session, str], Awaitable[None]]] = field(default_factory=list)
    # Told after a safety answer, so an open handoff still carries the message to staff.
    safety_hooks: list[Callable[[Session, Incoming, str], Awaitable[None]]] = field(default_factory=list)
    # Run after the safety check, before everything else: replies end the turn (a flooding person slowed down).
    gate_hooks: list[Callable[[Session, Incoming], Awaitable[list[Reply] | None]]] = field(default_factory=list)
    _locks: weakref.WeakValueDictionary[int, asyncio.Lock] = field(default_factory=weakref.WeakValueDictionary)

    def __post_init__(self) -> None:
        emergency = self._country().emergency
        self.texts = Texts(self.catalog, emergency=emergency, retention_days=self.options.retention_days)
        self.flows = FlowRunner(self.catalog, self.texts)

    def _country(self):  # noqa: ANN202 - CountryLines
        lines = self.catalog.crisis_lines
        code = (self.options.crisis_country or lines.default_country).upper()
        return lines.countries.get(code) or lines.countries[lines.default_country]

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        await self.store.open()

    async def close(self) -> None:
        await self.store.close()

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
                stored = await self.store.load_session(incoming.user_id)
            except StorageError:
                log.error("turn without storage user=%s kind=%s", self.user_hash(incoming.user_id), incoming.kind)
                return self._without_storage(incoming)
            session = Session.from_dict(incoming.user_id, stored)
            if incoming.first_name:
                session.first_name = incoming.first_name[:64]
            turn = Turn()
            try:
                replies = await self._route(session, incoming, turn)
            except Exception:
                log.exception("turn failed user=%s kind=%s", self.user_hash(incoming.user_id), incoming.kind)
                return [self.texts.reply("internal_error", self.texts.menu("stuck"))]
            if turn.route != "forget" and not await self._save(incoming.user_id, session, turn) and turn.route != "safety":
                # The step did not stick: "try again" is true (the same button still works); a crisis answer is always given.
                return self._without_storage(incoming)
            log.info(
                "turn user=%s kind=%s route=%s intent=%s replies=%d",
                self.user_hash(incoming.user_id), incoming.kind, turn.route, turn.intent, len(replies),
            )
            return replies

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
        """The database cannot be reached: a crisis still gets its answer, anything else a kind "try again"."""
        text = (incoming.text or "").strip()
        meaning = understand(text[:MAX_TEXT_CHARS], self.detector, self.matcher) if text else None
        if meaning is not None and meaning.safety is not None:
            return safety_replies(self.texts, meaning.safety.label, self.options.crisis_country)
        return [self.texts.reply("internal_error", self.texts.menu("stuck"))]

    # --- routing -----------------------------------------------------------------------------

    async def _route(self, session: Session, incoming: Incoming, turn: Turn) -> list[Reply]:
        text = (incoming.text or "").strip()
        # Order matters: safety must win over everything, including flows and commands.
        meaning = understand(text[:MAX_TEXT_CHARS], self.detector, self.matcher) if text else None
        if meaning is not None and meaning.safety is not None:
            turn.route, turn.intent = "safety", meaning.safety.label
            return await self._safety(session, incoming, meaning.safety, text)
        for gate in self.gate_hooks:
            held = await gate(session, incoming)
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
        if not session.welcomed:
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
        return replies + self._resume_offer(session, turn)

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
        for expects in self.contact_hooks:
            if await expects(session):
                return True
        return False

    # --- safety --------------------------------------------------------------------------------

    async def _safety(self, session: Session, incoming: Incoming, verdict: SafetyVerdict, text: str) -> list[Reply]:
        if session.flow is not None:
            # Never resumed silently: the person is asked later whether to go back.
            session.paused_flow = session.flow
            session.flow = None
        session.misunderstood = 0
        # Someone whose first words are a crisis gets the safety answer, not a welcome tour.
        session.welcomed = True
        try:
            alerted = await self._alert_staff(session, incoming, verdict, text)
            await self.store.add_safety_event(
                incoming.user_id, verdict.label, verdict.pattern, text if session.consent else None, alerted
            )
            for hook in self.safety_hooks:
                await hook(session, incoming, verdict.label)
        except StorageError:
            # Recording must never cost a person in crisis the lines and the way to a person.
            log.error("safety event not recorded user=%s label=%s", self.user_hash(incoming.user_id), verdict.label)
        return safety_replies(self.texts, verdict.label, self.options.crisis_country)

    async def _alert_staff(self, session: Session, incoming: Incoming, verdict: SafetyVerdict, text: str) -> bool:
        if not self.options.staff_enabled:
            return False
        last = await self.store.last_staff_alert(incoming.user_id)
        if last is not None and now_utc() - last < self.options.staff_alert_cooldown:
            return False
        card = staff_alert(
            self.texts, label=verdict.label, pattern=verdict.pattern,
            first_name=session.first_name, user_id=incoming.user_id, message=text,
        )
        await self.enqueue(card, chat_id=None, kind="safety_alert", user_id=incoming.user_id)
        return True

    # --- commands ------------------------------------------------------------------------------

    async def _command(self, session: Session, incoming: Incoming, text: str, turn: Turn) -> list[Reply]:
        command = text.split()[0][1:].split("@")[0].lower()
        turn.route = f"command:{command}"[:40]
        aliases = {
            "start": "menu", "menu": "menu", "help": "menu", "privacy": "privacy", "forget": "forget",
            "reflect": "flow:reflection", "signs": "flow:signs", "book": "book", "human": "human",
            "journal": "journal", "mybooking": "mybooking", "stop": "flow:stop", "cancel": "flow:stop",
        }
        target = aliases.get(command)
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
            if intent not in self.catalog.answers:
                return self._expired(turn)
            turn.intent = intent
            session.last_intent = intent
            session.misunderstood = 0
            return self._answer(session, intent) if kind == "answer" else faq.more_replies(self.texts, intent)
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
        if kind in {"flow", "signs", "reflect", "resume", "fl"}:
            return self.flows.on_payload(session, payload) or self._expired(turn)
        handler = self.actions.get(kind)
        if handler is not None:
            return await handler(session, payload, incoming)
        return self._expired(turn)

    def _expired(self, turn: Turn) -> list[Reply]:
        turn.route = "expired"
        return [self.texts.reply("button_expired", self.texts.menu())]

    async def _forget(self, session: Session, incoming: Incoming, turn: Turn) -> list[Reply]:
        turn.route = "forget"
        erased = await self.store.forget_user(incoming.user_id, self.user_hash(incoming.user_id))
        for hook in self.forget_hooks:
            erased.update(await hook(incoming.user_id))
        return privacy.forget_done_replies(self.texts, erased)

    # --- free text -----------------------------------------------------------------------------

    async def _flow_or_action_text(self, session: Session, incoming: Incoming) -> list[Reply] | None:
        if session.flow is not None:
            taken = self.flows.on_input(session, incoming)
            if taken is not None:
                return taken
        for hook in self.text_hooks:
            handled = await hook(session, incoming)
            if handled is not None:
                return handled
        return None

    async def _text(self, session: Session, incoming: Incoming, text: str, meaning: Understanding, turn: Turn) -> list[Reply]:
        handled = await self._flow_or_action_text(session, incoming)
        if handled is not None:
            turn.route = "flow" if session.flow is not None else "action"
            return handled
        replies = self._understood(session, meaning, turn)
        if turn.route == "fallback":
            for hook in self.fallback_hooks:
                await hook(session, text[:MAX_TEXT_CHARS])
        if len(text) > MAX_TEXT_CHARS:
            replies.insert(0, self.texts.reply("too_long"))
        if session.flow is not None:
            # A question in the middle of a flow: answered, then the way back offered.
            replies += self.flows.continue_offer(session)
        return replies

    def _understood(self, session: Session, meaning: Understanding, turn: Turn) -> list[Reply]:
        turn.intent = meaning.top
        if meaning.decision == "answer":
            turn.route, turn.intent = "faq", meaning.predicted
            session.misunderstood = 0
            session.last_intent = meaning.predicted
            return self._answer(session, meaning.predicted)
        if meaning.decision == "clarify":
            turn.route = "clarify"
            return faq.clarify_replies(self.texts, meaning.candidates)
        turn.route = "fallback"
        session.misunderstood += 1
        return faq.fallback_replies(self.texts, meaning.candidates, session.misunderstood)

    def _answer(self, session: Session, intent: str) -> list[Reply]:
        """An FAQ answer; intents whose answer is a flow or an action start it after the answer."""
        return faq.answer_replies(self.texts, intent)

    def _resume_offer(self, session: Session, turn: Turn) -> list[Reply]:
        """After a safety answer interrupted a flow, ask (once) whether to go back to it."""
        if session.paused_flow is None or session.flow is not None or turn.route == "safety":
            return []
        replies = self.flows.resume_offer(session)
        return replies

    # --- outbox ----------------------------------------------------------------------------------

    async def enqueue(
        self, reply: Reply, *, chat_id: int | None, thread_id: int | None = None, kind: str = "message", user_id: int | None = None
    ) -> int:
        """Queue a message for the staff chat (chat_id None) or a person; delivered by the channel."""
        payload = {"kind": kind, "reply": reply_to_dict(reply)}
        return await self.store.enqueue(payload, chat_id=chat_id, thread_id=thread_id, user_id=user_id)

    async def due_deliveries(self, limit: int = 20) -> list[Delivery]:
        rows = await self.store.due_outbox(limit)
        deliveries = []
        for row in rows:
            data = json.loads(row["payload"])
            deliveries.append(
                Delivery(
                    id=int(row["id"]), chat_id=row["chat_id"], thread_id=row["thread_id"],
                    reply=reply_from_dict(data.get("reply", {})), kind=str(data.get("kind", "message")),
                    user_id=row["user_id"],
                )
            )
        return deliveries

    async def delivery_done(self, delivery_id: int) -> None:
        await self.store.outbox_done(delivery_id)

    async def delivery_failed(self, delivery_id: int, retry_in_seconds: float) -> None:
        await self.store.outbox_failed(delivery_id, retry_in_seconds)
