"""Content validation: the shipped content passes, and broken content is reported with file and line."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.catalog.check import check_catalog
from bot.catalog.loader import load_catalog
from bot.config import REPO_ROOT
from bot.errors import ContentError


@pytest.fixture
def content_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped intents/ and content/."""
    for folder in ("intents", "content"):
        shutil.copytree(REPO_ROOT / folder, tmp_path / folder)
    return tmp_path


def run_check(content_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "check"],
        cwd=REPO_ROOT, capture_output=True, text=True, env={"CONTENT_DIR": str(content_dir), "PATH": ""}, timeout=120,
    )


def test_shipped_content_passes_check() -> None:
    result = run_check(REPO_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Content OK" in result.stdout


def test_a_schema_error_names_the_file_and_line(content_copy: Path) -> None:
    path = content_copy / "content" / "answers" / "extra.yaml"
    path.write_text("answers:\n  thanks_again:\n    messages: []\n    colour: blue\n", encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        load_catalog(content_copy)
    problems = "\n".join(caught.value.problems)
    assert f"{path}:3" in problems and "messages" in problems
    assert f"{path}:4" in problems and "colour" in problems


def test_a_yaml_syntax_error_names_the_line(content_copy: Path) -> None:
    path = content_copy / "content" / "broken.yaml"
    path.write_text("texts:\n  a: 'fine'\n  b: [unclosed\n", encoding="utf-8")
    result = run_check(content_copy)
    assert result.returncode == 1
    assert f"{path}:" in result.stdout and "syntax" in result.stdout


def test_cross_reference_problems_are_reported(content_copy: Path) -> None:
    (content_copy / "intents" / "extra.yaml").write_text(
        "intents:\n  - id: wedding_gifts\n    examples: [what should i gift for a wedding, what is micro cheating]\n",
        encoding="utf-8",
    )
    (content_copy / "content" / "answers" / "extra.yaml").write_text(
        "answers:\n  orphan_answer:\n    messages: [hello]\n    buttons:\n      - {label: Go, goto: 'answer:nowhere'}\n",
        encoding="utf-8",
    )
    report = check_catalog(load_catalog(content_copy))
    text = "\n".join(report.errors)
    assert "intent 'wedding_gifts' has no answer" in text
    assert "answer 'orphan_answer' has no intent" in text
    assert "'answer:nowhere' names an intent that has no answer" in text
    assert "is in both" in text and "what is micro cheating" in text


def test_a_missing_catalogue_intent_and_text_are_reported(content_copy: Path) -> None:
    texts = content_copy / "content" / "texts.yaml"
    texts.write_text(texts.read_text(encoding="utf-8").replace("  button_expired:", "  button_expired_x:"), encoding="utf-8")
    report = check_catalog(load_catalog(content_copy))
    assert any("'button_expired' is missing" in error for error in report.errors)


def test_a_duplicate_key_across_files_names_both_places(content_copy: Path) -> None:
    (content_copy / "content" / "more_texts.yaml").write_text("texts:\n  welcome: 'Hello again'\n", encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        load_catalog(content_copy)
    assert "texts 'welcome' is also defined at" in str(caught.value)


def test_every_text_key_the_code_asks_for_exists_in_the_shipped_content() -> None:
    """A key missing from content would show the raw key ("button_expired") to a person."""
    import re

    from bot.catalog.check import REQUIRED_TEXTS

    catalog = load_catalog(REPO_ROOT)
    used = set()
    for path in (REPO_ROOT / "bot").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"texts\.(?:reply|get|button)\(\s*\"([a-z_]+)\"", source))
    assert used, "the scan found no text keys: the pattern no longer matches the code"
    assert not used - set(catalog.texts), sorted(used - set(catalog.texts))
    assert not REQUIRED_TEXTS - set(catalog.texts)
