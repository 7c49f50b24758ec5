"""A bad setting or broken content stops the bot at once with one line naming it, never a traceback.

Each case runs the real command line (`python -m bot`, `chat`, `doctor`) in a subprocess
with a clean environment and a working directory without a `.env`; they fail before doing
anything, so each takes about a second.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot import exit_codes
from bot.catalog.loader import Catalog
from bot.config import REPO_ROOT, Settings, load_settings, path_problems
from bot.errors import ConfigError
from bot.startup import crisis_country_problem

SETTING_NAMES = tuple(name.upper() for name in Settings.model_fields)


def run_bot(tmp_path: Path, *args: str, stdin: str = "", **env_vars: str) -> subprocess.CompletedProcess[str]:
    """`python -m bot ARGS` with only these settings (a fresh database in tmp_path unless given)."""
    env = {key: value for key, value in os.environ.items() if key.upper() not in SETTING_NAMES}
    env.update(PYTHONPATH=str(REPO_ROOT), DATABASE_PATH=str(tmp_path / "bot.sqlite3"))
    env.update(env_vars)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=tmp_path, env=env, input=stdin,
        capture_output=True, text=True, timeout=120, check=False,
    )


def the_one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single line a failed start printed; fails the test if there is any more (or a traceback)."""
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output[-2000:]
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, output[-2000:]
    assert result.stdout == ""
    return lines[0]


@pytest.mark.parametrize(
    ("command", "setting", "value"),
    [
        ("", "STAFF_CHAT_ID", "abc"),
        ("chat", "STAFF_CHAT_ID", "abc"),
        ("doctor", "STAFF_CHAT_ID", "abc"),
        ("chat", "MATCH_ANSWER_THRESHOLD", "500"),
        ("run", "LOG_LEVEL", "LOUD"),
        ("doctor", "LOG_LEVEL", "LOUD"),
        ("run", "WEBHOOK_PORT", "70000"),
        ("chat", "RETENTION_DAYS", "0"),
        ("doctor", "ADMIN_USER_IDS", "12,bob"),
    ],
)
def test_an_invalid_setting_is_named_in_one_line_and_stops_the_bot(tmp_path: Path, command: str, setting: str, value: str) -> None:
    result = run_bot(tmp_path, *([command] if command else []), **{setting: value})
    line = the_one_line(result)
    assert result.returncode == exit_codes.CONFIG
    assert line.startswith(f"Configuration error: {setting}={value!r} must be ")
    assert not (tmp_path / "bot.sqlite3").exists(), "it stopped before doing anything"


@pytest.mark.parametrize("command", ["", "chat"])
def test_a_database_path_that_is_a_folder_stops_the_bot(tmp_path: Path, command: str) -> None:
    result = run_bot(tmp_path, *([command] if command else []), DATABASE_PATH=str(tmp_path))
    assert result.returncode == exit_codes.CONFIG
    assert the_one_line(result) == (
        f"Configuration error: DATABASE_PATH={str(tmp_path)!r} is a folder: it must be the path of the SQLite file, e.g. data/bot.sqlite3"
    )


def test_the_doctor_names_a_database_path_that_is_a_folder(tmp_path: Path) -> None:
    result = run_bot(tmp_path, "doctor", DATABASE_PATH=str(tmp_path))
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert f"✗ DATABASE_PATH={str(tmp_path)!r} is a folder" in result.stdout


@pytest.mark.parametrize("command", ["chat", "run"])
def test_a_crisis_country_without_lines_stops_the_bot(tmp_path: Path, command: str) -> None:
    # With a token, it must stop before contacting Telegram: nothing listens at this address.
    result = run_bot(tmp_path, command, CRISIS_COUNTRY="ZZ", TELEGRAM_BOT_TOKEN="123456:not-a-real-token", TELEGRAM_BASE_URL="http://127.0.0.1:9/bot")
    assert result.returncode == exit_codes.CONFIG
    line = the_one_line(result)
    assert line.startswith("Configuration error: CRISIS_COUNTRY='ZZ' has no crisis lines in content/crisis_lines.yaml: use one of ")
    assert "IN" in line.split("use one of ")[1], "it says which countries there are"


def test_the_doctor_names_a_crisis_country_without_lines(tmp_path: Path) -> None:
    result = run_bot(tmp_path, "doctor", CRISIS_COUNTRY="zz")
    assert result.returncode == 1
    assert "✗ CRISIS_COUNTRY=ZZ has no lines in content/crisis_lines.yaml." in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_a_known_crisis_country_in_any_case_starts_the_chat(tmp_path: Path) -> None:
    result = run_bot(tmp_path, "chat", stdin="/start\n", CRISIS_COUNTRY="in")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr and result.stdout.strip()


def broken_content(tmp_path: Path) -> Path:
    """A copy of the shipped content with a YAML syntax error and a schema error, each in a file of its own."""
    root = tmp_path / "content-copy"
    for folder in ("intents", "content"):
        shutil.copytree(REPO_ROOT / folder, root / folder)
    (root / "content" / "broken.yaml").write_text('texts:\n  greeting: "fine"\n  other: [unclosed, "list\n', encoding="utf-8")
    (root / "intents" / "broken.yaml").write_text("intents:\n  - id: lonely_intent\n    exampels: [hello]\n", encoding="utf-8")
    return root


@pytest.mark.parametrize("command", ["", "chat"])
def test_broken_content_is_listed_one_line_per_problem_with_file_and_line(tmp_path: Path, command: str) -> None:
    content_dir = broken_content(tmp_path)
    result = run_bot(tmp_path, *([command] if command else []), CONTENT_DIR=str(content_dir))
    assert result.returncode == exit_codes.CONFIG
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert lines and all(line.startswith("Content error: ") for line in lines), result.stderr
    assert any(f"{content_dir / 'content' / 'broken.yaml'}:" in line and "YAML syntax error" in line for line in lines)
    assert any(f"{content_dir / 'intents' / 'broken.yaml'}:3" in line for line in lines)


def test_the_doctor_reports_broken_content_without_a_traceback(tmp_path: Path) -> None:
    result = run_bot(tmp_path, "doctor", CONTENT_DIR=str(broken_content(tmp_path)))
    assert result.returncode == 1
    assert "✗ The content has" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_a_malformed_encryption_key_stops_the_chat_without_showing_the_key(tmp_path: Path) -> None:
    result = run_bot(tmp_path, "chat", DATA_ENCRYPTION_KEY="not-a-fernet-key-Q7")
    assert result.returncode == exit_codes.CONFIG
    line = the_one_line(result)
    assert line.startswith("Configuration error: DATA_ENCRYPTION_KEY is not a valid Fernet key")
    assert "not-a-fernet-key-Q7" not in line


# --- the same rules, in-process ---------------------------------------------------------------


def test_every_invalid_setting_is_listed_at_once(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(
            _env_file=None, telegram_base_url="127.0.0.1:8081/bot", staff_chat_id="abc", webhook_port=0,
            match_clarify_threshold=100.5, match_margin="-1", log_level="verbose", staff_alert_cooldown_minutes=-5,
        )
    assert [problem.split("=")[0] for problem in raised.value.problems] == [
        "TELEGRAM_BASE_URL", "WEBHOOK_PORT", "LOG_LEVEL", "STAFF_CHAT_ID", "MATCH_CLARIFY_THRESHOLD", "MATCH_MARGIN",
        "STAFF_ALERT_COOLDOWN_MINUTES",
    ]
    assert "MATCH_MARGIN='-1' must be a number from 0 to 100" in raised.value.problems


def test_the_edges_of_every_range_are_accepted(tmp_path: Path) -> None:
    settings = load_settings(
        _env_file=None, webhook_port=65535, match_answer_threshold=100, match_clarify_threshold=0, match_margin="0",
        retention_days=1, staff_alert_cooldown_minutes=1, log_level=" warning ", staff_chat_id="-1001234567890",
        admin_user_ids="1, 2;3", crisis_country=" in ", database_path=tmp_path / "bot.sqlite3",
    )
    assert (settings.webhook_port, settings.match_answer_threshold, settings.log_level) == (65535, 100, "WARNING")
    assert settings.staff_chat_id == -1001234567890 and settings.admin_user_ids == [1, 2, 3]
    assert settings.crisis_country == "IN"
    assert path_problems(settings) == []


def test_a_secret_that_does_not_validate_is_named_but_never_shown() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(_env_file=None, webhook_secret="my hook secret Q7x!")
    (problem,) = raised.value.problems
    assert problem.startswith("WEBHOOK_SECRET must be ") and "Q7x" not in problem


def test_a_database_path_under_a_file_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("", encoding="utf-8")
    settings = load_settings(_env_file=None, database_path=blocker / "bot.sqlite3")
    assert path_problems(settings) == [f"DATABASE_PATH={str(blocker / 'bot.sqlite3')!r} cannot be created: {str(blocker)!r} is a file, not a folder"]


def test_the_crisis_country_must_have_lines_in_the_content(catalog: Catalog) -> None:
    assert crisis_country_problem(catalog, None) is None
    assert crisis_country_problem(catalog, "IN") is None
    problem = crisis_country_problem(catalog, "ZZ")
    assert problem is not None and problem.startswith("CRISIS_COUNTRY='ZZ' has no crisis lines")
