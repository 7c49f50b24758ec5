"""The terminal channel: a scripted conversation through piped input, as a person would type it."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from bot.app import build_engine
from bot.catalog.loader import Catalog
from bot.config import REPO_ROOT
from bot.console import run_console
from tests.conftest import make_settings


async def test_scripted_conversation_numbers_buttons_and_presses_them(tmp_path: Path, catalog: Catalog) -> None:
    script = io.StringIO("/start\n1\nwhat does micro cheating mean\nTell me more\n/menu\n")
    out = io.StringIO()
    await run_console(build_engine(make_settings(tmp_path), catalog), stdin=script, out=out)
    shown = out.getvalue()
    assert "[1] Yes, that's fine" in shown
    assert "Thank you. You can change your mind" in shown  # "1" pressed the consent button
    assert "[1] Tell me more" in shown
    # Typing a button's label presses it: the deeper part of the answer follows.
    assert shown.index("you: Tell me more") < shown.index("It often starts with something")
    assert shown.rstrip().endswith("[7] 🌐 Language")


async def test_console_shows_what_would_reach_staff(tmp_path: Path, catalog: Catalog) -> None:
    out = io.StringIO()
    engine = build_engine(make_settings(tmp_path, staff_chat_id=-1001), catalog)
    await run_console(engine, stdin=io.StringIO("i don't want to live anymore\n"), out=out)
    shown = out.getvalue()
    assert "14416" in shown
    assert "--- to the centre's staff ---" in shown


def test_run_without_token_starts_the_terminal_chat(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "STAFF_"))}
    env.update({"DATABASE_PATH": str(tmp_path / "db.sqlite3"), "TELEGRAM_BOT_TOKEN": ""})
    result = subprocess.run(
        [sys.executable, "-m", "bot"], input="what is micro cheating\n", capture_output=True, text=True,
        cwd=tmp_path, env={**env, "PYTHONPATH": str(REPO_ROOT)}, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().splitlines()[0] == "No TELEGRAM_BOT_TOKEN set: starting the bot as a chat in this terminal."
    assert "Micro-cheating is" in result.stdout
    assert (tmp_path / "db.sqlite3").exists()
