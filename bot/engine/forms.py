"""The form runner: guided steps whose answers fill a record that code works on (the booking's draft).

A form is declared in content/forms/<id>.yaml (`bot.catalog.form_model`): its steps in order, each
keeping its answer in one field of the record. The step asked is the first whose answer is missing,
or the one a change from the summary revisits. What needs code is an action the feature names and
registers (`FormRunner(..., actions={name: action})`), so the engine never imports a feature.

It shares the flows' machinery (`bot.engine.flows`, `bot.engine.flow_input`): the step timeout
(`older_than`), a step shown again after a question (`shown_again`), "continue or start over",
typed labels pressing their button, Back words; and it is a `StepAction` (`bot.engine.steps`),
paused by a safety answer and offered back like every step.

Buttons: `<button>:<record id>:<step>:<answer>`, `<button>:<id>:<more>:<page>`, and the form's own
`resume`, `change`, `edit:<name>`, `cancel`, `confirm`, `back:<step>`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.catalog.form_model import SUMMARY, LoadedForm
from bot.engine import payloads
from bot.engine.flow_input import BACK_WORDS, looks_like_phone, typed
from bot.engine.step_shared import continue_or_restart, older_than, shown_again
from bot.engine.form_views import Action, Call, FormViews, answer_of
from bot.engine.payloads import Payload
from bot.engine.replies import Incoming, Reply
from bot.engine.session import Session
from bot.engine.steps import clear_pause
from bot.engine.texts import Texts
from bot.errors import ContentError


class Records(Protocol):
    """Where a form's answers are kept: a record per person (with `id`, `step`, `updated_at` and the fields)."""

    async def get(self, record_id: int) -> Any | None: ...

    async def draft(self, record_id: int, user_id: int) -> Any | None:
        """The record, if it is this person's and not yet sent."""
        ...

    async def draft_of(self, user_id: int) -> Any | None: ...

    async def new_draft(self, user_id: int, first_name: str, username: str | None, now: datetime, *, step: str) -> int: ...

    async def update_draft(self, record_id: int, now: datetime, **fields: object) -> None: ...

    async def drop_draft(self, record_id: int) -> object: ...

    async def purge_drafts(self, before: datetime) -> int: ...


class FormRunner(FormViews):
    """Runs one declared form over its records; a `StepAction` for the engine."""

    def __init__(
        self, form: LoadedForm, texts: Texts, records: Records, actions: Mapping[str, Action], clock: Callable[[], datetime]
    ) -> None:
        missing = [f"{where}: form '{form.spec.id}': no action '{name}' is registered"
                   for name, where in form.named_actions().items() if name not in actions]
        if missing:
            raise ContentError(missing)
        self.spec, self.texts, self.records, self.actions, self.clock = form.spec, texts, records, actions, clock
        self.steps = form.spec.steps
        self.name = form.spec.id
        self.resume_key = form.spec.texts.resume_question
        self.order = (*self.steps, SUMMARY)
        self.timeout = timedelta(minutes=form.spec.timeout_minutes)

    # --- where a record stands ------------------------------------------------------------------------

    async def open_record(self, user_id: int) -> Any | None:
        """The person's draft while its step still waits for them (touched within the form's timeout)."""
        record = await self.records.draft_of(user_id)
        if record is None or older_than(record.updated_at, self.timeout, self.clock()):
            return None
        return record

    # --- entry points ---------------------------------------------------------------------------------

    async def start(self, session: Session, incoming: Incoming, *, restart: bool = False) -> list[Reply]:
        """Begin (or offer to continue the half-done draft; `restart`: begin afresh)."""
        blocked = await self._hook("start", Call(session=session, incoming=incoming))
        if blocked is not None:
            return blocked
        now = self.clock()
        await self.records.purge_drafts(now - timedelta(hours=self.spec.keep_hours))
        clear_pause(session, self.name)
        first = self.order[0]
        draft = await self.records.draft_of(session.user_id)
        if draft is not None and answer_of(draft, self.spec.field_of(first)) is not None and not restart:
            go_on, again = self.payload(draft.id, "resume"), payloads.build(self.spec.start, "new")
            return [continue_or_restart(self.texts, self.spec.texts.continue_or_restart, go_on, again)]
        record_id = await self.records.new_draft(session.user_id, session.first_name, incoming.username, now, step=first)
        return [self.texts.reply(self.spec.texts.intro), *await self.show(await self.records.get(record_id), first)]

    async def on_button(self, session: Session, payload: Payload) -> list[Reply]:
        """A button of the form: `<button>:<record id>:<action>[:<value>]`."""
        raw = payload.arg(0)
        record = await self.records.draft(int(raw), session.user_id) if raw.isdigit() else None
        if record is None:
            return [self.gone()]
        clear_pause(session, self.name)  # carrying on by a button: nothing to offer back
        action, value, record_id = payload.arg(1), payload.arg(2), int(record.id)
        if action == "resume":
            return await self.resume(record)
        if action == "change":
            return [self._change_question(record)]
        if action == "edit":
            return await self._edit(record, value)
        if action == "back":
            return await self._back(record, value)
        if action == "cancel":
            await self.records.drop_draft(record_id)
            return [self.texts.reply(self.spec.texts.cancelled, self.texts.menu())]
        if action == "confirm":
            if self.missing(record) != SUMMARY:
                return await self.after_change(record_id)
            return await self._act(self.spec.summary.submit, Call(record, session=session))
        return await self._answer(record, action, value)

    async def on_text(self, session: Session, incoming: Incoming) -> list[Reply] | None:
        """Typed text (or a shared contact) at the open step; None when it is not the step's answer."""
        record = await self.open_record(session.user_id)
        if record is None:
            return None
        step_id, record_id = self.current(record), int(record.id)
        step = self.steps.get(step_id)
        if incoming.kind == "contact":
            if step is None or step.answer != "contact" or not incoming.contact_phone:
                return None
            clear_pause(session, self.name)
            await self._keep(record_id, step_id, incoming.contact_phone[: step.max_chars or None])
            return await self.after_change(record_id)
        text = incoming.text.strip()
        if incoming.kind != "text" or not text:
            return None
        pressed = payloads.parse(await self._typed_button(record, step_id, text))
        if pressed is not None and pressed.kind == self.spec.button:
            return await self.on_button(session, pressed)
        if session.paused_step == self.name or step is None:
            return None  # after a safety answer, "thank you" is no answer: the person is asked first
        if step.back and typed(text) in BACK_WORDS:
            return await self._back(record, step_id)
        target = self._number_step(step_id) if looks_like_phone(text) else None
        if target is not None:
            # Never kept: only a number shared through the channel's own button is surely theirs.
            if target != step_id:
                await self._keep(record_id, step_id, self.steps[target].when[self.spec.field_of(step_id)], step=target)
            return await self.show(record, target, ask=self.steps[target].typed_number)
        if step.answer == "text":
            return await self._take_text(record_id, step_id, text)
        return None

    async def expects_contact(self, session: Session) -> bool:
        """Whether a shared contact answers the person's current step."""
        record = await self.records.draft_of(session.user_id)
        step = self.steps.get(str(record.step)) if record is not None else None
        return step is not None and step.answer == "contact"

    async def purge(self, now: datetime) -> int:
        """Drafts nobody finished within the form's `keep_hours`."""
        return await self.records.purge_drafts(now - timedelta(hours=self.spec.keep_hours))

    # --- the engine's StepAction ------------------------------------------------------------------------

    async def is_open(self, session: Session) -> bool:
        return await self.open_record(session.user_id) is not None

    async def step_again(self, session: Session) -> list[Reply]:
        """The open step again after a question, with its buttons and a way to cancel."""
        record = await self.open_record(session.user_id)
        if record is None:
            return []
        shown = await self.show(record, self.current(record))
        cancel = self.payload(record.id, "cancel")
        extra = () if cancel in {b.payload for b in shown[-1].all_buttons()} else self._row(self.spec.texts.cancel_label, cancel)
        return [*shown[:-1], shown_again(self.texts.get(self.spec.texts.again), shown[-1], extra)]

    async def go_back(self, session: Session) -> list[Reply]:
        record = await self.records.draft_of(session.user_id)
        if record is None:
            return [self.gone()]
        return [self.texts.reply(self.spec.texts.resumed), *await self.resume(record)]

    async def leave(self, session: Session) -> list[Reply]:
        record = await self.records.draft_of(session.user_id)
        if record is not None:
            await self._hook("leave", Call(record))
        return [self.texts.reply(self.spec.texts.left, self.texts.menu())]

    async def resume(self, record: Any) -> list[Reply]:
        """The record's step again (after the `resume` action had its say), fresh for another timeout."""
        lost = await self._hook("resume", Call(record))
        if lost is not None:
            return lost
        step_id = self.current(record)
        await self.records.update_draft(int(record.id), self.clock(), step=step_id)
        return await self.show(await self.records.get(int(record.id)), step_id)

    # --- answers ----------------------------------------------------------------------------------------

    async def _answer(self, record: Any, action: str, value: str) -> list[Reply]:
        step_id = next((s for s, step in self.steps.items() if action in {s, step.more}), None)
        if step_id is None:
            return self.expired()
        step, record_id = self.steps[step_id], int(record.id)
        if step.answer == "pick" and step.choices and step.pick:
            if self.order.index(self.missing(record)) < self.order.index(step_id):
                return await self.after_change(record_id)  # its choices depend on the answers before it
            if action == step.more:
                shown = await self._act(step.choices, Call(record, value=value)) if value else None
                return [shown] if shown is not None else self.expired()
            refused = await self._act(step.pick, Call(record, value=value))
            return refused if refused is not None else await self.after_change(record_id)
        if (step.answer == "buttons" and value in step.options) or (step.answer == "text" and step.skip and value == "skip"):
            await self._keep(record_id, step_id, "" if step.answer == "text" else value)
            return await self.after_change(record_id)
        return self.expired()

    async def _keep(self, record_id: int, step_id: str, value: object, **more: object) -> None:
        """An answer kept (the fields it `resets` asked again), then the step's `after` action."""
        step = self.steps[step_id]
        fields = {self.spec.field_of(step_id): value, **{name: None for name in step.resets}, **more}
        await self.records.update_draft(record_id, self.clock(), **fields)
        if step.after:
            await self._act(step.after, Call(await self.records.get(record_id)))

    async def _take_text(self, record_id: int, step_id: str, text: str) -> list[Reply]:
        step, replies = self.steps[step_id], []
        if step.max_chars and len(text) > step.max_chars:
            text = text[: step.max_chars]
            if step.trimmed:
                replies.append(self.texts.reply(step.trimmed, limit=str(step.max_chars)))
        await self._keep(record_id, step_id, text)
        return replies + await self.after_change(record_id)

    def _number_step(self, step_id: str) -> str | None:
        """The contact step a typed phone number belongs to: this one, or the one an answer here leads to."""
        if self.steps[step_id].answer == "contact":
            return step_id if self.steps[step_id].typed_number else None
        field = self.spec.field_of(step_id)
        return next((s for s, step in self.steps.items() if step.answer == "contact" and step.typed_number and field in step.when), None)

    async def after_change(self, record_id: int) -> list[Reply]:
        """Ask for the next missing answer, or show the summary."""
        record = await self.records.get(record_id)
        assert record is not None
        step_id = self.missing(record)
        await self.records.update_draft(record_id, self.clock(), step=step_id)
        return await self.show(record, step_id)

    async def _edit(self, record: Any, name: str) -> list[Reply]:
        """Change one answer from the summary: asked afresh (`clears`), or its step shown again."""
        step_id = next((s for s, step in self.steps.items() if step.change and (step.change.name or s) == name), None)
        if step_id is None:
            return self.expired()
        step, record_id = self.steps[step_id], int(record.id)
        if step.change is not None and step.change.clears:
            cleared = {self.spec.field_of(step_id): None, **{field: None for field in step.resets}}
            await self.records.update_draft(record_id, self.clock(), **cleared)
            return await self.after_change(record_id)
        await self.records.update_draft(record_id, self.clock(), step=step_id)
        return await self.show(record, step_id)

    async def _back(self, record: Any, step_id: str) -> list[Reply]:
        before = self._before(record, step_id)
        if before is None:
            return self.expired()
        await self.records.update_draft(int(record.id), self.clock(), step=before)
        return await self.show(record, before)
