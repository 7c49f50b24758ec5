"""Action steps that bend around a person: the booking's steps, beside the flows' own.

A guided flow keeps its place in `Session.flow`; an action with steps of its own (the
booking wizard, asking to change a booking) keeps its place in its own tables. Both bend
the same way:

- a question typed in the middle of a step is answered, then the step is shown again with
  its buttons (`step_again`), so a slot list is never lost to a question;
- a safety answer in the middle of a step pauses it (`Session.paused_step`); the next turn
  asks once whether to go back (`offer`), and "go back" shows the same step again. Until
  then nothing typed is taken as the step's answer ("thank you" is not a booking note),
  except a button's own label, which clearly carries on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Final, Protocol

from bot.engine.replies import Reply
from bot.engine.session import Session
from bot.engine.texts import Texts
from bot.errors import StorageError

log = logging.getLogger(__name__)

# `stepback:yes` / `stepback:no`: the answer to "go back to where we were?" for an action step.
STEP_BACK_KIND: Final = "stepback"


class StepAction(Protocol):
    """An action with steps of its own, registered on the engine (`Engine.step_actions`)."""

    name: str
    # The question "go back to it?" for this action (a text key; the buttons are the engine's).
    resume_key: str

    async def is_open(self, session: Session) -> bool:
        """Whether one of its steps is waiting for this person now."""
        ...

    async def step_again(self, session: Session) -> list[Reply]:
        """The open step shown again with its buttons ([] when none is open)."""
        ...

    async def go_back(self, session: Session) -> list[Reply]:
        """Back to the step a safety answer interrupted."""
        ...

    async def leave(self, session: Session) -> list[Reply]:
        """The person chose to leave it for now."""
        ...


def clear_pause(session: Session, name: str) -> None:
    """The person carried on with `name` (a button, a typed label): nothing to offer back any more."""
    if session.paused_step == name:
        session.paused_step = None
        session.paused_step_offered = False


async def pause(actions: Sequence[StepAction], session: Session) -> None:
    """A safety answer interrupts whatever step was open: remember it, to offer it back later."""
    for action in actions:
        if await action.is_open(session):
            session.paused_step = action.name
            session.paused_step_offered = False
            return


async def offer(actions: Sequence[StepAction], session: Session, texts: Texts) -> list[Reply]:
    """Once, after the safety answer: "would you like to go back to it?"."""
    if session.paused_step is None or session.paused_step_offered:
        return []
    action = _named(actions, session.paused_step)
    try:
        still_open = action is not None and await action.is_open(session)
    except StorageError:
        log.warning("paused step not offered back (storage)")
        return []  # offered on a later turn
    if action is None or not still_open:
        clear_pause(session, session.paused_step)
        return []
    session.paused_step_offered = True
    buttons = (
        (texts.button("resume_yes_label", f"{STEP_BACK_KIND}:yes"),),
        (texts.button("resume_no_label", f"{STEP_BACK_KIND}:no"),),
    )
    return [texts.reply(action.resume_key, buttons)]


async def answer(actions: Sequence[StepAction], session: Session, choice: str) -> list[Reply] | None:
    """"Go back to it" or "leave it for now"; None when there is nothing to go back to (an expired button)."""
    if choice not in {"yes", "no"}:
        return None
    action = _named(actions, session.paused_step) if session.paused_step else None
    if action is None:
        # Pressed after carrying on some other way: whatever step is still open is the one meant.
        for candidate in actions:
            if await candidate.is_open(session):
                action = candidate
                break
    if action is None:
        return None
    clear_pause(session, action.name)
    return await (action.go_back(session) if choice == "yes" else action.leave(session))


async def step_again(actions: Sequence[StepAction], session: Session) -> list[Reply]:
    """After a question answered mid-step: the open step again (not while a safety answer paused it)."""
    if session.paused_step is not None:
        return []
    try:
        for action in actions:
            replies = await action.step_again(session)
            if replies:
                return replies
    except StorageError:
        log.warning("open step not shown again (storage)")  # the answer itself still goes out
    return []


def _named(actions: Sequence[StepAction], name: str | None) -> StepAction | None:
    return next((action for action in actions if action.name == name), None)
