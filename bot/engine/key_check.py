"""Is DATA_ENCRYPTION_KEY the key the stored words were sealed with? Asked at start-up and by the doctor.

Another key would make every journal entry read "can't be read any more", and no key would
store new words in clear beside the sealed ones; both went unnoticed. The database keeps a
check value (a Fernet token of a known constant, `bot.storage.key_store`) written with the
key, so one decryption answers at start-up. A database from before the check value is
judged by one of its sealed rows instead, and then gets its check value.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Final, Literal

from bot.engine.sealing import TEXT_PREFIX, Sealer
from bot.errors import ConfigError
from bot.storage.key_store import KeyStore
from bot.storage.store import Store

log = logging.getLogger(__name__)

KeyStatus = Literal["no_key", "matches", "new", "changed_empty", "mismatch", "missing", "plaintext_allowed"]
REFUSED: Final[frozenset[str]] = frozenset({"mismatch", "missing"})


@dataclass(frozen=True)
class KeyFinding:
    """What the key check found; `sealed` counts journal entries and conversation states sealed with a key."""

    status: KeyStatus
    sealed: int = 0

    @property
    def refused(self) -> bool:
        """The bot must not start: it would show unreadable entries, or write words in clear beside sealed ones."""
        return self.status in REFUSED

    def message(self) -> str:
        """One line for the operator (start-up error, log line, doctor); never any key material."""
        n = f"{self.sealed} encrypted record{'' if self.sealed == 1 else 's'}"
        return {
            "no_key": "DATA_ENCRYPTION_KEY is not set and nothing encrypted is stored.",
            "matches": "DATA_ENCRYPTION_KEY is the key the stored journal was encrypted with.",
            "new": (
                f"DATA_ENCRYPTION_KEY opens the {n} stored."
                if self.sealed else "DATA_ENCRYPTION_KEY is set; nothing is encrypted with it yet."
            ),
            "changed_empty": (
                "DATA_ENCRYPTION_KEY is not the key recorded in the database, but nothing encrypted is stored: "
                "the new key replaces it."
            ),
            "mismatch": (
                f"DATA_ENCRYPTION_KEY is not the key the database was encrypted with ({n} cannot be read): "
                "set the original key (or move the database aside to start afresh)."
            ),
            "missing": (
                f"The database holds {n} but DATA_ENCRYPTION_KEY is not set: set the key it was written with, "
                "or ALLOW_PLAINTEXT_JOURNAL=true to store new entries unencrypted."
            ),
            "plaintext_allowed": (
                f"DATA_ENCRYPTION_KEY is not set and ALLOW_PLAINTEXT_JOURNAL=true: {n} cannot be read "
                "and new journal entries are stored unencrypted."
            ),
        }[self.status]


def first_sealed_text(value: Any) -> str | None:
    """The first `enc:` string anywhere in a session's data (pure; the session's shape may change)."""
    if isinstance(value, str):
        return value if value.startswith(TEXT_PREFIX) else None
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    for child in children:
        found = first_sealed_text(child)
        if found is not None:
            return found
    return None


async def _opens_a_sealed_row(rows: KeyStore, sealer: Sealer) -> bool:
    body, session = await rows.sealed_samples()
    if body is not None:
        return sealer.opens(body)
    try:
        text = first_sealed_text(json.loads(session)) if session else None
    except json.JSONDecodeError:
        text = None
    return text is not None and sealer.opens_text(text)


async def inspect_key(store: Store, sealer: Sealer, allow_plaintext: bool = False) -> KeyFinding:
    """Compare the configured key with the database's, writing nothing (the doctor uses it as is)."""
    rows = KeyStore(store)
    sealed = await rows.sealed_count()
    if not sealer.encrypting:
        if sealed == 0:
            return KeyFinding("no_key")
        return KeyFinding("plaintext_allowed" if allow_plaintext else "missing", sealed)
    check = await rows.check_value()
    if check is not None:
        if sealer.matches(check):
            return KeyFinding("matches", sealed)
        return KeyFinding("mismatch" if sealed else "changed_empty", sealed)
    if sealed == 0 or await _opens_a_sealed_row(rows, sealer):
        return KeyFinding("new", sealed)
    return KeyFinding("mismatch", sealed)


async def enforce_key(store: Store, sealer: Sealer, allow_plaintext: bool = False) -> KeyFinding:
    """At start-up: raise ConfigError (one line) when the key cannot serve this database; record a new key."""
    finding = await inspect_key(store, sealer, allow_plaintext)
    if finding.refused:
        raise ConfigError(finding.message())
    value = sealer.check_value()
    if finding.status in {"new", "changed_empty"} and value is not None:
        await KeyStore(store).set_check_value(value)
    if finding.status in {"changed_empty", "plaintext_allowed"}:
        log.warning("encryption key: %s", finding.message())
    elif finding.status != "no_key":
        log.info("encryption key status=%s sealed=%d", finding.status, finding.sealed)
    return finding
