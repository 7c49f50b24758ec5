"""How a flow step looks: its messages (filled from the person's answers) and its buttons.

Pure functions of the step, the answers and the texts; the runner decides which step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from bot.engine import payloads
from bot.engine.flow_model import (
    JOURNAL_SAVE_GOTO,
    SCALE_MAX,
    SCALE_MIN,
    STEP_GOTO_PREFIX,
    ChoiceStep,
    EndStep,
    FlowButton,
    FlowSpec,
    InfoStep,
    MultiStep,
    ScaleStep,
    Step,
    TextStep,
    slot_of,
)
from bot.engine.flow_values import chosen_ids, own_words, pick_messages, template_values
from bot.engine.replies import Button, Reply
from bot.engine.texts import Texts

Rows = tuple[tuple[Button, ...], ...]
# Two short options side by side fit a phone; longer labels get a row each.
SIDE_BY_SIDE_MAX_CHARS = 18


def fl_payload(flow_id: str, step_id: str, action: str) -> str:
    """A step button's payload: `fl:<flow>:<step>:<action>`."""
    return payloads.build("fl", flow_id, step_id, action)


def as_messages(key: str, messages: list[str], buttons: Rows) -> list[Reply]:
    """One reply per message; the last one carries the buttons."""
    replies = [Reply(key=key, text=message) for message in messages[:-1]]
    replies.append(Reply(key=key, text=messages[-1], buttons=buttons))
    return replies


def quoted(texts: Texts) -> Callable[[str], str]:
    """How the person's own words are marked as theirs in this language (“…”)."""
    return lambda words: texts.get("flow_own_words", words=words)


def fill_all(texts: Texts, flow: FlowSpec, slots: Mapping[str, Any], messages: list[str]) -> list[str]:
    values = template_values(flow, slots, texts.get("flow_word_and"), quoted(texts))
    return [texts.fill(message, **values) for message in messages]


def render_step(
    texts: Texts, flow: FlowSpec, slots: Mapping[str, Any], step_id: str, *, has_history: bool, edit: bool = False
) -> list[Reply]:
    """A step as messages (its variant for these answers); only the last when editing a toggle."""
    step = flow.steps[step_id]
    messages = fill_all(texts, flow, slots, pick_messages(flow, step, slots))
    replies = as_messages(f"flow.{flow.id}.{step_id}", messages, step_buttons(texts, flow, slots, step_id, has_history=has_history))
    if edit:
        last = replies[-1]
        return [Reply(key=last.key, text=last.text, buttons=last.buttons, edit_previous=True)]
    return replies


def render_other_prompt(texts: Texts, flow: FlowSpec, slots: Mapping[str, Any], step_id: str, step: ChoiceStep | MultiStep) -> list[Reply]:
    """"Something else": ask for their own words, with a way back to the choices."""
    assert step.other is not None
    buttons = (
        (texts.button("flow_other_back_label", fl_payload(flow.id, step_id, "c")),),
        (texts.button("flow_stop_label", "flow:stop"),),
    )
    return as_messages(f"flow.{flow.id}.{step_id}.other", fill_all(texts, flow, slots, list(step.other.prompt)), buttons)


def step_buttons(texts: Texts, flow: FlowSpec, slots: Mapping[str, Any], step_id: str, *, has_history: bool) -> Rows:
    """The step's own buttons, then Back (when it has one and there is a step behind) and Stop."""
    step = flow.steps[step_id]

    def fl(action: str) -> str:
        return fl_payload(flow.id, step_id, action)

    rows: list[tuple[Button, ...]] = []
    if isinstance(step, ChoiceStep):
        rows += [(Button(option.label, fl(str(i))),) for i, option in enumerate(step.options)]
        if step.other is not None:
            rows.append((Button(step.other.label, fl("o")),))
    elif isinstance(step, MultiStep):
        rows += _multi_rows(step, slots.get(slot_of(step_id, step) or step_id), fl)
        rows.append((texts.button("flow_done_label", fl("d")),))
    elif isinstance(step, ScaleStep):
        rows.append(tuple(Button(str(n), fl(str(n))) for n in range(SCALE_MIN, SCALE_MAX + 1)))
    elif isinstance(step, TextStep) and step.skip:
        rows.append((texts.button("flow_skip_label", fl("s")),))
    elif isinstance(step, InfoStep):
        rows.append((Button(step.next_label or texts.get("flow_next_label"), fl("n")),))
    if isinstance(step, (InfoStep, EndStep)):
        rows += [(_flow_button(spec, fl(str(i))),) for i, spec in enumerate(step.buttons)]
    rows.append(_nav_row(texts, step, fl("b"), has_history=has_history))
    return tuple(rows)


def _multi_rows(step: MultiStep, value: Any, fl: Callable[[str], str]) -> list[tuple[Button, ...]]:
    chosen = set(chosen_ids(value))

    def mark(on: bool, label: str) -> str:
        return f"✓ {label}" if on else label

    options = [Button(mark(o.id in chosen, o.label), fl(str(i))) for i, o in enumerate(step.options)]
    if step.other is not None:
        options.append(Button(mark(bool(own_words(value)), step.other.label), fl("o")))
    per_row = 2 if all(len(b.label) <= SIDE_BY_SIDE_MAX_CHARS for b in options) else 1
    return [tuple(options[i:i + per_row]) for i in range(0, len(options), per_row)]


def _nav_row(texts: Texts, step: Step, back_payload: str, *, has_history: bool) -> tuple[Button, ...]:
    nav: list[Button] = []
    if getattr(step, "back", False) and has_history:
        nav.append(texts.button("flow_back_label", back_payload))
    # Every step has a way out; on the last one it reads "Finish".
    nav.append(texts.button("flow_close_label" if isinstance(step, EndStep) else "flow_stop_label", "flow:stop"))
    return tuple(nav)


def _flow_button(spec: FlowButton, own_payload: str) -> Button:
    if spec.goto.startswith(STEP_GOTO_PREFIX):
        return Button(spec.label, own_payload)
    if spec.goto == JOURNAL_SAVE_GOTO:
        return Button(spec.label, "jr:save")
    return Button(spec.label, spec.goto)
