"""What a form shows, and where a record stands in it: a mixin of `bot.engine.forms.FormRunner`.

Each step's question with its buttons (an option's label is a text key with "{option}"), a
`pick` step's question written by its named action, the summary, and "what would you like to change?".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.catalog.form_model import SUMMARY, FormSpec, FormStep
from bot.engine import payloads
from bot.engine.flow_input import label_forms, typed
from bot.engine.replies import Button, Incoming, Reply
from bot.engine.session import Session
from bot.engine.texts import Texts


@dataclass(frozen=True)
class Call:
    """What a named action is given: the record (as it is now), and what its role needs."""

    record: Any = None
    value: str = ""  # the value picked, or the page asked for (`more`)
    session: Session | None = None
    incoming: Incoming | None = None
    intro: str | None = None  # `choices`: a text key to open with instead of the question


Action = Callable[[Call], Awaitable[Any]]


def answer_of(record: Any, field: str) -> Any:
    """A record's answer: its attribute, else `record.answer(field)` (a step kept without a column of its own)."""
    return getattr(record, field) if hasattr(record, field) else record.answer(field)


class FormViews:
    """Reads the form and the record; changes nothing (the runner sets these attributes)."""

    spec: FormSpec
    steps: Mapping[str, FormStep]
    texts: Texts
    actions: Mapping[str, Action]
    order: tuple[str, ...]

    def payload(self, record_id: object, *args: object) -> str:
        """A button of the form: `<button>:<record id>:<action>[:<value>]`."""
        return payloads.build(self.spec.button, record_id, *args)

    def applies(self, record: Any, step_id: str) -> bool:
        return all(answer_of(record, name) == value for name, value in self.steps[step_id].when.items())

    def missing(self, record: Any) -> str:
        """The first step still unanswered (its `when` holding); SUMMARY when the record is complete."""
        for step_id, step in self.steps.items():
            value = answer_of(record, self.spec.field_of(step_id))
            if self.applies(record, step_id) and (value is None or (value == "" and step.skip is None)):
                return step_id
        return SUMMARY

    def current(self, record: Any) -> str:
        """The stored step (a change may revisit an answered one), or an earlier one gone missing meanwhile."""
        stored, missing = str(record.step or self.order[0]), self.missing(record)
        if stored not in self.order or self.order.index(missing) < self.order.index(stored):
            return missing
        return stored

    def _before(self, record: Any, step_id: str) -> str | None:
        """The step asked before `step_id` (one whose `when` holds)."""
        earlier = list(self.steps)[: list(self.steps).index(step_id)] if step_id in self.steps else []
        return next((s for s in reversed(earlier) if self.applies(record, s)), None)

    # --- what is shown ----------------------------------------------------------------------------------

    async def show(self, record: Any, step_id: str, *, ask: str | None = None, intro: str | None = None) -> list[Reply]:
        """A step's question and buttons (`ask`: other words for it; `intro`: for a `pick` step's action)."""
        if step_id == SUMMARY:
            return [await self._summary(record)]
        step = self.steps[step_id]
        if step.answer == "pick" and step.choices:
            return [await self._act(step.choices, Call(record, intro=intro))]
        rows: list[tuple[Button, ...]] = []
        if step.answer == "buttons":
            offered = await self._act(step.offered, Call(record)) if step.offered else step.options
            rows = [self._option(record, step_id, option) for option in step.options if option in offered]
        elif step.answer == "contact":
            rows = [self._option(record, *offer.split(".", 1)) for offer in step.offers]
        elif step.skip:
            rows = [*self._row(step.skip, self.payload(record.id, step_id, "skip"))]
        if step.back and self._before(record, step_id) is not None:
            rows.extend(self._row("flow_back_label", self.payload(record.id, "back", step_id)))
        return [self.texts.reply(ask or str(step.ask), rows, request_contact=step.answer == "contact")]

    def answer_lines(self, record: Any) -> list[str]:
        """The answers of the steps with a `line:`, in plain words (an option by its label), one per line."""
        lines = []
        for step_id, step in self.steps.items():
            value = answer_of(record, self.spec.field_of(step_id))
            if step.line and value:
                label = str(step.label).replace("{option}", str(value))
                lines.append(self.texts.get(step.line, value=self.texts.get(label) if step.answer == "buttons" else str(value)))
        return lines

    async def _summary(self, record: Any) -> Reply:
        summary, record_id = self.spec.summary, record.id
        values = await self._act(summary.values, Call(record))
        rows = (
            (Button(self.texts.get(summary.confirm), self.payload(record_id, "confirm")),),
            (
                Button(self.texts.get(summary.change), self.payload(record_id, "change")),
                Button(self.texts.get(self.spec.texts.cancel_label), self.payload(record_id, "cancel")),
            ),
        )
        return self.texts.reply(summary.text, rows, **values)

    def _change_question(self, record: Any) -> Reply:
        rows = [self._row(step.change.label, self.payload(record.id, "edit", step.change.name or step_id))[0]
                for step_id, step in self.steps.items() if step.change is not None]
        return self.texts.reply(self.spec.summary.change_question, rows)

    def _option(self, record: Any, step_id: str, option: str) -> tuple[Button, ...]:
        label = str(self.steps[step_id].label).replace("{option}", option)
        return (Button(self.texts.get(label), self.payload(record.id, step_id, option)),)

    def _row(self, label_key: str, payload: str) -> tuple[tuple[Button, ...], ...]:
        return ((Button(self.texts.get(label_key), payload),),)

    async def _typed_button(self, record: Any, step_id: str, text: str) -> str | None:
        """The payload of the shown step's button whose label was typed, if one was."""
        said = typed(text)
        for reply in await self.show(record, step_id) if said else []:
            for button in reply.all_buttons():
                if said in label_forms(button.label):
                    return button.payload
        return None

    def gone(self) -> Reply:
        return self.texts.reply(self.spec.texts.gone, self._row(self.spec.texts.start_label, self.spec.start))

    def expired(self) -> list[Reply]:
        return [self.texts.reply("button_expired", self.texts.menu())]

    async def _hook(self, role: str, call: Call) -> Any:
        name = getattr(self.spec.actions, role)
        return await self._act(name, call) if name else None

    async def _act(self, name: str, call: Call) -> Any:
        return await self.actions[name](call)
