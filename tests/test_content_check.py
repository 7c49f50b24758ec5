"""Content validation: the shipped content passes, and broken content is reported with file and line."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from bot.catalog.check import CheckReport, check_catalog
from bot.catalog.loader import Catalog, load_catalog
from bot.catalog.text_keys import scan_package, text_key_problems
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


def test_the_off_topic_examples_need_no_answer_but_an_off_topic_phrasing_in_a_topic_is_caught(content_copy: Path) -> None:
    """out_of_scope's answer is the honest fallback; a phrasing it shares with a topic is still reported."""
    shipped = check_catalog(load_catalog(content_copy)).errors
    assert not [e for e in shipped if "out_of_scope" in e], "the shipped out_of_scope intent has no answer and needs none"
    path = content_copy / "intents" / "out_of_scope.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "      - what is micro cheating\n", encoding="utf-8")
    text = "\n".join(check_catalog(load_catalog(content_copy)).errors)
    assert "is in both" in text and "out_of_scope" in text


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


def _site_says(site: str, words: str) -> bool:
    """Whether the line a problem names ("bot/x.py:12") holds `words`."""
    path, _, line = site.rpartition(":")
    return words in (REPO_ROOT / path).read_text(encoding="utf-8").splitlines()[int(line) - 1]


def _missing_error(report: CheckReport, key: str) -> str:
    found = [error for error in report.errors if f"the text '{key}' is missing" in error]
    assert len(found) == 1, report.errors
    return found[0]


def _sites(error: str) -> list[str]:
    return error.rpartition("(used at ")[2].rstrip(")").split(", ")


def _without_text(content_copy: Path, key: str) -> Catalog:
    """The copied content with the English text `key` renamed away (its translations removed too)."""
    for path in (content_copy / "content").rglob("texts*.yaml"):
        source = path.read_text(encoding="utf-8")
        path.write_text(source.replace(f"\n  {key}:", f"\n  {key}_gone:"), encoding="utf-8")
    return load_catalog(content_copy)


def test_every_text_key_the_code_uses_exists_in_the_shipped_content() -> None:
    """A key missing from content would show the raw key ("button_expired") to a person."""
    catalog = load_catalog(REPO_ROOT)
    uses = scan_package()
    required = uses.required(catalog)
    assert {"welcome", "button_expired", "flow_stop_label", "journal_trend_grew", "centre_fees_label"} <= set(required)
    errors, _ = text_key_problems(catalog, uses)
    assert errors == []


def test_a_removed_text_is_reported_with_where_the_code_uses_it(content_copy: Path) -> None:
    report = check_catalog(_without_text(content_copy, "feedback_yes_done"))
    sites = _sites(_missing_error(report, "feedback_yes_done"))
    assert sites and all(site.startswith("bot/") for site in sites)
    assert all(_site_says(site, "feedback_yes_done") for site in sites)


def test_a_missing_member_of_a_built_family_is_reported(content_copy: Path) -> None:
    # safety_check_in_{answer}_label, one per CHECK_IN_ANSWERS: no literal "safety_check_in_ok_label" anywhere.
    report = check_catalog(_without_text(content_copy, "safety_check_in_ok_label"))
    sites = _sites(_missing_error(report, "safety_check_in_ok_label"))
    assert any(_site_says(site, "safety_check_in_{") for site in sites)
    # staff_reason_{reason}, one per value of the AlertReason Literal the parameter is typed with.
    report = check_catalog(_without_text(content_copy, "staff_reason_escalation_means"))
    assert any(_site_says(site, "staff_reason_{") for site in _sites(_missing_error(report, "staff_reason_escalation_means")))


PACKAGE = {
    "__init__.py": "",
    "words.py": (
        "from typing import Final, Literal\n"
        "Tone = Literal['warm', 'brief']\n"
        "KINDS: Final = ('a', 'b')\n"
        "ERROR_KEY: Final = 'oops'\n"
    ),
    "speak.py": (
        "from pkg.words import ERROR_KEY, KINDS, Tone\n"
        "TEXT_FAMILIES = {'status_{}': ('open', 'shut'), 'topic_{}': 'catalog:centre.topics', 'gone_{}': 'pkg.words:GONE'}\n"
        "def hello(texts, ok):\n"
        "    key = 'yes_done' if ok else 'no_done'\n"
        "    return [texts.reply('hello'), texts.reply(key), texts.get(ERROR_KEY)]\n"
        "def kinds(texts):\n"
        "    return [texts.button(f'kind_{kind}_label', 'x') for kind in KINDS]\n"
        "def tone(texts, tone: Tone):\n"
        "    return texts.get(f'tone_{tone}')\n"
        "def say(texts, key):\n"
        "    return texts.get(key)\n"
        "def status(texts, row):\n"
        "    say(texts, 'said')\n"
        "    return texts.get(f'status_{row.status}'), texts.get(f'mood_{row.mood}'), texts.get(row.words)\n"
        "def topic(texts, row):\n"
        "    return texts.get(f'topic_{row.topic}'), texts.get(f'gone_{row.gone}')\n"
    ),
}


def test_the_scan_follows_keys_to_where_they_are_written(tmp_path: Path) -> None:
    root = tmp_path / "pkg"
    root.mkdir()
    for name, source in PACKAGE.items():
        (root / name).write_text(source, encoding="utf-8")
    uses = scan_package(root)
    catalog = SimpleNamespace(texts={"mood_calm": "Calm", "spare": "Spare"}, where={}, centre=SimpleNamespace(topics={"fees": {}}))
    required = uses.required(catalog)
    assert set(required) == {
        "hello", "yes_done", "no_done", "oops", "kind_a_label", "kind_b_label", "tone_warm", "tone_brief",
        "said", "status_open", "status_shut", "topic_fees",
    }
    assert required["oops"] == ["pkg/speak.py:5"]
    assert [use.pattern for use, _ in uses.open_families(catalog)] == ["mood_{}", "gone_{}"]
    assert uses.unfollowed() == ["pkg/speak.py:14"]
    assert uses.stale == (("gone_{}", "pkg/speak.py:2"),)
    errors, warnings = text_key_problems(catalog, uses)
    text = "\n".join(errors)
    assert "the text 'kind_b_label' is missing (used at pkg/speak.py:7)" in text
    assert "the text 'topic_fees' is missing (used at pkg/speak.py:16)" in text  # a member from the content
    assert "pkg/speak.py:2: TEXT_FAMILIES 'gone_{}'" in text  # a declaration gone stale
    assert "no text fits 'gone_{}'" in text
    assert not any("mood_" in error for error in errors)  # an open family: one text fits it
    assert warnings == ["content/texts.yaml: the text 'spare' is used by no code or content"]
