"""What a finished flow would save to the journal (`JournalDraft`), and whether it was saved.

Kept apart from the runner (`flows.py`): the journal feature is its only reader, and building
the entry is a read of the answers, never a move of the flow. `FlowRunner` takes these methods
as a base class, so the journal still asks `engine.flows`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from bot.engine.flow_model import EndStep, FlowSpec, Step, slot_of
from bot.engine.flow_render import quoted
from bot.engine.flow_values import answer_phrases, scale_value, template_values
from bot.engine.session import FlowState, Session
from bot.engine.texts import Texts

SAVED_KEY: Final = "_saved"


@dataclass(frozen=True)
class JournalDraft:
    """What a finished flow would save to the journal."""

    flow_id: str
    title: str
    feelings: tuple[str, ...]
    intensity: int | None
    text: str


class FlowJournal:
    """The journal's questions to the flow runner (`texts`, `_where` and `_opened` are the runner's)."""

    texts: Texts

    def _where(self, state: FlowState) -> tuple[FlowSpec, Step] | None:
        raise NotImplementedError

    def _opened(self, slots: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

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
