"""The guided-flow runner: one generic walker over the flows in content/flows/.

State lives in `Session.flow` (a `FlowState`: flow, step, answers, the steps behind), so
a restart loses nothing. Step buttons carry `fl:<flow>:<step>:<action>`; a button from a
step that is no longer the current one is stale (None -> "that button has expired"),
except Back, and except moving between the end messages of a finished flow.

Actions: a digit (an option, a scale value, or a button of an info/end step), `d` done,
`o` something else, `s` skip, `n` next, `b` back, `c` continue (show the step again).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Final

from bot.catalog.loader import Catalog
from bot.engine import payloads
from bot.engine.flow_check import validate_flows
from bot.engine.flow_languages import localised_flows
from bot.engine.flow_input import (
    BACK_WORDS,
    DONE_WORDS,
    NEXT_WORDS,
    SKIP_WORDS,
    STOP_WORDS,
    fits_own_words,
    option_index,
    option_indexes,
    scale_answer,
    split_parts,
    typed,
)
from bot.engine.flow_model import (
    SCALE_MAX,
    SCALE_MIN,
    STEP_GOTO_PREFIX,
    ChoiceStep,
    EndStep,
    FlowSpec,
    InfoStep,
    MultiStep,
    ScaleStep,
    Step,
    TextStep,
    parse_flow,
    slot_of,
)
from bot.engine.flow_render import fl_payload, quoted, render_other_prompt, render_step, step_buttons
from bot.engine.flow_values import (
    OTHER_ID,
    answer_phrases,
    chosen_ids,
    own_words,
    scale_value,
    template_values,
)
from bot.engine.payloads import Payload
from bot.engine.replies import Incoming, Reply, utcnow
from bot.engine.sealing import Sealer
from bot.engine.session import FlowState, Session
from bot.engine.texts import Texts

__all__ = ["FlowRunner", "JournalDraft", "validate_flows"]

log = logging.getLogger(__name__)

# After this long away, typed text is no longer taken as an answer: the person is asked first.
STALE_AFTER: Final = timedelta(hours=12)
MAX_OTHER_CHARS: Final = 300
MAX_HISTORY: Final = 60
AWAIT_KEY: Final = "_await"
OFFERED_KEY: Final = "_offered"
SAVED_KEY: Final = "_saved"
ALIASES: Final = {"signs": "signs", "reflect": "reflection"}
# What matching confidently reads as talk about the conversation itself, never an answer in own words.
ASIDE_INTENTS: Final = frozenset(
    {
        "greeting", "thanks", "goodbye", "help", "bot_challenge", "talk_to_human", "book_therapist", "privacy",
        "about_the_centre", "journal_write",
    }
)


@dataclass(frozen=True)
class JournalDraft:
    """What a finished flow would save to the journal."""

    flow_id: str
    title: str
    feelings: tuple[str, ...]
    intensity: int | None
    text: str


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
    try:
        updated = datetime.fromisoformat(state.updated_at)
    except ValueError:
        return False
    if updated.tzinfo is None:
        updated = updated.replace(tzinfo=timezone.utc)
    return (now or utcnow()) - updated > STALE_AFTER


class FlowRunner:
    """Runs content-defined flows over a stored `FlowState`."""

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
        lead = self.texts.get("flow_step_again")
        return [Reply(key=last.key, text=f"{lead}\n\n{last.text}", buttons=last.buttons, language=last.language)]

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

    # --- what the journal calls -----------------------------------------------------------

    def journal_draft(self, session: Session) -> JournalDraft | None:
        """The entry a finished flow would save, or None when there is nothing to save."""
        state = session.flow
        found = self._where(state) if state is not None else None
        if state is None or found is None or not isinstance(found[1], EndStep):
            return None
        flow = found[0]
        if flow.journal is None:
            return None
        slots = self._opened(state.slots)
        values = template_values(flow, slots, self.texts.get("flow_word_and"), quoted(self.texts))
        feelings: tuple[str, ...] = ()
        intensity: int | None = None
        for step_id, step in flow.steps.items():
            slot = slot_of(step_id, step)
            if slot is not None and slot == flow.journal.feelings:
                feelings = tuple(answer_phrases(step, slots.get(slot)))
            if slot is not None and slot == flow.journal.intensity:
                intensity = scale_value(slots.get(slot))
        return JournalDraft(
            flow_id=flow.id, title=flow.title, feelings=feelings, intensity=intensity,
            text=self.texts.fill(flow.journal.text, **values),
        )

    @staticmethod
    def already_saved(session: Session) -> bool:
        return bool(session.flow is not None and session.flow.slots.get(SAVED_KEY))

    @staticmethod
    def mark_saved(session: Session) -> None:
        if session.flow is not None:
            session.flow.slots[SAVED_KEY] = True

    # --- payloads -------------------------------------------------------------------------

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
        buttons = (
            (self.texts.button("flow_continue_label", fl_payload(state.flow_id, state.step, "c")),),
            (self.texts.button("flow_restart_label", payloads.build("flow", state.flow_id, "new")),),
            (self.texts.button("flow_stop_label", "flow:stop"),),
        )
        return [self.texts.reply("flow_continue_or_restart", buttons)]

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

    def _act(self, flow: FlowSpec, state: FlowState, step_id: str, step: Step, action: str) -> list[Reply] | None:
        index = int(action) if action.isdigit() and len(action) <= 2 else None
        slot = slot_of(step_id, step)
        if isinstance(step, ChoiceStep) and slot is not None:
            if index is not None and index < len(step.options):
                option = step.options[index]
                state.slots[slot] = {"id": option.id}
                return self._advance(flow, state, option.goto or step.next)
            if action == "o" and step.other is not None:
                return self._ask_other(flow, state, step_id, step)
            return None
        if isinstance(step, MultiStep) and slot is not None:
            return self._multi(flow, state, step_id, step, slot, action, index)
        if isinstance(step, ScaleStep) and slot is not None:
            if index is not None and SCALE_MIN <= index <= SCALE_MAX:
                state.slots[slot] = index
                return self._advance(flow, state, step.next)
            return None
        if isinstance(step, TextStep) and slot is not None:
            if action == "s" and step.skip:
                state.slots[slot] = ""
                return self._advance(flow, state, step.next)
            return None
        if isinstance(step, InfoStep) and action == "n":
            return self._advance(flow, state, step.next)
        if isinstance(step, (InfoStep, EndStep)) and index is not None and index < len(step.buttons):
            goto = step.buttons[index].goto
            if goto.startswith(STEP_GOTO_PREFIX):
                return self._advance(flow, state, goto[len(STEP_GOTO_PREFIX):])
        return None

    def _multi(
        self, flow: FlowSpec, state: FlowState, step_id: str, step: MultiStep, slot: str, action: str, index: int | None
    ) -> list[Reply] | None:
        value = state.slots.get(slot)
        ids = chosen_ids(value)
        words = own_words(value)
        if index is not None and index < len(step.options):
            option_id = step.options[index].id
            ids = [i for i in ids if i != option_id] if option_id in ids else [*ids, option_id]
            state.slots[slot] = {"ids": ids, "text": words}
            return self._render(flow, state, step_id, edit=True)
        if action == "o" and step.other is not None:
            if words:  # pressing a chosen "something else" again un-chooses it
                state.slots[slot] = {"ids": ids, "text": ""}
                return self._render(flow, state, step_id, edit=True)
            return self._ask_other(flow, state, step_id, step)
        if action == "d":
            if len(ids) + (1 if words else 0) < step.min_choices:
                buttons = step_buttons(self.texts, flow, state.slots, step_id, has_history=bool(state.history))
                return [self.texts.reply("flow_pick_one", buttons)]
            state.slots[slot] = {"ids": ids, "text": words}
            return self._advance(flow, state, step.next)
        return None

    def _ask_other(self, flow: FlowSpec, state: FlowState, step_id: str, step: ChoiceStep | MultiStep) -> list[Reply]:
        state.slots[AWAIT_KEY] = step_id
        return render_other_prompt(self.texts, flow, self._opened(state.slots), step_id, step)

    def _back(self, flow: FlowSpec, state: FlowState, step_id: str) -> list[Reply] | None:
        """Back from `step_id` (the current step, or one behind it) to the step before it."""
        if step_id == state.step:
            position = len(state.history)
        elif step_id in state.history:
            position = len(state.history) - 1 - state.history[::-1].index(step_id)
        else:
            return None
        if position == 0:
            return None
        target = state.history[position - 1]
        if target not in flow.steps:
            return None
        del state.history[position - 1:]
        state.step = target
        state.slots.pop(AWAIT_KEY, None)
        return self._render(flow, state, target)

    def _advance(self, flow: FlowSpec, state: FlowState, target: str | None) -> list[Reply]:
        if target is None or target not in flow.steps:
            # Only reachable with content `check` rejects; say so kindly rather than crash.
            log.error("flow %s: step %s leads to missing step %s", flow.id, state.step, target)
            return [self.texts.reply("flow_broken", self.texts.menu("stuck"))]
        state.history.append(state.step)
        del state.history[:-MAX_HISTORY]
        state.step = target
        state.slots.pop(AWAIT_KEY, None)
        return self._render(flow, state, target)

    # --- typed answers --------------------------------------------------------------------

    def _typed(
        self, session: Session, flow: FlowSpec, state: FlowState, step: Step, text: str, said: str, *, aside: bool = False
    ) -> list[Reply] | None:
        step_id = state.step
        slot = slot_of(step_id, step)
        if said in BACK_WORDS and getattr(step, "back", False):
            return self._back(flow, state, step_id)
        if state.slots.get(AWAIT_KEY) == step_id and isinstance(step, (ChoiceStep, MultiStep)) and slot is not None:
            return self._take_own_words(flow, state, step_id, step, slot, text)
        if isinstance(step, TextStep) and slot is not None:
            if said in SKIP_WORDS and step.skip:
                return self._act(flow, state, step_id, step, "s")
            state.slots[slot] = self.sealer.seal_text(text[: step.max_chars])
            return self._advance(flow, state, step.next)
        if isinstance(step, ChoiceStep):
            index = option_index(step.options, said)
            if index is not None:
                return self._act(flow, state, step_id, step, str(index))
            # "Pick the closest, or say it in your own words": their words are the answer, unless they ask something.
            if step.other is not None and slot is not None and not aside and fits_own_words(text, said, MAX_OTHER_CHARS):
                return self._take_own_words(flow, state, step_id, step, slot, text)
            return None
        if isinstance(step, MultiStep):
            return self._typed_multi(flow, state, step_id, step, text, said, aside=aside)
        if isinstance(step, ScaleStep):
            number = scale_answer(said)
            return self._act(flow, state, step_id, step, str(number)) if number is not None else None
        if isinstance(step, InfoStep) and said in NEXT_WORDS:
            return self._act(flow, state, step_id, step, "n")
        return None

    def _typed_multi(
        self, flow: FlowSpec, state: FlowState, step_id: str, step: MultiStep, text: str, said: str, *, aside: bool = False
    ) -> list[Reply] | None:
        """"hurt, confused and anxious" ticks those options and shows the step again for Done;
        with an `other:` option, "hurt and betrayed" ticks Hurt and keeps "betrayed" as their own word."""
        if said in DONE_WORDS:
            return self._act(flow, state, step_id, step, "d")
        slot = slot_of(step_id, step) or step_id
        picks = option_indexes(step.options, text)
        words = own_words(state.slots.get(slot))
        if picks is None:
            if step.other is None or aside or not fits_own_words(text, said, MAX_OTHER_CHARS):
                return None
            parts = split_parts(text)
            picks = [index for index in (option_index(step.options, typed(part)) for part in parts) if index is not None]
            rest = [part for part in parts if option_index(step.options, typed(part)) is None]
            words = self.sealer.seal_text(", ".join(rest)[:MAX_OTHER_CHARS])
        ids = chosen_ids(state.slots.get(slot))
        ids += [step.options[index].id for index in picks if step.options[index].id not in ids]
        state.slots[slot] = {"ids": list(dict.fromkeys(ids)), "text": words}
        return self._render(flow, state, step_id)

    def _take_own_words(
        self, flow: FlowSpec, state: FlowState, step_id: str, step: ChoiceStep | MultiStep, slot: str, text: str
    ) -> list[Reply]:
        """Their own words as the answer: a choice goes on to the next step, a multiple choice shows Done again."""
        words = self.sealer.seal_text(" ".join(text.split())[:MAX_OTHER_CHARS])
        if isinstance(step, ChoiceStep):
            state.slots[slot] = {"id": OTHER_ID, "text": words}
            return self._advance(flow, state, step.next)
        state.slots[slot] = {"ids": chosen_ids(state.slots.get(slot)), "text": words}
        state.slots.pop(AWAIT_KEY, None)
        return self._render(flow, state, step_id)

    def _render(self, flow: FlowSpec, state: FlowState, step_id: str, *, edit: bool = False) -> list[Reply]:
        return render_step(
            self.texts, flow, self._opened(state.slots), step_id, has_history=bool(state.history), edit=edit
        )

    # --- small helpers --------------------------------------------------------------------

    def _opened(self, slots: dict[str, Any]) -> dict[str, Any]:
        """The answers with the person's own words readable (they may be sealed in the session)."""
        opened: dict[str, Any] = {}
        for name, value in slots.items():
            if isinstance(value, str):
                opened[name] = self.sealer.open_text(value)
            elif isinstance(value, dict) and isinstance(value.get("text"), str):
                opened[name] = {**value, "text": self.sealer.open_text(value["text"])}
            else:
                opened[name] = value
        return opened

    def _where(self, state: FlowState) -> tuple[FlowSpec, Step] | None:
        flow = self.flows.get(state.flow_id)
        if flow is None or state.step not in flow.steps:
            return None
        return flow, flow.steps[state.step]

    def _finished(self, state: FlowState) -> bool:
        found = self._where(state)
        return found is None or isinstance(found[1], EndStep)

    @staticmethod
    def _touch(session: Session, replies: list[Reply] | None) -> None:
        if replies is not None and session.flow is not None:
            session.flow.updated_at = utcnow().isoformat(timespec="seconds")
