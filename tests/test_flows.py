"""Transcript tests of the guided flows, through the real engine and the console channel.

user: [button] -> bot: [flow.<flow>.<step>] ... each test reads as what a person would see.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from bot.app import build_engine
from bot.catalog.loader import Catalog
from bot.config import Settings
from bot.console import ConsoleChat
from bot.engine.core import Engine
from bot.engine.flows import FlowRunner
from bot.engine.replies import Reply, utcnow
from bot.engine.session import FlowState, Session
from bot.nlu.safety import SafetyVerdict
from tests.conftest import keys, make_incoming, make_settings, payloads_of, press

USER = 1001


@pytest.fixture
async def flow_engine(settings: Settings, catalog: Catalog) -> AsyncIterator[Engine]:
    built = build_engine(settings, catalog)
    await built.start()
    try:
        yield built
    finally:
        await built.close()


async def welcomed(engine: Engine, user_id: int = USER) -> None:
    """Get past the first-contact welcome so the transcript starts at the flow."""
    await engine.handle(make_incoming("/start", user_id=user_id))


async def tap(engine: Engine, payload: str, user_id: int = USER) -> list[Reply]:
    return await engine.handle(press(payload, user_id=user_id))


async def say(engine: Engine, text: str, user_id: int = USER) -> list[Reply]:
    return await engine.handle(make_incoming(text, user_id=user_id))


def text_of(replies: list[Reply]) -> str:
    return "\n".join(reply.text for reply in replies)


def option(replies: list[Reply], label: str) -> str:
    """The payload of the button labelled `label` (ignoring a ✓ mark)."""
    for reply in replies:
        for button in reply.all_buttons():
            if button.label.removeprefix("✓ ") == label:
                return button.payload
    raise AssertionError(f"no button {label!r} in {[b.label for r in replies for b in r.all_buttons()]}")


async def session_of(engine: Engine, user_id: int = USER) -> Session:
    return Session.from_dict(user_id, await engine.store.load_session(user_id))


# --- the reflection ----------------------------------------------------------------------------


async def test_reflection_end_to_end_reflects_back_in_the_persons_own_terms(flow_engine: Engine) -> None:
    await welcomed(flow_engine)
    replies = await tap(flow_engine, "flow:reflection")
    assert set(keys(replies)) == {"flow.reflection.noticed"}
    assert "flow:stop" in payloads_of(replies)
    replies = await tap(flow_engine, option(replies, "Messages deleted or hidden"))
    assert keys(replies) == ["flow.reflection.feelings"]
    replies = await tap(flow_engine, option(replies, "Hurt"))
    assert replies[0].edit_previous and "✓ Hurt" in [b.label for b in replies[0].all_buttons()]
    replies = await tap(flow_engine, option(replies, "Anxious"))
    replies = await tap(flow_engine, option(replies, "Done ✓"))
    assert keys(replies) == ["flow.reflection.intensity"]
    assert [b.label for b in replies[0].buttons[0]] == ["1", "2", "3", "4", "5"]
    replies = await tap(flow_engine, option(replies, "2"))
    assert keys(replies) == ["flow.reflection.need"]
    replies = await tap(flow_engine, option(replies, "To be heard"))
    assert set(keys(replies)) == {"flow.reflection.summary"}
    summary = text_of(replies)
    assert "hurt and anxious" in summary and "messages being deleted or hidden" in summary
    assert "2 out of 5" in summary and "to be heard" in summary
    assert "cheating on you" not in summary.lower()
    assert {"jr:save", "answer:how_to_talk_to_partner", "book", "human"} <= set(payloads_of(replies))
    starter = await tap(flow_engine, option(replies, "💬 A way to say it"))
    assert (
        "There's something I noticed, and I'd like us to talk about it: messages being deleted or hidden. "
        "How it made me feel: hurt and anxious. What I need: to be heard."
    ) in [reply.text for reply in starter]
    # The summary's other buttons still work from the starter (both are end messages).
    again = await tap(flow_engine, "jr:save")
    assert keys(again) == ["text.journal_saved"]


async def test_high_intensity_gently_offers_a_person(flow_engine: Engine) -> None:
    await welcomed(flow_engine)
    replies = await tap(flow_engine, "flow:reflection")
    replies = await tap(flow_engine, option(replies, "We've drifted apart"))
    replies = await tap(flow_engine, option(replies, "Lonely"))
    replies = await tap(flow_engine, option(replies, "Done ✓"))
    replies = await tap(flow_engine, option(replies, "5"))
    replies = await tap(flow_engine, option(replies, "Closeness"))
    assert "weighing on you a lot" in text_of(replies)
    assert "human" in payloads_of(replies)


async def test_typed_answers_that_fit_the_step_are_taken(flow_engine: Engine) -> None:
    await welcomed(flow_engine)
    replies = await tap(flow_engine, "flow:reflection")
    replies = await tap(flow_engine, option(replies, "Something else"))
    assert keys(replies) == ["flow.reflection.noticed.other"]
    replies = await say(flow_engine, "he's always on his phone and turns it face down")
    assert keys(replies) == ["flow.reflection.feelings"]
    replies = await say(flow_engine, "hurt, confused and lonely")
    assert {"✓ Hurt", "✓ Confused", "✓ Lonely"} <= {b.label for b in replies[0].all_buttons()}
    replies = await say(flow_engine, "done")
    assert keys(replies) == ["flow.reflection.intensity"]
    replies = await say(flow_engine, "3")
    assert keys(replies) == ["flow.reflection.need"]
    replies = await say(flow_engine, "space")
    summary = text_of(replies)
    assert "he's always on his phone and turns it face down" in summary
    assert "hurt, confused and lonely" in summary and "some space" in summary


async def test_a_question_mid_flow_is_answered_then_the_step_is_shown_again(flow_engine: Engine) -> None:
    await welcomed(flow_engine)
    replies = await tap(flow_engine, "flow:reflection")
    await tap(flow_engine, option(replies, "Flirting with a friend or an ex"))
    replies = await say(flow_engine, "what is micro cheating")
    assert "answer.what_is_micro_cheating" in keys(replies)
    assert keys(replies)[-1] == "flow.reflection.feelings"
    assert "flow:stop" in payloads_of(replies[-1:])
    replies = await tap(flow_engine, option(replies[-1:], "Hurt"))
    assert keys(replies) == ["flow.reflection.feelings"]


async def test_stop_ends_the_flow_keeps_nothing_and_old_buttons_expire(flow_engine: Engine) -> None:
    await welcomed(flow_engine)
    first = await tap(flow_engine, "flow:reflection")
    replies = await tap(flow_engine, option(first, "Flirting with a friend or an ex"))
    stopped = await tap(flow_engine, "flow:stop")
    assert keys(stopped) == ["text.flow_stopped"]
    assert "flow:reflection" in payloads_of(stopped)  # the menu, so there's always a way on
    assert (await session_of(flow_engine)).flow is None
    assert keys(await tap(flow_engine, option(replies, "Hurt"))) == ["text.button_expired"]
    assert keys(await say(flow_engine, "stop")) != ["text.flow_stopped"]


async def test_typing_stop_stops(flow_engine: Engine) -> None:
    await welcomed(flow_engine)
    await tap(flow_engine, "flow:signs")
    assert keys(await say(flow_engine, "Stop")) == ["text.flow_stopped"]


async def test_a_button_from_an_earlier_step_is_stale(flow_engine: Engine) -> None:
    await welcomed(flow_engine)
    first = await tap(flow_engine, "flow:reflection")
    await tap(flow_engine, option(first, "Flirting with a friend or an ex"))
    replies = await tap(flow_engine, option(first, "We've drifted apart"))
    assert keys(replies) == ["text.button_expired"]
    assert (await session_of(flow_engine)).flow.step == "feelings"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "payload",
    ["fl:reflection:nosuch:0", "fl:reflection:noticed:99", "fl:signs:s1:0", "fl:reflection:noticed:x",
     "fl:reflection", "resume:yes", "resume:maybe", "flow:nosuch", "flow:reflection:old", "fl:a:b:c:d"],
)
async def test_forged_or_stale_flow_payloads_expire_without_harm(flow_engine: Engine, payload: str) -> None:
    await welcomed(flow_engine)
    await tap(flow_engine, "flow:reflection")
    assert keys(await tap(flow_engine, payload)) == ["text.button_expired"]
    assert (await session_of(flow_engine)).flow.step == "noticed"  # type: ignore[union-attr]


def test_no_flow_payload_crashes_the_runner(catalog: Catalog) -> None:
    """Whatever comes back in a button, the runner answers or says None; it never raises."""
    from bot.engine import payloads
    from bot.engine.texts import Texts

    runner = FlowRunner(catalog, Texts(catalog, emergency="112", retention_days=180))
    part = st.sampled_from(["reflection", "signs", "crossed_line", "noticed", "feelings", "s1", "summary",
                            "0", "1", "9", "99", "b", "c", "d", "o", "s", "n", "stop", "new", "yes", "no", "x"])

    @hsettings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
    @given(kind=st.sampled_from(["fl", "flow", "resume", "signs", "reflect"]), args=st.lists(part, max_size=4),
           step=st.sampled_from(["noticed", "feelings", "intensity", "need", "summary", "starter"]))
    def run(kind: str, args: list[str], step: str) -> None:
        session = Session(user_id=1, flow=FlowState(flow_id="reflection", step=step, history=["noticed"]))
        parsed = payloads.parse(":".join([kind, *args]))
        if parsed is not None:
            runner.on_payload(session, parsed)

    run()


# --- leaving and coming back ----------------------------------------------------------------------


async def test_a_restart_loses_nothing(tmp_path: Path, catalog: Catalog) -> None:
    settings = make_settings(tmp_path)
    first = build_engine(settings, catalog)
    await first.start()
    await welcomed(first)
    replies = await tap(first, "flow:reflection")
    replies = await tap(first, option(replies, "Messages deleted or hidden"))
    replies = await tap(first, option(replies, "Angry"))
    await first.close()

    second = build_engine(settings, catalog)
    await second.start()
    try:
        replies = await tap(second, option(replies, "Done ✓"))
        assert keys(replies) == ["flow.reflection.intensity"]
        replies = await tap(second, option(replies, "4"))
        replies = await tap(second, option(replies, "Clarity"))
        assert "What you noticed: messages being deleted or hidden. How it makes you feel: angry." in text_of(replies)
    finally:
        await second.close()


async def age_flow(engine: Engine, hours: float, user_id: int = USER) -> None:
    """Pretend the person's last step was `hours` ago."""
    data = await engine.store.load_session(user_id)
    assert data is not None and data["flow"] is not None
    data["flow"]["updated_at"] = (utcnow() - timedelta(hours=hours)).isoformat(timespec="seconds")
    await engine.store.save_session(user_id, data)


async def test_coming_back_days_later_offers_continue_or_start_over(flow_engine: Engine) -> None:
    await welcomed(flow_engine)
    replies = await tap(flow_engine, "flow:reflection")
    await tap(flow_engine, option(replies, "Something else"))  # waiting for their own words
    await age_flow(flow_engine, hours=72)
    # Days later, a message is not silently taken as the old step's answer.
    replies = await say(flow_engine, "what does micro cheating mean")
    assert "answer.what_is_micro_cheating" in keys(replies)
    assert keys(replies)[-1] == "text.flow_continue_offer"
    replies = await say(flow_engine, "/reflect")
    assert keys(replies) == ["text.flow_continue_or_restart"]
    restarted = await tap(flow_engine, option(replies, "Start over"))
    assert keys(restarted)[-1] == "flow.reflection.noticed"
    assert (await session_of(flow_engine)).flow.slots == {}  # type: ignore[union-attr]


async def test_continue_where_you_left_off(flow_engine: Engine) -> None:
    await welcomed(flow_engine)
    replies = await tap(flow_engine, "flow:signs")
    replies = await tap(flow_engine, option(replies, "Let's start"))
    replies = await tap(flow_engine, option(replies, "Yes"))
    await age_flow(flow_engine, hours=30)
    replies = await tap(flow_engine, "flow:signs")
    assert keys(replies) == ["text.flow_continue_or_restart"]
    replies = await tap(flow_engine, option(replies, "Continue"))
    assert keys(replies) == ["flow.signs.s2"]


# --- safety wins, then the way back is offered once ----------------------------------------------------


@dataclass
class StandInDetector:
    """Flags one exact phrase, so this test does not depend on the safety lexicon's wording."""

    phrase: str

    def check(self, text: str) -> SafetyVerdict | None:
        return SafetyVerdict(label="crisis", pattern="stand_in") if self.phrase in text.lower() else None


async def test_safety_interrupts_a_flow_and_the_way_back_is_offered_once(tmp_path: Path, catalog: Catalog) -> None:
    real = build_engine(make_settings(tmp_path), catalog)
    engine = Engine(catalog=catalog, store=real.store, detector=StandInDetector("i can't go on"), matcher=real.matcher)  # type: ignore[arg-type]
    await engine.start()
    try:
        await welcomed(engine)
        replies = await tap(engine, "flow:reflection")
        await tap(engine, option(replies, "Something else"))
        replies = await say(engine, "honestly i can't go on like this")
        assert keys(replies)[0] == "text.safety_crisis"
        assert not any(key.startswith("flow.") for key in keys(replies))
        replies = await say(engine, "thank you")
        assert keys(replies)[-1] == "text.resume_question"
        replies = await tap(engine, "resume:yes")
        assert keys(replies) == ["text.flow_resumed", "flow.reflection.noticed", "flow.reflection.noticed"]
        # A second interruption; this time the person leaves it, and is not asked again.
        await say(engine, "i can't go on")
        replies = await say(engine, "ok")
        assert keys(replies)[-1] == "text.resume_question"
        assert keys(await tap(engine, "resume:no")) == ["text.flow_resume_declined"]
        assert "text.resume_question" not in keys(await say(engine, "thanks"))
        assert (await session_of(engine)).flow is None
    finally:
        await engine.close()


async def test_a_crisis_message_mid_flow_gets_the_safety_answer(flow_engine: Engine) -> None:
    await welcomed(flow_engine)
    replies = await tap(flow_engine, "flow:crossed_line")
    await tap(flow_engine, option(replies, "Flirty chats with someone"))
    replies = await say(flow_engine, "i want to kill myself")
    assert keys(replies)[0] == "text.safety_crisis"
    assert not any(key.startswith("flow.") for key in keys(replies))
    replies = await say(flow_engine, "okay")
    assert "text.resume_question" in keys(replies)
    replies = await tap(flow_engine, "resume:yes")
    assert keys(replies)[-1] == "flow.crossed_line.need_met"


# --- the signs self-check ----------------------------------------------------------------------------


async def walk_signs(engine: Engine, answers: list[str]) -> list[Reply]:
    replies = await tap(engine, "flow:signs")
    replies = await tap(engine, option(replies, "Let's start"))
    for answer in answers:
        replies = await tap(engine, option(replies, answer))
    return replies


async def test_signs_summary_counts_patterns_never_a_verdict(flow_engine: Engine) -> None:
    await welcomed(flow_engine)
    answers = ["Yes", "No", "No", "Yes", "Not sure", "No", "No", "No", "Yes", "No", "No", "No"]
    replies = await walk_signs(flow_engine, answers)
    assert set(keys(replies)) == {"flow.signs.summary"}
    summary = text_of(replies)
    assert "You recognised 3 of the 12 patterns" in summary
    assert "• Messaging someone, then deleting the messages" in summary
    assert "patterns, not proof" in summary and "how it makes you feel" in summary
    for verdict in ("is cheating", "is micro-cheating", "proves", "guilty"):
        assert verdict not in summary.lower()
    assert {"flow:reflection", "book"} <= set(payloads_of(replies))
    reflection = await tap(flow_engine, "flow:reflection")
    assert keys(reflection)[-1] == "flow.reflection.noticed"


async def test_signs_with_nothing_recognised_still_validates_the_feeling(flow_engine: Engine) -> None:
    await welcomed(flow_engine)
    replies = await walk_signs(flow_engine, ["No"] * 12)
    assert "You didn't recognise any of these patterns" in text_of(replies)
    assert "that feeling matters" in text_of(replies)


async def test_back_in_the_self_check_lets_an_answer_be_changed(flow_engine: Engine) -> None:
    await welcomed(flow_engine)
    replies = await walk_signs(flow_engine, ["Yes"])
    assert keys(replies) == ["flow.signs.s2"]
    back = await tap(flow_engine, option(replies, "⬅ Back"))
    assert keys(back) == ["flow.signs.s1"]
    replies = await tap(flow_engine, option(back, "No"))
    replies = await tap(flow_engine, option(replies, "Yes"))  # s2
    # Back on an older message (s2's, now behind us) still goes to the step before it.
    replies = await tap(flow_engine, "fl:signs:s3:b")
    assert keys(replies) == ["flow.signs.s2"]
    replies = await say(flow_engine, "back")
    assert keys(replies) == ["flow.signs.s1"]
    for answer in ["No", "Not sure"] + ["No"] * 10:
        replies = await tap(flow_engine, option(replies, answer))
    assert "You weren't sure about 1 of the 12" in text_of(replies)


# --- for the partner who crossed a line ---------------------------------------------------------------


async def test_crossed_line_walks_through_ownership_listening_transparency_and_time(flow_engine: Engine) -> None:
    await welcomed(flow_engine)
    replies = await tap(flow_engine, "flow:crossed_line")
    replies = await tap(flow_engine, option(replies, "Messages I hid or deleted"))
    replies = await tap(flow_engine, option(replies, "Feeling seen or heard"))
    replies = await tap(flow_engine, option(replies, "Guilty"))
    replies = await tap(flow_engine, option(replies, "Afraid"))
    replies = await tap(flow_engine, option(replies, "Done ✓"))
    assert set(keys(replies)) == {"flow.crossed_line.mirror"}
    assert "guilty and afraid" in text_of(replies) and "being seen and heard" in text_of(replies)
    seen = []
    for _ in range(4):
        replies = await tap(flow_engine, replies[-1].all_buttons()[0].payload)
        seen.append(text_of(replies))
    assert [text.split(" · ")[0] for text in seen] == ["1", "2", "3", "4"]
    assert "Ownership" in seen[0] and "defensive" in seen[1] and "Transparency" in seen[2] and "time" in seen[3]
    replies = await tap(flow_engine, replies[-1].all_buttons()[0].payload)
    assert keys(replies) == ["flow.crossed_line.support"]
    assert {"book", "human", "jr:save"} <= set(payloads_of(replies))
    finish = await tap(flow_engine, "flow:stop")
    assert keys(finish) == ["text.flow_finished"]


# --- through the console --------------------------------------------------------------------------------


async def test_the_self_check_through_the_console(flow_engine: Engine) -> None:
    out = io.StringIO()
    chat = ConsoleChat(flow_engine, out, user_id=2002)
    await chat.say("/start")
    await chat.say("🔍 Check the signs")
    await chat.say("1")  # Let's start
    for number in ["1", "3", "2", "3", "3", "3", "3", "3", "3", "3", "3", "3"]:
        await chat.say(number)
    transcript = out.getvalue()
    assert "12 of 12" in transcript
    assert "You recognised 1 of the 12 patterns" in transcript
    assert "You weren't sure" not in transcript


async def test_a_reflection_through_the_console_with_back_stop_and_typed_text(flow_engine: Engine) -> None:
    out = io.StringIO()
    chat = ConsoleChat(flow_engine, out, user_id=2003)
    await chat.say("/start")
    await chat.say("/reflect")
    await chat.say("Something else")
    await chat.say("she's texting someone late at night")
    await chat.say("Hurt")
    await chat.say("Done ✓")
    await chat.say("⬅ Back")
    await chat.say("Insecure")
    await chat.say("Done ✓")
    await chat.say("4")
    await chat.say("Reassurance")
    transcript = out.getvalue()
    # Their own words are quoted as theirs, never spliced into the bot's sentence.
    assert "What you noticed: “she's texting someone late at night”. How it makes you feel: hurt and insecure." in transcript
    await chat.say("💬 A way to say it")
    assert (
        "I'd like us to talk about it: “she's texting someone late at night”. How it made me feel: hurt and insecure. "
        "What I need: some reassurance."
    ) in out.getvalue()
    await chat.say("Finish")
    assert "Thank you for taking this time for yourself" in out.getvalue()


# --- every step of every flow keeps a way out ---------------------------------------------------------


def test_every_step_has_stop_and_every_later_signs_question_has_back(catalog: Catalog) -> None:
    from bot.engine.texts import Texts

    runner = FlowRunner(catalog, Texts(catalog, emergency="112", retention_days=180))
    assert {"reflection", "signs", "crossed_line"} <= set(runner.flows)
    for flow_id, flow in runner.flows.items():
        for step_id in flow.steps:
            state = FlowState(flow_id=flow_id, step=step_id, history=[flow.start])
            replies = runner._render(flow, state, step_id)
            assert "flow:stop" in payloads_of(replies), (flow_id, step_id)
            if flow_id == "signs" and step_id != "intro":
                assert f"fl:signs:{step_id}:b" in payloads_of(replies), step_id
            for reply in replies:
                assert "{" not in reply.text, (flow_id, step_id, reply.text)


async def test_free_text_answers_survive_a_restart_sealed_with_the_key(tmp_path: Path, catalog: Catalog) -> None:
    from cryptography.fernet import Fernet

    settings = make_settings(tmp_path, data_encryption_key=Fernet.generate_key().decode())
    first = build_engine(settings, catalog)
    await first.start()
    await welcomed(first)
    replies = await tap(first, "flow:reflection")
    await tap(first, option(replies, "Something else"))
    replies = await say(first, "the phone always face down")
    stored = await first.store.load_session(USER)
    assert "face down" not in str(stored)
    await first.close()
    second = build_engine(settings, catalog)
    await second.start()
    try:
        replies = await tap(second, option(replies, "Numb"))
        replies = await tap(second, option(replies, "Done ✓"))
        replies = await tap(second, option(replies, "1"))
        replies = await tap(second, option(replies, "Space"))
        assert "What you noticed: “the phone always face down”." in text_of(replies)
    finally:
        await second.close()


async def test_a_finished_flow_is_let_go_after_a_long_break(flow_engine: Engine) -> None:
    await welcomed(flow_engine)
    replies = await walk_signs(flow_engine, ["No"] * 12)
    assert keys(replies)[-1] == "flow.signs.summary"
    await age_flow(flow_engine, hours=48)
    replies = await say(flow_engine, "what is micro cheating")
    assert "text.flow_continue_offer" not in keys(replies)
    assert (await session_of(flow_engine)).flow is None
