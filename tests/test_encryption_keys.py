"""The journal's encryption key is checked at start-up (issue 15, defect 6).

Started with another DATA_ENCRYPTION_KEY, every entry read "can't be read any more" and
the doctor called the key valid; started with none, new entries were written in clear
beside the sealed ones. Now the database records its key (a check value) and the bot
refuses to start, in one line, with another key or none, unless ALLOW_PLAINTEXT_JOURNAL.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

import bot.app
from bot.app import build_engine
from bot.catalog.loader import Catalog
from bot.config import REPO_ROOT
from bot.doctor import run_doctor
from bot.engine.core import Engine
from bot.engine.key_check import first_sealed_text
from bot.engine.sealing import Sealer
from bot.errors import ConfigError
from bot.storage.connection import now_utc
from bot.storage.journal_store import JournalStore
from tests.conftest import make_settings

USER = 1001
WORDS = "the purple umbrella at the station"
KEY_ONE = Fernet.generate_key().decode()
KEY_TWO = Fernet.generate_key().decode()
_UNCACHED = {"build_matcher": bot.app.build_matcher, "build_detector": bot.app.build_detector}


@pytest.fixture(autouse=True)
def built_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests start many engines on one database: the matcher and detector are built once (same content)."""
    matcher, detector = _UNCACHED["build_matcher"], _UNCACHED["build_detector"]
    monkeypatch.setattr(bot.app, "build_matcher", lambda catalog, settings: _cached(matcher, catalog, settings))
    monkeypatch.setattr(bot.app, "build_detector", lambda catalog: _cached(detector, catalog))


_BUILT: dict[object, object] = {}


def _cached(build: Callable[..., object], *args: object) -> object:
    if build not in _BUILT:
        _BUILT[build] = build(*args)
    return _BUILT[build]


def engine_with(tmp_path: Path, catalog: Catalog, key: str | None, **settings: object) -> Engine:
    return build_engine(make_settings(tmp_path, data_encryption_key=key, **settings), catalog)


async def write_entry(tmp_path: Path, catalog: Catalog, key: str | None) -> None:
    """A journal entry saved by a bot running with `key`, then the bot stops."""
    engine = engine_with(tmp_path, catalog, key)
    await engine.start()
    try:
        body = Sealer(key).seal({"feelings": ["hurt"], "text": WORDS})
        await JournalStore(engine.store).add(USER, now_utc(), 3, body)
    finally:
        await engine.close()


async def refused(engine: Engine) -> str:
    try:
        with pytest.raises(ConfigError) as raised:
            await engine.start()
    finally:
        await engine.close()
    assert len(raised.value.problems) == 1
    return raised.value.problems[0]


async def doctor(tmp_path: Path, key: str | None, **settings: object) -> str:
    out = io.StringIO()
    await run_doctor(make_settings(tmp_path, data_encryption_key=key, **settings), out)
    return out.getvalue()


async def entries(tmp_path: Path, catalog: Catalog, key: str | None, **settings: object) -> list[dict[str, object] | None]:
    engine = engine_with(tmp_path, catalog, key, **settings)
    await engine.start()
    try:
        return [Sealer(key).unseal(row.body) for row in await JournalStore(engine.store).latest(USER, 10)]
    finally:
        await engine.close()


async def test_another_key_is_refused_at_start_and_named_by_the_doctor(tmp_path: Path, catalog: Catalog) -> None:
    await write_entry(tmp_path, catalog, KEY_ONE)
    line = await refused(engine_with(tmp_path, catalog, KEY_TWO))
    assert "DATA_ENCRYPTION_KEY is not the key the database was encrypted with" in line and "1 encrypted record" in line
    assert KEY_ONE not in line and KEY_TWO not in line
    report = await doctor(tmp_path, KEY_TWO)
    assert "✗ DATA_ENCRYPTION_KEY is not the key" in report
    # The right key still opens everything.
    assert await entries(tmp_path, catalog, KEY_ONE) == [{"feelings": ["hurt"], "text": WORDS}]
    assert "✓ DATA_ENCRYPTION_KEY is the key the stored journal was encrypted with" in await doctor(tmp_path, KEY_ONE)


async def test_no_key_on_an_encrypted_database_is_refused_unless_the_operator_allows_plain_text(
    tmp_path: Path, catalog: Catalog, caplog: pytest.LogCaptureFixture
) -> None:
    await write_entry(tmp_path, catalog, KEY_ONE)
    line = await refused(engine_with(tmp_path, catalog, None))
    assert "DATA_ENCRYPTION_KEY is not set" in line and "ALLOW_PLAINTEXT_JOURNAL=true" in line
    assert "✗ The database holds 1 encrypted record" in await doctor(tmp_path, None)

    with caplog.at_level(logging.WARNING, logger="bot.engine.key_check"):
        await write_entry_allowed(tmp_path, catalog)
    assert any("ALLOW_PLAINTEXT_JOURNAL=true" in record.getMessage() for record in caplog.records)
    assert "! DATA_ENCRYPTION_KEY is not set and ALLOW_PLAINTEXT_JOURNAL=true" in await doctor(
        tmp_path, None, allow_plaintext_journal=True
    )


async def write_entry_allowed(tmp_path: Path, catalog: Catalog) -> None:
    engine = engine_with(tmp_path, catalog, None, allow_plaintext_journal=True)
    await engine.start()
    await engine.close()


async def test_a_database_from_before_the_check_is_judged_by_its_entries(tmp_path: Path, catalog: Catalog) -> None:
    await write_entry(tmp_path, catalog, KEY_ONE)
    engine = engine_with(tmp_path, catalog, KEY_ONE)
    await engine.start()
    await engine.store.execute("DELETE FROM meta")  # as written before the check value existed
    await engine.close()
    assert "is not the key" in await refused(engine_with(tmp_path, catalog, KEY_TWO))
    # The right key is recognised by the entry itself, and recorded for the next start.
    engine = engine_with(tmp_path, catalog, KEY_ONE)
    await engine.start()
    assert await engine.store.fetchone("SELECT value FROM meta WHERE key = 'key_check'") is not None
    await engine.close()


async def test_sealed_answers_in_a_conversation_count_as_encrypted(tmp_path: Path, catalog: Catalog) -> None:
    engine = engine_with(tmp_path, catalog, KEY_ONE)
    await engine.start()
    sealed = Sealer(KEY_ONE).seal_text(WORDS)
    await engine.store.save_session(USER, {"flow": {"answers": {"noticed": sealed}}})
    await engine.store.execute("DELETE FROM meta")
    await engine.close()
    assert "1 encrypted record" in await refused(engine_with(tmp_path, catalog, None))
    assert "1 encrypted record" in await refused(engine_with(tmp_path, catalog, KEY_TWO))
    assert first_sealed_text({"a": [1, {"b": sealed}]}) == sealed


async def test_a_new_key_on_a_database_with_nothing_encrypted_simply_replaces_the_old(tmp_path: Path, catalog: Catalog) -> None:
    for key in (KEY_ONE, KEY_TWO, None, KEY_ONE):
        engine = engine_with(tmp_path, catalog, key)
        await engine.start()  # nothing is lost either way, so nothing is refused
        await engine.close()
    await write_entry(tmp_path, catalog, KEY_ONE)
    assert "not the key" in await refused(engine_with(tmp_path, catalog, KEY_TWO))


def test_the_check_value_opens_only_with_its_own_key() -> None:
    value = Sealer(KEY_ONE).check_value()
    assert value is not None and KEY_ONE not in value
    assert Sealer(KEY_ONE).matches(value)
    assert not Sealer(KEY_TWO).matches(value)
    assert Sealer(None).check_value() is None and not Sealer(None).matches(value)


def test_the_chat_with_another_key_says_so_in_one_line_and_exits(tmp_path: Path, catalog: Catalog) -> None:
    asyncio.run(write_entry(tmp_path, catalog, KEY_ONE))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "STAFF_", "DATA_", "ALLOW_"))}
    env.update({
        "DATABASE_PATH": str(tmp_path / "bot.sqlite3"), "DATA_ENCRYPTION_KEY": KEY_TWO,
        "PYTHONPATH": str(REPO_ROOT), "CONTENT_DIR": str(REPO_ROOT),
    })
    result = subprocess.run(
        [sys.executable, "-m", "bot", "chat"], input="hello\n", capture_output=True, text=True, cwd=tmp_path, env=env, timeout=90
    )
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode != 0
    assert len(lines) == 1 and "DATA_ENCRYPTION_KEY is not the key the database was encrypted with" in lines[0], result.stderr
    assert KEY_TWO not in result.stderr and "bot:" not in result.stdout
