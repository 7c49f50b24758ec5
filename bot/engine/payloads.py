"""The button payload grammar: one short string per button, parsed in one place.

The same strings are the `goto:` targets content editors write in YAML, so a button in
content and a button built in code lead to the same place. Payloads stay <= 48 bytes so
the Telegram codec can add its signature within Telegram's 64-byte limit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

MAX_PAYLOAD_BYTES: Final = 48
EXPIRED_PAYLOAD: Final = "expired"

_ARG = re.compile(r"[A-Za-z0-9_.:\-]{1,40}")
# A number in a payload is an id, a time or a user id: 18 digits always fit SQLite's 64-bit
# integers, so a forged 30-digit "id" expires here instead of overflowing in a query.
MAX_NUMBER_DIGITS: Final = 18


@dataclass(frozen=True)
class Payload:
    """A parsed payload: `kind` and its arguments (e.g. kind="answer", args=("rebuild_trust",))."""

    kind: str
    args: tuple[str, ...] = ()

    def arg(self, index: int = 0, default: str = "") -> str:
        return self.args[index] if len(self.args) > index else default


def build(kind: str, *args: object) -> str:
    """Join a payload; raises ValueError if it would not fit the channel's limit."""
    text = ":".join([kind, *(str(arg) for arg in args)])
    if len(text.encode("utf-8")) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"payload too long: {text!r}")
    return text


def parse(raw: str | None) -> Payload | None:
    """Split a payload; None for anything malformed (treated as an expired button)."""
    if not raw or len(raw.encode("utf-8")) > MAX_PAYLOAD_BYTES:
        return None
    parts = raw.split(":")
    if not all(_ARG.fullmatch(part) and not (part.isdigit() and len(part) > MAX_NUMBER_DIGITS) for part in parts):
        return None
    return Payload(kind=parts[0], args=tuple(parts[1:]))
