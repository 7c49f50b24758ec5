"""What a feature is to the engine: one typed protocol. The ordered list itself is declared in `bot/app.py`.

A feature owns some payload kinds (its buttons and the commands that map to them) and may
take part in a turn at a few fixed points. The engine asks every feature, in the declared
order, at each point; the first answer wins where an answer ends the turn.

- `gate`: right after the safety check; replies end the turn (a person flooding the bot is slowed down);
- `on_payload`: a button or command of one of its `kinds`;
- `expects_contact`: whether a shared contact answers one of its open steps;
- `on_text`: free text (or a contact) while one of its steps is open, before intent matching;
- `on_fallback`: told the text of a question the bot could not answer;
- `on_safety`: told after a safety answer or check-in (an open chat with the team still carries it);
- `on_forget`: /forget; returns what was erased, by name;
- `on_housekeeping`: the scheduled purge (`bot.engine.maintenance`); returns what went, by name;
- `steps`: its own steps, shown again after a question and offered back after a safety answer.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from bot.engine.payloads import Payload
from bot.engine.replies import Incoming, Reply
from bot.engine.session import Session
from bot.engine.steps import StepAction

if TYPE_CHECKING:
    from bot.engine.core import Engine


class Feature(Protocol):
    """A part of the dialogue beside the engine's own routing (booking, handoff, journal)."""

    name: str
    # The payload kinds it owns: `<kind>:<args>` buttons, and the commands the engine maps to them.
    kinds: frozenset[str]
    steps: StepAction | None

    async def on_payload(self, session: Session, payload: Payload, incoming: Incoming) -> list[Reply]: ...

    async def gate(self, session: Session, incoming: Incoming) -> list[Reply] | None: ...

    async def expects_contact(self, session: Session) -> bool: ...

    async def on_text(self, session: Session, incoming: Incoming) -> list[Reply] | None: ...

    async def on_fallback(self, session: Session, text: str) -> None: ...

    async def on_safety(self, session: Session, incoming: Incoming, label: str) -> None: ...

    async def on_forget(self, user_id: int) -> dict[str, int]: ...

    async def on_housekeeping(self, now: datetime) -> dict[str, int]: ...


class FeatureBase:
    """The optional parts of `Feature`, doing nothing: a feature overrides only what it takes part in."""

    name: str = ""
    kinds: frozenset[str] = frozenset()
    steps: StepAction | None = None

    async def gate(self, session: Session, incoming: Incoming) -> list[Reply] | None:
        """Nothing held back."""
        return None

    async def expects_contact(self, session: Session) -> bool:
        """No step of its own waits for a contact."""
        return False

    async def on_text(self, session: Session, incoming: Incoming) -> list[Reply] | None:
        """The text is not for it."""
        return None

    async def on_fallback(self, session: Session, text: str) -> None:
        """Nothing to keep."""

    async def on_safety(self, session: Session, incoming: Incoming, label: str) -> None:
        """Nothing to carry."""

    async def on_forget(self, user_id: int) -> dict[str, int]:
        """Nothing of this person kept."""
        return {}

    async def on_housekeeping(self, now: datetime) -> dict[str, int]:
        """Nothing kept that expires."""
        return {}


# Builds one feature for an engine; `bot/app.py` declares them, in order.
FeatureFactory = Callable[["Engine"], Feature]
