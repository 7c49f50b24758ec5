"""Forms (issue 12): the booking as a declared form (content/forms/booking.yaml) on the form runner.

A small form over in-memory records shows the runner's own behaviour (steps, Back, a typed label,
a trimmed text, change from the summary, cancel, the timeout); the shipped booking form is checked
on load (file and line) and against the actions the booking feature registers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.app import build_engine
from bot.catalog.form_model import load_forms
from bot.catalog.loader import Catalog, load_catalog
from bot.engine.forms import Call, FormRunner
from bot.engine.payloads import parse
from bot.engine.replies import Incoming, Reply
from bot.engine.session import Session
from bot.engine.texts import Texts
from bot.errors import ContentError
from bot.features.booking.feature import BookingDesk
from tests.test_flow_validation import content_copy  # noqa: F401  (a fixture: a copy of intents/ and content/)
from tests.conftest import keys, make_settings, payloads_of

PERSON = 7
ORDER = """\
form:
  id: order
  start: order
  button: od
  timeout_minutes: 60
  keep_hours: 24
  texts: {intro: book_intro, again: book_step_again, resume_question: book_resume_question, resumed: book_resumed,
          left: book_resume_declined, continue_or_restart: book_continue_or_restart, cancel_label: book_cancel_label,
          cancelled: book_draft_cancelled, gone: book_draft_gone, start_label: book_start_label}
  steps:
    who: {ask: book_who_question, answer: buttons, options: [individual, couple], label: "book_who_{option}_label",
          change: {label: book_change_who_label}}
    mode: {ask: book_mode_question, answer: buttons, options: [online, in_person], label: "book_mode_{option}_label",
           back: true}
    note: {ask: book_note_question, answer: text, skip: book_note_skip_label, max_chars: 10, trimmed: book_note_trimmed,
           back: true, change: {label: book_change_note_label, clears: true}}
  summary: {text: book_summary, values: values, confirm: book_confirm_label, change: book_change_label,
            change_question: book_change_question, submit: send}
"""


@dataclass
class Row:
    id: int
    user_id: int
    updated_at: str
    step: str | None = None
    status: str = "draft"
    who: str | None = None
    mode: str | None = None
    note: str | None = None


class Rows:
    """The `Records` of a form, in memory."""

    def __init__(self) -> None:
        self.rows: dict[int, Row] = {}

    async def get(self, record_id: int) -> Row | None:
        return self.rows.get(record_id)

    async def draft(self, record_id: int, user_id: int) -> Row | None:
        row = self.rows.get(record_id)
        return row if row is not None and row.user_id == user_id and row.status == "draft" else None

    async def draft_of(self, user_id: int) -> Row | None:
        return next((r for r in reversed(self.rows.values()) if r.user_id == user_id and r.status == "draft"), None)

    async def new_draft(self, user_id: int, first_name: str, username: str | None, now: datetime, *, step: str) -> int:
        row = Row(id=len(self.rows) + 1, user_id=user_id, updated_at=now.isoformat(), step=step)
        self.rows[row.id] = row
        return row.id

    async def update_draft(self, record_id: int, now: datetime, **fields: object) -> None:
        self.rows[record_id] = replace(self.rows[record_id], updated_at=now.isoformat(), **fields)  # type: ignore[arg-type]

    async def drop_draft(self, record_id: int) -> bool:
        return self.rows.pop(record_id, None) is not None

    async def purge_drafts(self, before: datetime) -> int:
        return 0


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2030, 3, 25, 4, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now




def order_runner(tmp_path: Path, catalog: Catalog, actions: dict[str, Any] | None = None) -> tuple[FormRunner, Rows, Clock]:
    (tmp_path / "content" / "forms").mkdir(parents=True)
    (tmp_path / "content" / "forms" / "order.yaml").write_text(ORDER, encoding="utf-8")
    problems: list[str] = []
    forms = load_forms(tmp_path, dict(catalog.texts), problems)
    assert problems == []
    texts = Texts(catalog, emergency="112", retention_days=180)

    async def values(call: Call) -> dict[str, str]:
        return {"summary": f"{call.record.who}/{call.record.mode}/{call.record.note}", "shared": "your answers"}

    async def send(call: Call) -> list[Reply]:
        rows.rows[call.record.id].status = "sent"
        return [texts.reply("book_received", how="here")]

    rows, clock = Rows(), Clock()
    named = {"values": values, "send": send} if actions is None else actions
    return FormRunner(forms["order"], texts, rows, named, clock), rows, clock


def says(text: str) -> Incoming:
    return Incoming(user_id=PERSON, text=text)


async def test_a_declared_form_runs_with_back_typed_labels_change_and_cancel(tmp_path: Path, catalog: Catalog) -> None:
    form, rows, _ = order_runner(tmp_path, catalog)
    session = Session(user_id=PERSON)
    started = await form.start(session, says("/order"))
    assert keys(started) == ["text.book_intro", "text.book_who_question"]
    assert payloads_of(started) == ["od:1:who:individual", "od:1:who:couple"]
    mode = await form.on_button(session, parse("od:1:who:couple"))
    assert keys(mode) == ["text.book_mode_question"] and "od:1:back:mode" in payloads_of(mode), "back: true adds Back"
    who = await form.on_button(session, parse("od:1:back:mode"))
    assert keys(who) == ["text.book_who_question"] and rows.rows[1].who == "couple", "Back keeps the answer"
    assert keys(await form.on_text(session, says("Just for me"))) == ["text.book_mode_question"], "a typed label presses it"
    note = await form.on_text(session, says("online"))
    assert keys(note) == ["text.book_note_question"] and "od:1:note:skip" in payloads_of(note)
    assert keys(await form.on_text(session, says("back"))) == ["text.book_mode_question"], "typed Back words too"
    await form.on_button(session, parse("od:1:mode:online"))
    summary = await form.on_text(session, says("a note far longer than ten"))
    assert keys(summary) == ["text.book_note_trimmed", "text.book_summary"] and "individual/online/a note far" in summary[1].text
    change = await form.on_button(session, parse("od:1:change"))
    assert payloads_of(change) == ["od:1:edit:who", "od:1:edit:note"]
    assert keys(await form.on_button(session, parse("od:1:edit:note"))) == ["text.book_note_question"]
    assert rows.rows[1].note is None, "clears: true asks afresh"
    assert keys(await form.on_button(session, parse("od:1:note:skip"))) == ["text.book_summary"]
    sent = await form.on_button(session, parse("od:1:confirm"))
    assert keys(sent) == ["text.book_received"] and rows.rows[1].status == "sent"
    assert keys(await form.on_button(session, parse("od:1:cancel"))) == ["text.book_draft_gone"], "a sent one is gone"


async def test_a_form_step_times_out_like_a_flow_step(tmp_path: Path, catalog: Catalog) -> None:
    form, rows, clock = order_runner(tmp_path, catalog)
    session = Session(user_id=PERSON)
    await form.start(session, says("/order"))
    again = await form.step_again(session)
    assert again[-1].text.startswith("Whenever you're ready") and "od:1:cancel" in payloads_of(again)
    clock.now += timedelta(minutes=61)
    assert await form.is_open(session) is False and await form.step_again(session) == []
    assert await form.on_text(session, says("Just for me")) is None, "typed text is no answer after the timeout"
    assert keys(await form.on_button(session, parse("od:1:who:individual"))) == ["text.book_mode_question"]
    cancelled = await form.on_button(session, parse("od:1:cancel"))
    assert keys(cancelled) == ["text.book_draft_cancelled"] and rows.rows == {}


async def test_an_action_the_form_names_but_nobody_registers_stops_the_start(tmp_path: Path, catalog: Catalog) -> None:
    with pytest.raises(ContentError) as caught:
        order_runner(tmp_path, catalog, actions={"values": lambda call: None})
    (problem,) = caught.value.problems
    assert "order.yaml:" in problem and "'send'" in problem


def test_the_booking_registers_every_action_its_form_names(tmp_path: Path, catalog: Catalog) -> None:
    desk = build_engine(make_settings(tmp_path, staff_chat_id=-100_777), catalog).feature(BookingDesk)
    assert desk is not None and desk.form.name == desk.steps.name == "booking"
    assert set(desk.form.actions) == set(catalog.forms["booking"].named_actions()), "no action left unused"


def edit_booking_form(root: Path, change: Any) -> Path:
    path = root / "content" / "forms" / "booking.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data["form"])
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def line_of(path: Path, needle: str) -> int:
    """The last line holding `needle`."""
    return max(n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line)


@pytest.mark.parametrize(
    ("change", "needle", "message"),
    [
        (lambda f: f["steps"]["phone"].update(when={"contact": "pager"}), "when:", "waits for 'pager'"),
        (lambda f: f["steps"]["note"].update(ask="book_note_missing"), "book_note_missing", "'book_note_missing' is missing"),
        (lambda f: f["steps"]["who"].update(colour="blue"), "colour", "Extra inputs are not permitted"),
        (lambda f: f["steps"]["slot"].pop("pick"), "slot:", "needs pick"),
        (lambda f: f["steps"]["note"].update(resets=["who"]), "resets", "no later step answers"),
    ],
)
def test_a_broken_form_is_refused_on_load_with_its_file_and_line(content_copy: Path, change: Any, needle: str, message: str) -> None:
    path = edit_booking_form(content_copy, change)
    with pytest.raises(ContentError) as caught:
        load_catalog(content_copy)
    problems = "\n".join(caught.value.problems)
    assert message in problems and f"{path}:{line_of(path, needle)}" in problems, problems


async def test_a_step_added_in_yaml_is_asked_kept_and_shown_to_the_staff(tmp_path: Path, content_copy: Path) -> None:
    """Adding a booking step: one YAML step and its texts; its answer is kept without a new column."""

    def add_language(form: dict[str, Any]) -> None:
        steps = list(form["steps"].items())
        steps.insert(2, ("language", {
            "ask": "book_language_question", "answer": "buttons", "options": ["english", "hindi"],
            "label": "book_language_{option}_label", "line": "book_line_language",
            "change": {"label": "book_change_language_label"},
        }))
        form["steps"] = dict(steps)

    edit_booking_form(content_copy, add_language)
    (content_copy / "content" / "texts_language.yaml").write_text(
        "texts:\n"
        "  book_language_question: \"Which language would you like the session in?\"\n"
        "  book_language_english_label: \"English\"\n"
        "  book_language_hindi_label: \"Hindi\"\n"
        "  book_line_language: \"Language: {value}\"\n"
        "  book_change_language_label: \"The language\"\n",
        encoding="utf-8",
    )
    clock = Clock()
    engine = build_engine(make_settings(tmp_path, staff_chat_id=-100_777), load_catalog(content_copy), clock=clock)
    await engine.start()
    try:
        async def press(payload: str) -> list[Reply]:
            return await engine.handle(Incoming(user_id=PERSON, kind="button", button=payload, first_name="Asha"))

        await engine.handle(says("/start"))
        await engine.handle(says("/book"))
        await press("bk:1:who:couple")
        asked = await press("bk:1:mode:online")
        assert keys(asked) == ["text.book_language_question"] and payloads_of(asked) == ["bk:1:language:english", "bk:1:language:hindi"]
        times = await press("bk:1:language:hindi")
        assert keys(times) == ["text.book_slots_intro"]
        await press([p for p in payloads_of(times) if ":slot:" in p][0])
        await press("bk:1:contact:here")
        summary = await press("bk:1:note:skip")
        assert keys(summary) == ["text.book_summary"] and "Language: Hindi" in summary[0].text
        assert "bk:1:edit:language" in payloads_of(await press("bk:1:change"))
        assert keys(await press("bk:1:confirm")) == ["text.book_received"]
        row = await engine.store.fetchone("SELECT answers FROM bookings WHERE id = 1")
        assert row is not None and json.loads(row["answers"]) == {"language": "hindi"}
        cards = await engine.store.fetchall("SELECT payload FROM outbox WHERE json_extract(payload, '$.kind') = 'booking_card'")
        assert len(cards) == 1 and "Language: Hindi" in json.loads(cards[0]["payload"])["reply"]["text"]
        await engine.handle(Incoming(user_id=PERSON, kind="button", button="forget:yes"))
        assert (await engine.store.fetchone("SELECT answers FROM bookings WHERE id = 1"))["answers"] is None
    finally:
        await engine.close()
