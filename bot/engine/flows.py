"""Guided flows: placeholder runner until the YAML flow runner lands (issue 5)."""

from __future__ import annotations

from bot.catalog.loader import Catalog
from bot.engine.payloads import Payload
from bot.engine.replies import Incoming, Reply
from bot.engine.session import FlowState, Session
from bot.engine.texts import Texts


class FlowRunner:
    """Runs content-defined flows over a stored `FlowState`."""

    def __init__(self, catalog: Catalog, texts: Texts) -> None:
        self.catalog = catalog
        self.texts = texts

    def on_payload(self, session: Session, payload: Payload) -> list[Reply] | None:
        return [self.texts.reply("flow_unavailable", self.texts.menu())]

    def on_input(self, session: Session, incoming: Incoming) -> list[Reply] | None:
        return None

    def expects_contact(self, state: FlowState) -> bool:
        return False

    def continue_offer(self, session: Session) -> list[Reply]:
        return []

    def resume_offer(self, session: Session) -> list[Reply]:
        return []


def validate_flows(catalog: Catalog) -> list[str]:
    """Problems in content/flows/ (none until the flow runner lands)."""
    return []
