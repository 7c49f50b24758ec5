"""`python -m bot check` on flows: the shipped flows pass; each kind of breakage is named with file:line.

Broken flows are written into a copy of intents/ and content/ in tmp_path, as a content
editor would break them.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Callable
from contextlib import redirect_stdout
from pathlib import Path

import pytest
import yaml

from bot.__main__ import cmd_check
from bot.app import build_engine, check_content
from bot.catalog.loader import Catalog, load_catalog
from bot.config import REPO_ROOT
from bot.engine.flow_check import validate_flows
from bot.engine.replies import Incoming
from tests.conftest import keys, make_settings, payloads_of


def test_the_shipped_flows_are_valid(catalog: Catalog) -> None:
    assert validate_flows(catalog) == []
    assert {"reflection", "signs", "crossed_line"} <= set(catalog.flows)


@pytest.fixture
def content_copy(tmp_path: Path) -> Path:
    root = tmp_path / "content_root"
    for folder in ("intents", "content"):
        shutil.copytree(REPO_ROOT / folder, root / folder)
    return root


def edit_flow(root: Path, name: str, change: Callable[[dict], None]) -> Path:
    """Load a flow file, change its data, write it back (comments are lost, lines are stable)."""
    path = root / "content" / "flows" / f"{name}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data["flow"])
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def problems_for(root: Path) -> list[str]:
    return validate_flows(load_catalog(root))


def line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def test_a_next_to_a_missing_step_is_reported_with_its_line(content_copy: Path) -> None:
    path = edit_flow(content_copy, "reflection", lambda flow: flow["steps"]["intensity"].update(next="needs"))
    problems = problems_for(content_copy)
    expected = f"{path}:{line_of(path, 'next: needs')}"
    assert any(p.startswith(expected) and "'needs', which does not exist" in p for p in problems), problems
    # ... and 'need' is now cut off from the start.
    assert any("step 'need' cannot be reached" in p for p in problems), problems


def test_an_unreachable_step_is_reported(content_copy: Path) -> None:
    def add_orphan(flow: dict) -> None:
        flow["steps"]["orphan"] = {"kind": "info", "text": "Nobody gets here.", "next": "summary"}

    edit_flow(content_copy, "crossed_line", add_orphan)
    assert any("step 'orphan' cannot be reached from the start" in p for p in problems_for(content_copy))


def test_buttons_leading_nowhere_are_reported(content_copy: Path) -> None:
    def break_buttons(flow: dict) -> None:
        flow["steps"]["summary"]["buttons"] += [
            {"label": "Nowhere", "goto": "answer:no_such_intent"},
            {"label": "Lost", "goto": "step:no_such_step"},
            {"label": "Typo", "goto": "bok"},
        ]

    edit_flow(content_copy, "signs", break_buttons)
    problems = problems_for(content_copy)
    assert any("button 'Nowhere'" in p and "no_such_intent" in p for p in problems), problems
    assert any("'no_such_step', which does not exist" in p for p in problems), problems
    assert any("button 'Typo'" in p and "unknown target" in p for p in problems), problems


def test_schema_errors_name_the_file_and_line(content_copy: Path) -> None:
    path = edit_flow(content_copy, "signs", lambda flow: flow["steps"]["s3"].update(kind="quiz"))
    problems = problems_for(content_copy)
    assert any(p.startswith(f"{path}:") and "steps.s3" in p for p in problems), problems
    assert len(problems) >= 1


def test_a_placeholder_no_answer_fills_is_reported(content_copy: Path) -> None:
    edit_flow(content_copy, "reflection", lambda flow: flow["steps"]["starter"]["text"].append("I felt {feelngs}."))
    assert any("unknown placeholder(s) ['feelngs']" in p for p in problems_for(content_copy))


def test_a_missing_runner_text_is_reported(content_copy: Path) -> None:
    path = content_copy / "content" / "texts_flows.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("  flow_stop_label:", "  flow_stop_labl:"), encoding="utf-8")
    # The texts the runner asks for are found by reading the code (`bot.catalog.text_keys`), in the content check.
    assert any("the text 'flow_stop_label' is missing" in p for p in check_content(load_catalog(content_copy)).errors)


def test_journal_save_without_a_journal_section_is_reported(content_copy: Path) -> None:
    edit_flow(content_copy, "reflection", lambda flow: flow.pop("journal"))
    assert any("'journal:save' needs a `journal:` section" in p for p in problems_for(content_copy))


def test_an_option_with_nowhere_to_go_and_a_bad_condition_are_reported(content_copy: Path) -> None:
    def break_it(flow: dict) -> None:
        del flow["steps"]["need"]["next"]
        flow["steps"]["summary"]["variants"][0]["when"] = {"intensty": "4+"}

    edit_flow(content_copy, "reflection", break_it)
    problems = problems_for(content_copy)
    assert any("option 'heard' of step 'need' leads nowhere" in p for p in problems), problems
    assert any("condition on 'intensty', which no step answers" in p for p in problems), problems


def test_check_command_fails_on_a_broken_flow(content_copy: Path, tmp_path: Path) -> None:
    edit_flow(content_copy, "reflection", lambda flow: flow.update(start="nowhere"))
    out = io.StringIO()
    with redirect_stdout(out):
        status = cmd_check(make_settings(tmp_path, content_dir=content_copy))
    assert status == 1
    assert "the start step 'nowhere' does not exist" in out.getvalue()


async def test_a_new_flow_is_just_a_yaml_file(content_copy: Path, tmp_path: Path) -> None:
    (content_copy / "content" / "flows" / "breathe.yaml").write_text(
        "flow:\n"
        "  id: breathe\n"
        "  title: A pause\n"
        "  start: ready\n"
        "  steps:\n"
        "    ready:\n"
        "      kind: choice\n"
        "      text: Shall we take three slow breaths?\n"
        "      options:\n"
        "        - {id: 'yes', label: 'Yes'}\n"
        "        - {id: later, label: 'Later', goto: bye}\n"
        "      next: done\n"
        "    done:\n"
        "      kind: end\n"
        "      text: Well done. You answered {ready}.\n"
        "    bye:\n"
        "      kind: end\n"
        "      text: Whenever you like.\n",
        encoding="utf-8",
    )
    catalog = load_catalog(content_copy)
    assert validate_flows(catalog) == []
    engine = build_engine(make_settings(tmp_path, content_dir=content_copy), catalog)
    await engine.start()
    try:
        await engine.handle(Incoming(user_id=5, text="/start"))
        replies = await engine.handle(Incoming(user_id=5, kind="button", button="flow:breathe"))
        assert keys(replies) == ["flow.breathe.ready"] and "flow:stop" in payloads_of(replies)
        replies = await engine.handle(Incoming(user_id=5, kind="button", button="fl:breathe:ready:0"))
        assert replies[0].text == "Well done. You answered yes."
    finally:
        await engine.close()
