"""Small turns that bend around a person (issue 13): their own words quoted as theirs, thumbs
only after an answer to a question, emoji-only sadness, a free journal entry, ending a chat with
the team by command, the 24×7 line outside staff hours, and a terminal chat that keeps its numbers.

Transcripts by content key: `user: ... -> bot: [key, ...]`.
"""

from __future__ import annotations

import io
import re
import stat
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.app import build_engine
from bot.catalog.loader import Catalog
from bot.console import ConsoleChat, buttons_path, run_console
from bot.engine import faq
from bot.engine.core import Engine
from bot.engine.flow_model import ChoiceStep, MultiStep, TextStep, slot_of
from bot.engine.flow_languages import translated_flows
from bot.engine.flows import load_flows
from bot.engine.replies import Button, Reply
from bot.features.staff.router import CentreDesk, centre_desk
from bot.nlu.matcher import Candidate, MatchResult
from bot.nlu.safety_check import SafetyAssessment
from bot.nlu.understand import route_of, understand
from tests.conftest import find_button, keys, make_incoming, make_settings, payloads_of, press

OWN_WORDS = "honestly i think attention"
# A Monday noon and a Sunday noon in the centre's time zone (Asia/Kolkata): staff in, staff away.
STAFF_IN = datetime(2025, 3, 10, 6, 30, tzinfo=timezone.utc)
STAFF_AWAY = datetime(2025, 3, 9, 6, 30, tzinfo=timezone.utc)


def text_of(replies: list[Reply]) -> str:
    return "\n".join(reply.text for reply in replies)


async def say(engine: Engine, text: str) -> list[Reply]:
    return await engine.handle(make_incoming(text))


async def tap(engine: Engine, payload: str) -> list[Reply]:
    return await engine.handle(press(payload))


async def welcomed(engine: Engine, language: str = "en") -> None:
    await say(engine, "/start")
    await tap(engine, "consent:yes")
    if language != "en":
        await tap(engine, f"language:{language}")


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def desk_engine(catalog: Catalog, tmp_path: Path) -> AsyncIterator[tuple[Engine, CentreDesk, Clock]]:
    """An engine with a staff group, its handoff desk on a hand-moved clock (staff in)."""
    clock = Clock(STAFF_IN)
    engine = build_engine(make_settings(tmp_path, staff_chat_id=-100_777), catalog, clock=clock)
    desk = centre_desk(engine)
    assert desk is not None
    await engine.start()
    try:
        yield engine, desk, clock
    finally:
        await engine.close()


# --- 1. their own words are quoted as theirs ---------------------------------------------------------


async def crossed_line_in_own_words(engine: Engine, words: str) -> list[Reply]:
    """The crossed_line flow with "something else" at what it gave; returns the mirror step."""
    await tap(engine, "flow:crossed_line")
    await tap(engine, "fl:crossed_line:happened:1")
    await tap(engine, "fl:crossed_line:need_met:o")
    assert keys(await say(engine, words)) == ["flow.crossed_line.feel_now"]
    await tap(engine, "fl:crossed_line:feel_now:0")
    return await tap(engine, "fl:crossed_line:feel_now:d")


@pytest.mark.parametrize("language", ["en", "hinglish", "hi"])
async def test_own_words_are_quoted_never_spliced_into_the_mirror(engine: Engine, language: str) -> None:
    await welcomed(engine, language)
    mirror = await crossed_line_in_own_words(engine, OWN_WORDS)
    assert set(keys(mirror)) == {"flow.crossed_line.mirror"}
    shown = text_of(mirror)
    assert f"“{OWN_WORDS}”" in shown, "the person's words appear as theirs, in quotes"
    assert f"given you {OWN_WORDS}" not in shown
    assert "““" not in shown and "””" not in shown, "never quoted twice"


@pytest.mark.parametrize("language", ["en", "hinglish", "hi"])
async def test_a_reflection_in_own_words_reads_well_in_summary_starter_and_journal(engine: Engine, language: str) -> None:
    await welcomed(engine, language)
    await tap(engine, "flow:reflection")
    await tap(engine, "fl:reflection:noticed:o")
    await say(engine, "he hides his phone")
    await tap(engine, "fl:reflection:feelings:0")
    await tap(engine, "fl:reflection:feelings:d")
    await tap(engine, "fl:reflection:intensity:3")
    summary = await tap(engine, "fl:reflection:need:1")
    assert "“he hides his phone”" in text_of(summary)
    starter = await tap(engine, find_button(summary, "fl:reflection:summary:0"))
    assert "“he hides his phone”" in text_of(starter)
    assert keys(await tap(engine, "jr:save")) == ["text.journal_saved"]
    listing = await say(engine, "/journal")
    entry = await tap(engine, find_button(listing, "jr:open:"))
    assert "“he hides his phone”" in entry[0].text
    for text in (text_of(summary), text_of(starter), entry[0].text):
        assert "““" not in text and "””" not in text


def test_every_slot_that_can_hold_own_words_follows_a_colon_in_every_language(catalog: Catalog) -> None:
    """A template never puts the person's words inside its own grammar ("It may have given you honestly…")."""
    english = load_flows(catalog)
    translated, problems = translated_flows(catalog, english)
    assert not problems
    for language, flows in [("en", english), *translated.items()]:
        assert set(flows) == set(english), language
        for flow_id, flow in flows.items():
            free = {
                slot_of(step_id, step)
                for step_id, step in english[flow_id].steps.items()
                if (isinstance(step, (ChoiceStep, MultiStep)) and step.other is not None) or isinstance(step, TextStep)
            }
            templates = [m for step in flow.steps.values() for m in [*step.text, *(t for v in step.variants for t in v.text)]]
            templates += [flow.journal.text] if flow.journal is not None else []
            for template in templates:
                for slot in free:
                    for found in re.finditer(r"\{" + re.escape(str(slot)) + r"\}", template):
                        before = template[: found.start()]
                        assert before == "" or before.endswith(": "), (language, flow_id, template)


def test_the_quote_marks_come_from_content_in_each_language(catalog: Catalog) -> None:
    assert catalog.texts["flow_own_words"] == "“{words}”"
    for language in ("hinglish", "hi"):
        assert "{words}" in catalog.translations[language].texts["flow_own_words"]


# --- 2. "Did this help?" only after an answer to a question ------------------------------------------


async def test_thumbs_come_with_their_question_after_an_faq_answer(engine: Engine) -> None:
    await welcomed(engine)
    replies = await say(engine, "how do i rebuild trust with my partner")
    assert keys(replies)[-1] == "text.feedback_question"
    answer, question = replies[:-1], replies[-1]
    assert not [p for p in payloads_of(answer) if p.startswith("fb:")], "no thumbs on the answer's own keyboard"
    assert [b.payload for b in question.all_buttons()] == ["fb:rebuild_trust:y", "fb:rebuild_trust:n"]
    assert "book" not in [b.payload for b in question.all_buttons()], "👍 never beside Book a therapist"
    assert question.text == "Did this help?"


@pytest.mark.parametrize("text", ["hello", "thank you so much", "bye", "what can you do", "are you a bot", "i want to book a session"])
async def test_no_thumbs_after_greetings_thanks_goodbye_or_a_way_to_book(engine: Engine, text: str) -> None:
    await welcomed(engine)
    replies = await say(engine, text)
    assert "text.feedback_question" not in keys(replies), text
    assert not [p for p in payloads_of(replies) if p.startswith("fb:")], text


async def test_no_thumbs_in_the_day_after_a_safety_alert(engine: Engine) -> None:
    await welcomed(engine)
    await say(engine, "i want to end my life")
    replies = await say(engine, "how do i rebuild trust with my partner")
    assert "text.feedback_question" not in keys(replies)


@pytest.mark.parametrize(("language", "question"), [("hinglish", "Kya isse madad mili?"), ("hi", "क्या इससे मदद मिली?")])
async def test_the_feedback_question_speaks_the_persons_language(engine: Engine, language: str, question: str) -> None:
    await welcomed(engine, language)
    replies = await tap(engine, "answer:rebuild_trust")
    assert replies[-1].key == "text.feedback_question" and replies[-1].text == question


# --- 3. emoji-only distress gets a feelings answer ---------------------------------------------------


@pytest.mark.parametrize("emoji", ["😭", "💔", "😔", "🥺", "😞", "😭😭😭", "🥺🙏", "☹️"])
async def test_emoji_only_sadness_gets_the_feelings_answer(engine: Engine, emoji: str) -> None:
    await welcomed(engine)
    replies = await say(engine, emoji)
    assert "answer.share_feelings" in keys(replies), emoji
    assert not [key for key in keys(replies) if key.startswith("text.fallback")]
    assert "flow:reflection" in payloads_of(replies)
    assert "text.feedback_question" not in keys(replies), "no thumbs for someone who is hurting"


async def test_a_first_message_of_tears_is_welcomed_and_answered(engine: Engine) -> None:
    replies = await say(engine, "😭")
    assert keys(replies)[0] == "text.welcome" and "answer.share_feelings" in keys(replies)


async def test_other_emoji_alone_still_get_the_honest_fallback(engine: Engine) -> None:
    await welcomed(engine)
    assert keys(await say(engine, "😂"))[0].startswith("text.fallback")


# --- 4. the journal: a free entry, and it explains itself --------------------------------------------


@pytest.mark.parametrize(
    ("language", "asked"),
    [("en", "I want to write in my journal"), ("hinglish", "mujhe journal mein likhna hai"), ("hi", "मुझे जर्नल में लिखना है")],
)
async def test_asking_to_write_in_the_journal_starts_a_free_entry(engine: Engine, language: str, asked: str) -> None:
    await welcomed(engine, language)
    started = await say(engine, asked)
    assert set(keys(started)) == {"flow.journal_entry.write"}
    explained = started[0].text
    assert "/forget" in explained and "/journal" in explained and "🗑" in explained, "private, and how to delete"
    assert "text.feedback_question" not in keys(started)
    written = "Today was heavy. {centre_name} I kept thinking about the chat I saw."
    kept = await say(engine, written)
    assert keys(kept) == ["flow.journal_entry.keep"]
    assert keys(await tap(engine, "jr:save")) == ["text.journal_saved"]
    listing = await say(engine, "/journal")
    entry = await tap(engine, find_button(listing, "jr:open:"))
    assert entry[0].text.endswith(written), "kept exactly as written"


async def test_the_empty_journal_explains_itself_and_offers_a_free_entry(engine: Engine) -> None:
    await welcomed(engine)
    empty = await say(engine, "/journal")
    assert keys(empty) == ["text.journal_empty"]
    assert "only you" in empty[0].text and "deleted" in empty[0].text
    assert payloads_of(empty)[0] == "flow:journal_entry"
    assert set(keys(await tap(engine, "flow:journal_entry"))) == {"flow.journal_entry.write"}


async def test_a_listing_explains_how_to_delete_and_offers_another_entry(engine: Engine) -> None:
    await welcomed(engine)
    await tap(engine, "flow:journal_entry")
    await say(engine, "just needed to get this out")
    await tap(engine, "jr:save")
    listing = await say(engine, "/journal")
    assert keys(listing) == ["journal.list"]
    assert "🗑" in listing[0].text and "/forget" in listing[0].text
    assert "Writing in my journal" in listing[0].text, "a free entry is listed by its title"
    assert "flow:journal_entry" in payloads_of(listing)


async def test_asking_for_the_journal_mid_flow_offers_it_without_losing_the_step(engine: Engine) -> None:
    await welcomed(engine)
    await tap(engine, "flow:reflection")
    replies = await say(engine, "i want to write in my journal")
    assert keys(replies)[0] == "flow.journal_entry.busy" and keys(replies)[-1] == "flow.reflection.noticed"
    assert "fl:reflection:noticed:0" in payloads_of(replies), "the step comes back with its buttons"
    assert "/journal" in replies[0].text, "where to find it afterwards"
    assert (await engine.store.load_session(1001) or {})["flow"]["flow_id"] == "reflection", "the reflection carries on"


async def test_after_a_finished_reflection_the_journal_entry_starts_at_once(engine: Engine) -> None:
    await welcomed(engine)
    await tap(engine, "flow:signs")
    await tap(engine, "fl:signs:intro:n")
    for step in range(12):
        session = await engine.store.load_session(1001) or {}
        await tap(engine, f"fl:signs:{session['flow']['step']}:2")
    started = await say(engine, "i want to write in my journal")
    assert set(keys(started)) == {"flow.journal_entry.write"}


async def test_did_you_mean_can_offer_the_journal_by_its_title(engine: Engine) -> None:
    await welcomed(engine)
    assert set(keys(await tap(engine, "answer:journal_write"))) == {"flow.journal_entry.write"}
    assert keys(await tap(engine, "more:journal_write")) == ["text.button_expired"]
    offered = faq.clarify_replies(engine.texts, ["journal_write", "share_feelings"])
    assert offered[0].all_buttons()[0] == Button("Writing in my journal", "answer:journal_write")


# --- 5. during a handoff ----------------------------------------------------------------------------


async def open_chat(engine: Engine) -> None:
    await welcomed(engine)
    intro = await say(engine, "/human")
    assert keys(intro) == ["text.handoff_intro_open"]
    assert keys(await tap(engine, "human:go")) == ["text.handoff_opened"]


async def test_the_person_is_told_once_and_again_only_after_a_pause(desk_engine: tuple[Engine, CentreDesk, Clock]) -> None:
    engine, _, clock = desk_engine
    await open_chat(engine)
    assert keys(await say(engine, "is anyone there?")) == ["text.handoff_first_ack"]
    assert await say(engine, "i found messages on his phone") == []
    clock.now += timedelta(minutes=3)
    assert await say(engine, "i don't know what to think") == [], "a short gap is not a pause"
    clock.now += timedelta(minutes=15)
    again = await say(engine, "are you still there?")
    assert keys(again) == ["text.handoff_ack_again"]
    assert await say(engine, "ok") == []


@pytest.mark.parametrize("command", ["/end", "/cancel"])
async def test_end_and_cancel_end_the_chat_with_the_team(desk_engine: tuple[Engine, CentreDesk, Clock], command: str) -> None:
    engine, desk, _ = desk_engine
    await open_chat(engine)
    await say(engine, "hello?")
    ended = await say(engine, command)
    assert keys(ended) == ["text.handoff_ended_by_person"]
    assert await desk.handoff.handoffs.open_of(1001) is None
    # Afterwards the bot answers questions again instead of relaying them.
    assert "answer.what_is_micro_cheating" in keys(await say(engine, "what is micro cheating"))


async def test_end_works_in_a_chat_the_staff_opened(desk_engine: tuple[Engine, CentreDesk, Clock]) -> None:
    engine, desk, _ = desk_engine
    await welcomed(engine)
    assert await desk.handoff.open_by_staff(1001)
    assert keys(await say(engine, "/end")) == ["text.handoff_ended_by_person"]


async def test_end_and_cancel_outside_a_chat_stop_a_flow_as_before(engine: Engine) -> None:
    await welcomed(engine)
    await tap(engine, "flow:reflection")
    assert keys(await say(engine, "/end")) == ["text.flow_stopped"]
    assert keys(await say(engine, "/cancel")) == ["text.flow_nothing_to_stop"]


# --- 6. outside staff hours, the 24×7 line too --------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "hinglish", "hi"])
async def test_talk_to_a_person_outside_staff_hours_names_the_round_the_clock_line(
    desk_engine: tuple[Engine, CentreDesk, Clock], language: str
) -> None:
    engine, _, clock = desk_engine
    clock.now = STAFF_AWAY
    await welcomed(engine, language)
    intro = await say(engine, "/human")
    assert keys(intro) == ["text.handoff_intro_closed"]
    assert "Tele-MANAS" in intro[0].text and "14416" in intro[0].text and "112" in intro[0].text


async def test_without_a_staff_group_the_centres_details_come_with_the_24x7_line(engine: Engine) -> None:
    await welcomed(engine)
    replies = await say(engine, "/human")
    assert keys(replies) == ["text.human_unavailable"]
    assert "14416" in replies[0].text


# --- 7. the terminal chat -----------------------------------------------------------------------------


async def test_button_numbers_still_work_after_the_chat_restarts(tmp_path: Path, catalog: Catalog) -> None:
    settings = make_settings(tmp_path)
    first = io.StringIO()
    await run_console(build_engine(settings, catalog), stdin=io.StringIO("/start\n"), out=first)
    assert "[1] Yes, that's fine" in first.getvalue()
    kept = buttons_path(settings.database_path)
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600, "readable by the bot's account only"
    second = io.StringIO()
    await run_console(build_engine(settings, catalog), stdin=io.StringIO("1\n"), out=second)
    assert "Thank you. You can change your mind" in second.getvalue(), "1 pressed the consent button shown before"


async def test_a_broken_buttons_file_only_costs_the_numbers(tmp_path: Path, catalog: Catalog) -> None:
    settings = make_settings(tmp_path)
    engine = build_engine(settings, catalog)
    await engine.start()
    try:
        buttons_path(settings.database_path).write_text("{not json", encoding="utf-8")
        chat = ConsoleChat(engine, io.StringIO(), buttons_file=buttons_path(settings.database_path))
        assert chat.buttons == []
        assert chat.to_incoming("1").kind == "text"
    finally:
        await engine.close()


def what_the_chat_shows(engine: Engine, text: str) -> str:
    """The reply key `python -m bot match` promises for this text (outside a flow), by `route_of`."""
    meaning = understand(text, engine.detector, engine.matcher)
    route = route_of(meaning)
    if route == "answer":
        flow_id = engine.flows.started_by(meaning.predicted)
        return f"flow.{flow_id}." if flow_id else f"answer.{meaning.predicted}"
    return {"safety_check_in": "text.safety_check_in", "safety": "text.safety_", "clarify": "text.clarify"}.get(
        route, "text.fallback"
    )


@pytest.mark.parametrize(
    "text",
    [
        "i want to die",
        "i don't want to be alive anymore",
        "kinda feel like disappearing tbh",
        "😭",
        "i want to write in my journal",
        "how do i rebuild trust",
        "purple monkey dishwasher",
    ],
)
async def test_match_and_the_chat_agree(engine: Engine, text: str) -> None:
    promised = what_the_chat_shows(engine, text)
    await welcomed(engine)
    shown = keys(await say(engine, text))
    assert any(key.startswith(promised) for key in shown), (text, promised, shown)


class CheckInOnly:
    """A safety check that is unsure about every message but a command: the check-in tier."""

    def check(self, text: str) -> SafetyAssessment | None:
        if text.startswith("/"):
            return None
        return SafetyAssessment("crisis", 0.5, "model", "check_in", "model")


async def test_a_check_in_tier_is_a_question_in_the_chat_and_in_match(
    engine: Engine, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine.detector = CheckInOnly()  # type: ignore[assignment]
    await welcomed(engine)
    assert keys(await say(engine, "everything feels pointless")) == ["text.safety_check_in"]

    import bot.app
    from bot.__main__ import cmd_match

    monkeypatch.setattr(bot.app, "build_detector", lambda catalog: CheckInOnly())
    assert cmd_match(make_settings(tmp_path), "everything feels pointless") == 0
    out = capsys.readouterr().out
    assert "tier=check_in" in out and "check-in question first" in out
    assert "the safety answer wins" not in out


def test_a_safety_intent_is_never_the_answer_without_the_safety_check() -> None:
    class NoRisk:
        def check(self, text: str) -> None:
            return None

        def explained_away(self, text: str) -> bool:
            return True

    class CloseToCrisis:
        def match(self, text: str) -> MatchResult:
            return MatchResult("answer", "crisis", "crisis", 80.0, (Candidate("crisis", 80.0), Candidate("share_feelings", 40.0)))

    meaning = understand("so done", NoRisk(), CloseToCrisis())  # type: ignore[arg-type]
    assert meaning.safety is None and meaning.decision != "answer" and meaning.predicted == "out_of_scope"
    assert route_of(meaning) == "fallback"
