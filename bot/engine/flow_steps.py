"""How a flow's state moves: what a pressed step button or a typed answer does to a `FlowState`.

Kept apart from `flows.py` (what the engine and the journal call, starting, stopping and
resuming a flow) because this is the walk itself: choose an option, tick several, rate on a
scale, write own words, skip, go back, advance; each returns the replies of the step it lands on.
`FlowRunner` takes these methods as a base class.
"""

from __future__ import annotations

import logging
from typing import Any, Final

from bot.engine.flow_input import (
    BACK_WORDS,
    DONE_WORDS,
    NEXT_WORDS,
    SKIP_WORDS,
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
    slot_of,
)
from bot.engine.flow_render import render_other_prompt, render_step, step_buttons
from bot.engine.flow_values import OTHER_ID, chosen_ids, own_words
from bot.engine.replies import Reply, utcnow
from bot.engine.sealing import Sealer
from bot.engine.session import FlowState, Session
from bot.engine.texts import Texts

# The flow runner's log lines keep one logger name.
log = logging.getLogger("bot.engine.flows")

MAX_OTHER_CHARS: Final = 300
MAX_HISTORY: Final = 60
AWAIT_KEY: Final = "_await"


class FlowSteps:
    """The step walker of `FlowRunner` (its `texts`, `flows` and `sealer` are set by the runner)."""

    texts: Texts
    flows: Any  # the localised flows (`bot.engine.flow_languages`)
    sealer: Sealer

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
