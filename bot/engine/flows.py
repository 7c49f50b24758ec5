"""The guided-flow runner: one generic walker over the flows in content/flows/.

State lives in `Session.flow` (a `FlowState`: flow, step, answers, the steps behind), so
a restart loses nothing. Step buttons carry `fl:<flow>:<step>:<action>`; a button from a
step that is no longer the current one is stale (None -> "that button has expired"),
except Back, and except moving between the end messages of a finished flow.

Actions: a digit (an option, a scale value, or a button of an info/end step), `d` done,
`o` something else, `s` skip, `n` next, `b` back, `c` continue (show the step again);
what each does to the state is in `flow_steps.py`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Final

from bot.catalog.loader import Catalog
from bot.engine import payloads
from bot.engine.flow_input import STOP_WORDS, typed
from bot.engine.flow_journal import FlowJournal
from bot.engine.flow_languages import localised_flows
from bot.engine.flow_model import EndStep, FlowSpec, parse_flow
from bot.engine.flow_render import fl_payload
from bot.engine.flow_steps import AWAIT_KEY, FlowSteps
from bot.engine.payloads import Payload
from bot.engine.replies import Incoming, Reply
from bot.engine.sealing import Sealer
from bot.engine.session import FlowState, Session
from bot.engine.step_shared import continue_or_restart, older_than, shown_again
from bot.engine.texts import Texts

__all__ = ["FlowRunner", "load_flows"]

log = logging.getLogger(__name__)

# After this long away, typed text is no longer taken as an answer: the person is asked first.
STALE_AFTER: Final = timedelta(hours=12)
OFFERED_KEY: Final = "_offered"
ALIASES: Final = {"signs": "signs", "reflect": "reflection"}
# What matching confidently reads as talk about the conversation itself, never an answer in own words.
ASIDE_INTENTS: Final = frozenset(
    {
        "greeting", "thanks", "goodbye", "help", "bot_challenge", "talk_to_human", "book_therapist", "privacy",
        "about_the_centre", "journal_write",
    }
)


def load_flows(catalog: Catalog) -> dict[str, FlowSpec]:
    """The flows that pass the schema; broken ones are left out (and reported by `check`)."""
    flows: dict[str, FlowSpec] = {}
    for flow_id, (doc, raw) in catalog.flows.items():
        spec, problems = parse_flow(doc, raw)
        if spec is None:
            log.warning("flow %s left out: %d problem(s); run `python -m bot check`", flow_id, len(problems))
            continue
        flows[flow_id] = spec
    return flows


def is_stale(state: FlowState, now: datetime | None = None) -> bool:
    return older_than(state.updated_at, STALE_AFTER, now)


class FlowRunner(FlowSteps, FlowJournal):
    """Runs content-defined flows over a stored `FlowState` (the walk: `FlowSteps`; the journal's questions: `FlowJournal`)."""

    def __init__(self, catalog: Catalog, texts: Texts, sealer: Sealer | None = None) -> None:
        """sealer: the engine's keyed sealer, so free-text answers kept in the session are encrypted too."""
        self.catalog = catalog
        self.texts = texts
        # In the person's language when a translation exists (content/i18n/<language>/flows/).
        self.flows = localised_flows(catalog, load_flows(catalog))
        self.sealer = sealer or Sealer(None)

    # --- what the engine calls ------------------------------------------------------------

    def on_payload(self, session: Session, payload: Payload) -> list[Reply] | None:
        """A flow button or a flow command; None when it is stale or malformed."""
        replies = self._dispatch_payload(session, payload)
        self._touch(session, replies)
        return replies

    def on_input(self, session: Session, incoming: Incoming, *, intent: str | None = None) -> list[Reply] | None:
        """Typed text in a flow: taken when it fits the step, else None (the engine answers it).

        `intent`: what matching confidently read the text as; a greeting or "talk to a person"
        is never taken as an answer in the person's own words.
        """
        state = session.flow
        text = (incoming.text or "").strip()
        if state is None or incoming.kind != "text" or not text:
            return None
        said = typed(text)
        if said in STOP_WORDS:
            return self._stop(session)
        found = self._where(state)
        if found is None:
            return None
        flow, step = found
        if is_stale(state):
            if isinstance(step, EndStep):
                session.flow = None  # a finished flow's answers are not kept around for days
            return None  # after a long break, ask before treating a message as an answer
        replies = self._typed(session, flow, state, step, text, said, aside=intent in ASIDE_INTENTS)
        self._touch(session, replies)
        return replies

    def expects_contact(self, state: FlowState) -> bool:
        return False

    def started_by(self, intent: str) -> str | None:
        """The flow an intent starts at once (its English file's `intent:`), if any."""
        return next((flow_id for flow_id, flow in self.flows.english.items() if flow.intent == intent), None)

    def on_request(self, session: Session, intent: str) -> list[Reply] | None:
        """An intent that starts a flow: begun when no other flow is under way, else its `busy` words.

        None when no flow is started by `intent`. A running flow is never dropped for it: it carries
        on (the engine shows its step again), and a finished one simply makes way.
        """
        flow_id = self.started_by(intent)
        if flow_id is None:
            return None
        state = session.flow
        if state is None or state.flow_id == flow_id or self._finished(state):
            return self._start(session, flow_id, restart=False) or []
        busy = self.flows[flow_id].busy
        return [Reply(key=f"flow.{flow_id}.busy", text=self.texts.fill(busy))] if busy else []

    def step_again(self, session: Session) -> list[Reply]:
        """After a question answered mid-flow: the step's question again, with its buttons.

        After a long break the step is not pushed at the person: "continue?" is offered instead.
        """
        state = session.flow
        found = self._where(state) if state is not None else None
        if state is None or found is None or isinstance(found[1], EndStep):
            return []
        if is_stale(state) or state.slots.get(AWAIT_KEY) == state.step:
            return self.continue_offer(session)
        last = self._render(found[0], state, state.step)[-1]
        return [shown_again(self.texts.get("flow_step_again"), last)]

    def continue_offer(self, session: Session) -> list[Reply]:
        """After a question answered mid-flow, days later: shall we go back to the step?"""
        state = session.flow
        found = self._where(state) if state is not None else None
        if state is None or found is None or isinstance(found[1], EndStep):
            return []
        buttons = (
            (
                self.texts.button("flow_continue_label", fl_payload(state.flow_id, state.step, "c")),
                self.texts.button("flow_stop_label", "flow:stop"),
            ),
        )
        return [self.texts.reply("flow_continue_offer", buttons)]

    def resume_offer(self, session: Session) -> list[Reply]:
        """After a safety answer paused a flow: ask once whether to go back to it."""
        paused = session.paused_flow
        if paused is None:
            return []
        found = self._where(paused)
        if found is None or isinstance(found[1], EndStep):
            session.paused_flow = None
            return []
        if paused.slots.get(OFFERED_KEY):
            return []
        paused.slots[OFFERED_KEY] = True
        buttons = (
            (self.texts.button("resume_yes_label", "resume:yes"),),
            (self.texts.button("resume_no_label", "resume:no"),),
        )
        return [self.texts.reply("resume_question", buttons)]


    def _dispatch_payload(self, session: Session, payload: Payload) -> list[Reply] | None:
        kind = payload.kind
        if kind in ALIASES and not payload.args:
            return self._start(session, ALIASES[kind], restart=False)
        if kind == "flow":
            if payload.args == ("stop",):
                return self._stop(session)
            if len(payload.args) == 1:
                return self._start(session, payload.arg(), restart=False)
            if len(payload.args) == 2 and payload.arg(1) == "new":
                return self._start(session, payload.arg(), restart=True)
            return None
        if kind == "resume" and len(payload.args) == 1:
            return self._resume(session, payload.arg())
        if kind == "fl" and len(payload.args) == 3:
            return self._step_payload(session, *payload.args)
        return None

    def _start(self, session: Session, flow_id: str, *, restart: bool) -> list[Reply] | None:
        flow = self.flows.get(flow_id)
        if flow is None or flow.start not in flow.steps:
            return None
        if session.flow is None and session.paused_flow is not None and session.paused_flow.flow_id == flow_id:
            session.flow, session.paused_flow = session.paused_flow, None
            session.flow.slots.pop(OFFERED_KEY, None)
        state = session.flow
        if not restart and state is not None and state.flow_id == flow_id and not self._finished(state):
            return self._continue_or_restart(state)
        session.paused_flow = None
        session.flow = FlowState(flow_id=flow_id, step=flow.start)
        return self._render(flow, session.flow, flow.start)

    def _continue_or_restart(self, state: FlowState) -> list[Reply]:
        go_on, restart = fl_payload(state.flow_id, state.step, "c"), payloads.build("flow", state.flow_id, "new")
        return [continue_or_restart(self.texts, "flow_continue_or_restart", go_on, restart, "flow:stop")]

    def _stop(self, session: Session) -> list[Reply]:
        state = session.flow
        if state is None:
            return [self.texts.reply("flow_nothing_to_stop", self.texts.menu())]
        key = "flow_finished" if self._finished(state) else "flow_stopped"
        session.flow = None  # the answers go with it: nothing of a stopped flow is kept
        return [self.texts.reply(key, self.texts.menu())]

    def _resume(self, session: Session, answer: str) -> list[Reply] | None:
        paused = session.paused_flow
        if paused is None or answer not in {"yes", "no"}:
            return None
        session.paused_flow = None
        found = self._where(paused)
        if answer == "no" or found is None:
            return [self.texts.reply("flow_resume_declined", self.texts.menu())]
        paused.slots.pop(OFFERED_KEY, None)
        session.flow = paused
        return [self.texts.reply("flow_resumed"), *self._render(found[0], paused, paused.step)]

    def _step_payload(self, session: Session, flow_id: str, step_id: str, action: str) -> list[Reply] | None:
        state = session.flow
        if state is None or state.flow_id != flow_id:
            return None
        flow = self.flows.get(flow_id)
        if flow is None or step_id not in flow.steps or state.step not in flow.steps:
            return None
        pressed, current = flow.steps[step_id], flow.steps[state.step]
        if action == "b":
            return self._back(flow, state, step_id)
        if step_id != state.step and not (isinstance(pressed, EndStep) and isinstance(current, EndStep)):
            return None
        if action == "c" and step_id == state.step:
            state.slots.pop(AWAIT_KEY, None)
            return self._render(flow, state, state.step)
        return self._act(flow, state, step_id, pressed, action)
