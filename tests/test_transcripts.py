"""Whole terminal conversations, recorded before issue 12's refactor and kept byte for byte.

Each file in tests/transcripts/ is a rendered chat: the `you: ` lines are replayed through the
terminal channel (`bot.console.ConsoleChat`) and the whole output must come back unchanged,
staff messages included. The clock is fixed, so dates and "back at 10:00" never move.
After a deliberate change to what the bot says, re-record with
`RECORD_TRANSCRIPTS=1 .venv/bin/python -m pytest -q -p no:cacheprovider tests/test_transcripts.py`
and read the diff before keeping it.
"""

from __future__ import annotations

import io
import os
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot.catalog.loader import Catalog
from bot.console import ConsoleChat
from tests.conftest import make_settings
from tests.transcript_engine import engine_at

FOLDER = Path(__file__).parent / "transcripts"
# A Monday morning in Kolkata (the shipped zone): the centre's team is away until 10:00.
CLOCK = datetime(2030, 3, 25, 4, 0, tzinfo=timezone.utc)
STAFF_CHAT = -100_777


def script_of(recorded: str) -> list[str]:
    """What the person typed: the `you: ` lines of a recorded transcript."""
    return [line[len("you: "):] for line in recorded.splitlines() if line.startswith("you: ")]


async def replay(tmp_path: Path, catalog: Catalog, lines: list[str]) -> str:
    """The terminal chat of `lines`, rendered as a person sees it (with what reaches the staff)."""
    engine = engine_at(make_settings(tmp_path, staff_chat_id=STAFF_CHAT), catalog, lambda: CLOCK)
    await engine.start()
    out = io.StringIO()
    chat = ConsoleChat(engine, out)
    try:
        for line in lines:
            out.write(f"you: {line}\n")
            await chat.say(line)
    finally:
        await engine.close()
    return out.getvalue()


@pytest.mark.parametrize("name", sorted(path.stem for path in FOLDER.glob("*.txt")))
async def test_the_recorded_conversation_is_unchanged(tmp_path: Path, catalog: Catalog, name: str) -> None:
    path = FOLDER / f"{name}.txt"
    recorded = path.read_text(encoding="utf-8")
    shown = await replay(tmp_path, catalog, script_of(recorded))
    if os.environ.get("RECORD_TRANSCRIPTS"):
        path.write_text(shown, encoding="utf-8")
    assert shown == recorded
