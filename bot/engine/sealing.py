"""Encryption at rest for a person's own words (journal entries, free-text flow answers).

Fernet (from `cryptography`) with DATA_ENCRYPTION_KEY; without a key, words are stored as
they are. Anything that cannot be opened (another key, no key any more) reads as missing,
never as a crash.
"""

from __future__ import annotations

import json
from typing import Any, Final

from cryptography.fernet import Fernet, InvalidToken

from bot.errors import ConfigError

TEXT_PREFIX: Final = "enc:"
# Sealed into the database's key check value: opening it proves the key is the same.
KEY_CHECK_PLAIN: Final = b"alumaura journal key check v1"
KEY_HELP: Final = (
    "DATA_ENCRYPTION_KEY is not a valid Fernet key (create one with: "
    "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
)


class Sealer:
    """Seals and opens words with one Fernet key, or passes them through when there is none."""

    def __init__(self, key: str | None) -> None:
        try:
            self._fernet = Fernet(key.encode("ascii")) if key else None
        except (ValueError, UnicodeEncodeError):
            raise ConfigError(KEY_HELP) from None  # the cause could echo part of the key

    @property
    def encrypting(self) -> bool:
        return self._fernet is not None

    # --- structured bodies (journal rows) --------------------------------------------------

    def seal(self, data: dict[str, Any]) -> bytes:
        raw = json.dumps(data, ensure_ascii=False).encode("utf-8")
        return self._fernet.encrypt(raw) if self._fernet is not None else raw

    def unseal(self, body: bytes) -> dict[str, Any] | None:
        """The body's data, or None when it cannot be read."""
        if body.startswith(b"{"):
            raw: bytes | None = body  # saved while no key was set
        else:
            raw = self._decrypt(body)
        if raw is None:
            return None
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return None
        return data if isinstance(data, dict) else None

    # --- single texts (answers kept in the session) -----------------------------------------

    def seal_text(self, text: str) -> str:
        if self._fernet is None or not text:
            return text
        return TEXT_PREFIX + self._fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def open_text(self, value: str) -> str:
        """The words, or "" when they were sealed with a key we no longer have."""
        if not value.startswith(TEXT_PREFIX):
            return value
        raw = self._decrypt(value[len(TEXT_PREFIX):].encode("ascii", errors="ignore"))
        return raw.decode("utf-8", errors="replace") if raw is not None else ""

    # --- is this the key the stored words were sealed with? --------------------------------

    def check_value(self) -> str | None:
        """A token of a known constant under this key, stored so a later start can recognise the key."""
        return self._fernet.encrypt(KEY_CHECK_PLAIN).decode("ascii") if self._fernet is not None else None

    def matches(self, check_value: str) -> bool:
        """True when `check_value` was written with this very key."""
        return self._decrypt(check_value.encode("ascii", errors="ignore")) == KEY_CHECK_PLAIN

    def opens(self, body: bytes) -> bool:
        """True when a sealed journal body can be read with this key."""
        return self._decrypt(body) is not None

    def opens_text(self, value: str) -> bool:
        """True when a sealed text (`enc:...`) can be read with this key."""
        if not value.startswith(TEXT_PREFIX):
            return False
        return self._decrypt(value[len(TEXT_PREFIX):].encode("ascii", errors="ignore")) is not None

    def _decrypt(self, token: bytes) -> bytes | None:
        if self._fernet is None:
            return None
        try:
            return self._fernet.decrypt(token)
        except InvalidToken:
            return None
