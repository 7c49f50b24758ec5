"""Callback data for inline buttons: `payload|tag`, at most 64 bytes, signed per owner.

Telegram gives a bot back whatever callback data it put on a button, but any client can
send any callback data, so nothing read from a button is trusted until its tag checks
out. The tag is a truncated HMAC over the owner (the private chat's user, or the staff
group's chat id) and the payload, keyed by a secret derived from the bot token: buttons
keep working after a restart, and a button made for one person is useless to another.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from typing import Final

MAX_CALLBACK_BYTES: Final = 64
TAG_CHARS: Final = 12
SEPARATOR: Final = "|"
MAX_PAYLOAD_BYTES: Final = MAX_CALLBACK_BYTES - len(SEPARATOR) - TAG_CHARS
_DERIVATION_LABEL: Final = b"alumaura/telegram/callback-data/v1"


class CallbackDataTooLong(ValueError):
    """A payload that cannot be signed within Telegram's 64-byte limit (an engine bug)."""


def derive_secret(token: str) -> bytes:
    """The signing key for callback data, stable for as long as the bot token is."""
    return hmac.new(token.encode("utf-8"), _DERIVATION_LABEL, hashlib.sha256).digest()


@dataclass(frozen=True)
class CallbackCodec:
    """Signs payloads into callback data and checks callback data back into payloads."""

    secret: bytes

    @classmethod
    def from_token(cls, token: str) -> CallbackCodec:
        """A codec keyed from the bot token (see `derive_secret`)."""
        return cls(derive_secret(token))

    def _tag(self, payload: str, owner_id: int) -> str:
        message = f"{owner_id}{SEPARATOR}{payload}".encode("utf-8")
        digest = hmac.new(self.secret, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode("ascii")[:TAG_CHARS]

    def encode(self, payload: str, owner_id: int) -> str:
        """Callback data for `payload` that only `owner_id` can use; raises CallbackDataTooLong."""
        if len(payload.encode("utf-8")) > MAX_PAYLOAD_BYTES:
            raise CallbackDataTooLong(f"payload of {len(payload.encode('utf-8'))} bytes exceeds {MAX_PAYLOAD_BYTES}")
        return f"{payload}{SEPARATOR}{self._tag(payload, owner_id)}"

    def decode(self, data: str | None, owner_id: int) -> str | None:
        """The payload inside `data` if it was signed for `owner_id`; None when forged, foreign or malformed."""
        if not data or len(data.encode("utf-8")) > MAX_CALLBACK_BYTES:
            return None
        payload, separator, tag = data.rpartition(SEPARATOR)
        if not separator or not payload or len(tag) != TAG_CHARS:
            return None
        # Bytes, not str: compare_digest refuses non-ASCII strings, and the tag here is untrusted.
        if not hmac.compare_digest(tag.encode("utf-8"), self._tag(payload, owner_id).encode("ascii")):
            return None
        return payload
