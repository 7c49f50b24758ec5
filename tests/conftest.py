"""Shared fixtures: the shipped catalogue (loaded once), engines on tmp_path databases, factories."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import build_engine
from bot.catalog.loader import Catalog, load_catalog
from bot.config import REPO_ROOT, Settings
from bot.engine.core import Engine
from bot.engine.replies import Incoming, Reply

SHARED = REPO_ROOT.parent / "shared"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--heavy", action="store_true", default=False, help="also run the long load/fault variants")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--heavy"):
        return
    skip = pytest.mark.skip(reason="heavy variant: run with --heavy")
    for item in items:
        if "heavy" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    """python-telegram-bot 22 warns on every 429 unless durations are timedeltas; production sets it too."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    """The shipped intents/ and content/, validated."""
    return load_catalog(REPO_ROOT)


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    """Settings isolated from any local .env, on a database in tmp_path."""
    values: dict[str, object] = {"database_path": tmp_path / "bot.sqlite3", "content_dir": REPO_ROOT}
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
async def engine(settings: Settings, catalog: Catalog) -> AsyncIterator[Engine]:
    """A started engine on a fresh database, closed after the test."""
    built = build_engine(settings, catalog)
    await built.start()
    try:
        yield built
    finally:
        await built.close()


def make_incoming(text: str = "", *, user_id: int = 1001, first_name: str = "Asha", **fields: object) -> Incoming:
    """A text message from a person (or any other event with kind=... and fields)."""
    return Incoming(user_id=user_id, text=text, first_name=first_name, **fields)  # type: ignore[arg-type]


def press(payload: str, *, user_id: int = 1001) -> Incoming:
    """A button press with the given payload."""
    return Incoming(user_id=user_id, kind="button", button=payload, first_name="Asha")


def keys(replies: list[Reply]) -> list[str]:
    """The content keys of replies: what transcript tests assert on."""
    return [reply.key for reply in replies]


def payloads_of(replies: list[Reply]) -> list[str]:
    return [button.payload for reply in replies for button in reply.all_buttons()]


def find_button(replies: list[Reply], payload_prefix: str) -> str:
    """The payload of the first button whose payload starts with `payload_prefix`."""
    for payload in payloads_of(replies):
        if payload.startswith(payload_prefix):
            return payload
    raise AssertionError(f"no button {payload_prefix!r} in {payloads_of(replies)}")
