"""A person's conversation state: typed, stored as JSON, restored after a restart."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from bot.engine.replies import utcnow


@dataclass
class FlowState:
    """Where a person is in a guided flow: the flow, the step, and what they chose so far."""

    flow_id: str
    step: str
    slots: dict[str, Any] = field(default_factory=dict)
    history: list[str] = field(default_factory=list)
    updated_at: str = field(default_factory=lambda: utcnow().isoformat(timespec="seconds"))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FlowState:
        return cls(
            flow_id=str(data["flow_id"]),
            step=str(data["step"]),
            slots=dict(data.get("slots") or {}),
            history=[str(step) for step in data.get("history") or []],
            updated_at=str(data.get("updated_at") or utcnow().isoformat(timespec="seconds")),
        )


@dataclass
class Session:
    """Everything the engine remembers about one person between messages.

    consent: None until asked; True lets the bot keep optional data (see the privacy text).
    misunderstood: fallbacks in a row, so the third one offers a person instead.
    flow: the active guided flow; paused_flow: one interrupted (by a safety answer or a
    question), offered back rather than resumed silently.
    """

    user_id: int
    welcomed: bool = False
    consent: bool | None = None
    misunderstood: int = 0
    last_intent: str | None = None
    flow: FlowState | None = None
    paused_flow: FlowState | None = None
    handoff_open: bool = False
    first_name: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, user_id: int, data: dict[str, Any] | None) -> Session:
        """Rebuild a session; unknown or broken fields fall back to a fresh state rather than failing."""
        if not data:
            return cls(user_id=user_id)
        flow = data.get("flow")
        paused = data.get("paused_flow")
        return cls(
            user_id=user_id,
            welcomed=bool(data.get("welcomed", False)),
            consent=data.get("consent") if data.get("consent") in (True, False, None) else None,
            misunderstood=int(data.get("misunderstood") or 0),
            last_intent=data.get("last_intent"),
            flow=FlowState.from_dict(flow) if isinstance(flow, dict) else None,
            paused_flow=FlowState.from_dict(paused) if isinstance(paused, dict) else None,
            handoff_open=bool(data.get("handoff_open", False)),
            first_name=str(data.get("first_name") or ""),
        )
