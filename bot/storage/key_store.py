"""The SQL of encryption at rest: the key check value, and which rows hold words sealed with a key.

Sealed journal bodies are Fernet tokens (plain ones are JSON and start with `{`); sealed
free-text answers in a session are strings starting with `enc:` (see `bot.engine.sealing`).
"""

from __future__ import annotations

from typing import Final

from bot.storage.connection import iso, now_utc
from bot.storage.store import Store

KEY_CHECK: Final = "key_check"
# A journal body whose first byte is not "{" (0x7B) was sealed with a key.
_SEALED_BODY: Final = "hex(substr(body, 1, 1)) <> '7B'"
_SEALED_SESSION: Final = "instr(data, '\"enc:') > 0"


class KeyStore:
    """Reads and writes what the start-up key check needs; never the words themselves."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def check_value(self) -> str | None:
        row = await self.store.fetchone("SELECT value FROM meta WHERE key = ?", (KEY_CHECK,))
        return str(row["value"]) if row else None

    async def set_check_value(self, value: str) -> None:
        await self.store.execute(
            "INSERT INTO meta(key, value, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            (KEY_CHECK, value, iso(now_utc())),
        )

    async def sealed_count(self) -> int:
        """How many journal entries and conversation states hold words sealed with a key."""
        row = await self.store.fetchone(
            f"SELECT (SELECT COUNT(*) FROM journal_entries WHERE {_SEALED_BODY}) + "
            f"(SELECT COUNT(*) FROM sessions WHERE {_SEALED_SESSION}) AS n"
        )
        return int(row["n"]) if row else 0

    async def sealed_samples(self) -> tuple[bytes | None, str | None]:
        """One sealed journal body and one session's JSON holding a sealed text (either may be None)."""
        body = await self.store.fetchone(f"SELECT body FROM journal_entries WHERE {_SEALED_BODY} ORDER BY id DESC LIMIT 1")
        session = await self.store.fetchone(f"SELECT data FROM sessions WHERE {_SEALED_SESSION} LIMIT 1")
        raw = body["body"] if body else None
        sealed_body = bytes(raw) if isinstance(raw, (bytes, bytearray, memoryview)) else (str(raw).encode() if raw else None)
        return sealed_body, (str(session["data"]) if session else None)
