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
class CheckIn:
    """A gentle safety question waiting for an answer, and what the message was otherwise about.

    `text` is the message that raised the question (sealed when a key is set), kept only until the
    person answers, so "I'm okay" carries on with it and a "yes" shows staff what was written.
    """

    event_id: int
    label: str
    decision: str = "fallback"
    predicted: str = "out_of_scope"
    candidates: list[str] = field(default_factory=list)
    text: str = ""
    asked_at: str = field(default_factory=lambda: utcnow().isoformat(timespec="seconds"))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckIn | None:
        try:
            return cls(
                event_id=int(data["event_id"]),
                label=str(data["label"]),
                decision=str(data.get("decision") or "fallback"),
                predicted=str(data.get("predicted") or "out_of_scope"),
                candidates=[str(item) for item in data.get("candidates") or []][:3],
                text=str(data.get("text") or ""),
                asked_at=str(data.get("asked_at") or utcnow().isoformat(timespec="seconds")),
            )
        except (KeyError, TypeError, ValueError):
            return None


@dataclass
class Session:
    """Everything the engine remembers about one person between messages.

    consent: None until asked; True lets the bot keep optional data (see the privacy text).
    misunderstood: fallbacks in a row, so the third one offers a person instead.
    language: the language the person writes in ("en", "hinglish", "hi"), once known;
    language_chosen: they picked it with /language (then detection no longer switches it);
    language_streak: messages in a row in another language (two switch, see language_choice).
    care_until: after a safety alert, until when replies stay extra gentle (ISO time, UTC);
    care_label: what that alert was about, for the numbers shown meanwhile.
    check_in: a safety check-in waiting for the person's answer.
    handoff_last_at: when the person last wrote to the team (ISO, UTC), so "it reached them" is said
    again only after a pause.
    flow: the active guided flow; paused_flow: one interrupted (by a safety answer or a
    question), offered back rather than resumed silently.
    paused_step: an action with steps of its own (the booking, "booking") that a safety answer
    interrupted, offered back once (paused_step_offered) rather than resumed silently.
    """

    user_id: int
    welcomed: bool = False
    consent: bool | None = None
    misunderstood: int = 0
    last_intent: str | None = None
    flow: FlowState | None = None
    paused_flow: FlowState | None = None
    handoff_open: bool = False
    handoff_last_at: str | None = None
    first_name: str = ""
    language: str | None = None
    language_chosen: bool = False
    language_streak: int = 0
    care_until: str | None = None
    care_label: str = "crisis"
    care_replies: int = 0
    check_in: CheckIn | None = None
    paused_step: str | None = None
    paused_step_offered: bool = False

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
            handoff_last_at=data.get("handoff_last_at") if isinstance(data.get("handoff_last_at"), str) else None,
            first_name=str(data.get("first_name") or ""),
            language=data.get("language") if data.get("language") in ("en", "hinglish", "hi") else None,
            language_chosen=bool(data.get("language_chosen", False)),
            language_streak=int(data.get("language_streak") or 0),
            care_until=data.get("care_until") if isinstance(data.get("care_until"), str) else None,
            care_label="unsafe_at_home" if data.get("care_label") == "unsafe_at_home" else "crisis",
            care_replies=int(data.get("care_replies") or 0),
            check_in=CheckIn.from_dict(data["check_in"]) if isinstance(data.get("check_in"), dict) else None,
            paused_step=data.get("paused_step") if isinstance(data.get("paused_step"), str) else None,
            paused_step_offered=bool(data.get("paused_step_offered", False)),
        )
