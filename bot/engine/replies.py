"""What goes in and out of the dialogue engine: plain frozen data, no transport types.

Channels (Telegram, the console) turn an incoming event into an `Incoming`, call
`Engine.handle`, and render the `Reply` objects they get back. Every reply carries
the content key it came from so tests assert on keys, not on copy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Literal

IncomingKind = Literal["text", "button", "contact", "unsupported", "edited"]


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Button:
    """A button: `label` shown to the person, `payload` handed back to the engine when pressed.

    `payload` is the engine's own short routing string (see `bot.engine.payloads`);
    channels never interpret it, they only carry it (Telegram packs it into <= 64 bytes).
    `url`, when set, makes it a link button instead (payload unused).
    """

    label: str
    payload: str
    url: str | None = None


@dataclass(frozen=True)
class Reply:
    """One message for the person (or for staff, when queued in the outbox).

    key: the content key the text came from, e.g. ``answer.rebuild_trust`` or ``safety.crisis``.
    buttons: rows of buttons (inline keyboard rows on Telegram, numbered options in the console).
    edit_previous: the channel may edit the message whose button was pressed instead of sending anew.
    request_contact: ask for the person's phone through the channel's own "share my contact" button.
    language: the language the text is in, so a channel's own words (that button) match it.
    """

    key: str
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    edit_previous: bool = False
    request_contact: bool = False
    language: str = "en"

    def all_buttons(self) -> list[Button]:
        """The buttons in reading order, rows flattened."""
        return [button for row in self.buttons for button in row]


@dataclass(frozen=True)
class Incoming:
    """One event from a person in a private chat, already stripped of transport details.

    kind: "text" (text or command), "button" (payload in `button`), "contact" (phone in
    `contact_phone`, only the person's own), "unsupported" (sticker, photo, voice...; its
    type in `media`), "edited" (an edited message; text kept for the safety check only).
    language_code: the channel's own language setting for the person (a hint, e.g. "hi", "en-GB").
    """

    user_id: int
    kind: IncomingKind = "text"
    text: str = ""
    button: str | None = None
    first_name: str = ""
    username: str | None = None
    contact_phone: str | None = None
    media: str | None = None
    channel: str = "console"
    language_code: str | None = None
    received_at: datetime = field(default_factory=utcnow)


def make_buttons(*rows: list[Button] | tuple[Button, ...]) -> tuple[tuple[Button, ...], ...]:
    """Build the immutable rows of buttons a `Reply` carries, dropping empty rows."""
    return tuple(tuple(row) for row in rows if row)
