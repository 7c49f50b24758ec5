"""Transcript tests of the dialogue engine: what a person sees, by content key."""

from __future__ import annotations

from pathlib import Path

from bot.app import build_engine
from bot.catalog.loader import Catalog
from bot.engine.core import Engine
from bot.nlu.matcher import Candidate, MatchResult
from tests.conftest import find_button, keys, make_incoming, make_settings, payloads_of, press

CRISIS = "i don't want to be alive anymore"


async def test_start_welcomes_once_asks_consent_and_shows_the_menu(engine: Engine) -> None:
    replies = await engine.handle(make_incoming("/start"))
    assert keys(replies) == ["text.welcome", "text.welcome_what_i_am", "text.consent_question", "text.menu_intro"]
    assert "112" in replies[1].text  # says plainly it is not an emergency service, with the number
    assert {"ask", "flow:reflection", "flow:signs", "book", "human", "privacy"} <= set(payloads_of(replies))
    again = await engine.handle(make_incoming("/start"))
    assert keys(again) == ["text.menu_intro"]


async def test_a_first_hello_is_welcomed_without_a_second_greeting(engine: Engine) -> None:
    replies = await engine.handle(make_incoming("hiii"))
    assert keys(replies)[-1] == "text.menu_intro"
    assert "answer.greeting" not in keys(replies)


async def test_a_first_question_is_welcomed_and_still_answered(engine: Engine) -> None:
    replies = await engine.handle(make_incoming("what does micro cheating mean"))
    assert keys(replies)[0] == "text.welcome"
    assert "answer.what_is_micro_cheating" in keys(replies)


async def test_faq_answer_ends_with_next_steps_and_feedback_which_is_stored(engine: Engine) -> None:
    await engine.handle(make_incoming("/start"))
    replies = await engine.handle(make_incoming("how can i ever trust my husband again"))
    assert keys(replies)[-1] == "text.feedback_question", "the thumbs come with their own question"
    assert set(keys(replies[:-1])) == {"answer.rebuild_trust"}
    assert replies[-2].buttons, "the answer's last message carries the next steps"
    assert "book" in payloads_of(replies[:-1])
    helpful = find_button(replies, "fb:rebuild_trust:y")
    thanks = await engine.handle(press(helpful))
    assert keys(thanks) == ["text.feedback_yes_done"]
    assert (await engine.store.feedback_counts())["rebuild_trust"] == (1, 0)


async def test_tell_me_more_sends_the_deeper_part(engine: Engine) -> None:
    await engine.handle(make_incoming("/start"))
    replies = await engine.handle(press("more:red_flags"))
    assert set(keys(replies)) == {"more.red_flags", "text.feedback_question"}


async def test_clarifying_question_offers_the_closest_intents_as_buttons(settings, catalog: Catalog) -> None:
    engine = build_engine(settings, catalog)

    class Unsure:
        def match(self, text: str) -> MatchResult:
            cands = (Candidate("rebuild_trust", 60.0), Candidate("can_relationship_heal", 58.0))
            return MatchResult("clarify", None, "rebuild_trust", 60.0, cands)

    engine.matcher = Unsure()  # type: ignore[assignment]
    await engine.start()
    try:
        await engine.handle(make_incoming("/start"))
        replies = await engine.handle(make_incoming("we are trying to get back to normal"))
        assert keys(replies) == ["text.clarify"]
        assert payloads_of(replies)[:2] == ["answer:rebuild_trust", "answer:can_relationship_heal"]
        labels = [b.label for b in replies[0].all_buttons()]
        assert labels[0] == catalog.answers["rebuild_trust"].title
        chosen = await engine.handle(press("answer:can_relationship_heal"))
        assert set(keys(chosen)) == {"answer.can_relationship_heal", "text.feedback_question"}
    finally:
        await engine.close()


async def test_third_misunderstanding_offers_a_person_first(engine: Engine) -> None:
    await engine.handle(make_incoming("/start"))
    first = await engine.handle(make_incoming("purple monkey dishwasher"))
    second = await engine.handle(make_incoming("qwertyuiop zxcvb"))
    third = await engine.handle(make_incoming("lorem ipsum dolor"))
    assert keys(first)[0].startswith("text.fallback") and keys(second)[0].startswith("text.fallback")
    assert keys(first)[0] != "text.fallback_repeated"
    assert keys(third) == ["text.fallback_repeated"]
    assert payloads_of(third)[0] == "human"
    # Understanding again resets the count.
    await engine.handle(make_incoming("what is micro cheating"))
    after = await engine.handle(make_incoming("lorem ipsum dolor"))
    assert keys(after)[0] != "text.fallback_repeated"


async def test_out_of_scope_is_never_answered_confidently(engine: Engine) -> None:
    await engine.handle(make_incoming("/start"))
    for text in ("whats the weather in mumbai tomorrow", "can you recommend a pizza place", "cheat code for gta"):
        replies = await engine.handle(make_incoming(text))
        assert not any(key.startswith("answer.") for key in keys(replies)), text


async def test_unknown_command_gets_the_menu(engine: Engine) -> None:
    await engine.handle(make_incoming("/start"))
    replies = await engine.handle(make_incoming("/dance"))
    assert keys(replies) == ["text.unknown_command"]
    assert "human" in payloads_of(replies)


async def test_forged_or_stale_buttons_expire_kindly(engine: Engine) -> None:
    await engine.handle(make_incoming("/start"))
    for forged in ("answer:not_an_intent", "fb:rebuild_trust:maybe", "../../etc", "x" * 200, "", "consent:perhaps"):
        replies = await engine.handle(press(forged))
        assert keys(replies) == ["text.button_expired"], forged
        assert "menu_intro" not in keys(replies)
        assert payloads_of(replies), "the menu comes with it"


async def test_media_edited_and_empty_messages_get_a_kind_note(engine: Engine) -> None:
    await engine.handle(make_incoming("/start"))
    assert keys(await engine.handle(make_incoming(kind="unsupported", media="sticker"))) == ["text.unsupported_media"]
    assert keys(await engine.handle(make_incoming("what is micro cheating", kind="edited"))) == ["text.edited_message"]
    assert keys(await engine.handle(make_incoming("   "))) == ["text.empty_text"]


async def test_a_huge_message_is_answered_and_says_it_was_cut(engine: Engine) -> None:
    await engine.handle(make_incoming("/start"))
    replies = await engine.handle(make_incoming("is texting my coworker every night cheating " * 400))
    assert keys(replies)[0] == "text.too_long"
    assert all(len(reply.text) < 4096 for reply in replies)


async def test_crisis_gets_the_safety_answer_with_lines_and_a_person(engine: Engine) -> None:
    replies = await engine.handle(make_incoming(CRISIS))
    assert "safety.lines.crisis" in keys(replies)
    assert not any(key.startswith(("answer.", "text.clarify", "text.fallback")) for key in keys(replies))
    lines = next(r for r in replies if r.key == "safety.lines.crisis").text
    assert "14416" in lines and "112" in lines and "findahelpline.com" in lines
    assert "human" in payloads_of(replies)
    again = await engine.handle(press(find_button(replies, "lines:")))
    assert keys(again) == ["safety.lines.crisis"]


async def test_safety_also_runs_on_edited_messages(engine: Engine) -> None:
    await engine.handle(make_incoming("/start"))
    replies = await engine.handle(make_incoming("he hits me when he is drunk", kind="edited"))
    assert "safety.lines.unsafe_at_home" in keys(replies)
    assert "181" in next(r for r in replies if r.key == "safety.lines.unsafe_at_home").text


async def test_safety_event_is_stored_without_text_unless_consented(engine: Engine) -> None:
    await engine.handle(make_incoming("/start"))
    await engine.handle(press("consent:no"))
    await engine.handle(make_incoming(CRISIS))
    await engine.handle(press("consent:yes"))
    await engine.handle(make_incoming("i keep thinking about ending my life"))
    events = await engine.store.safety_events(1001)
    assert [e["label"] for e in events] == ["crisis", "crisis"]
    assert events[0]["text"] is None and events[0]["pattern"]
    assert events[1]["text"] == "i keep thinking about ending my life"


async def test_staff_are_alerted_at_most_once_per_hour(tmp_path: Path, catalog: Catalog) -> None:
    engine = build_engine(make_settings(tmp_path, staff_chat_id=-100123), catalog)
    await engine.start()
    try:
        await engine.handle(make_incoming(CRISIS, first_name="Asha"))
        await engine.handle(make_incoming("i want to die"))
        deliveries = await engine.due_deliveries()
        assert len(deliveries) == 1
        card = deliveries[0]
        assert card.for_staff and card.about == 1001 and card.kind == "safety_alert"
        assert "Asha" in card.reply.text and CRISIS in card.reply.text and "crisis" in card.reply.text
        assert any(b.url == "tg://user?id=1001" for b in card.reply.all_buttons())
        other = await engine.handle(make_incoming(CRISIS, user_id=2002))
        assert other and len(await engine.due_deliveries()) == 2
    finally:
        await engine.close()


async def test_hyperbole_goes_to_normal_matching(engine: Engine) -> None:
    await engine.handle(make_incoming("/start"))
    for text in ("this is killing me, he's always on his phone", "i could kill him for liking her pics", "im dying to know who she is"):
        replies = await engine.handle(make_incoming(text))
        assert not any(key.startswith("safety.") for key in keys(replies)), text


async def test_state_survives_a_restart(settings, catalog: Catalog) -> None:
    first = build_engine(settings, catalog)
    await first.start()
    await first.handle(make_incoming("/start"))
    await first.handle(press("consent:yes"))
    await first.close()
    second = build_engine(settings, catalog)
    await second.start()
    try:
        replies = await second.handle(make_incoming("/start"))
        assert keys(replies) == ["text.menu_intro"], "no second welcome after a restart"
        stored = await second.store.load_session(1001)
        assert stored and stored["consent"] is True
    finally:
        await second.close()


async def test_forget_erases_everything_about_the_person(engine: Engine) -> None:
    await engine.handle(make_incoming("/start"))
    await engine.handle(press("consent:yes"))
    await engine.handle(make_incoming(CRISIS))
    await engine.handle(make_incoming("what is micro cheating"))
    confirm = await engine.handle(make_incoming("/forget"))
    assert keys(confirm) == ["text.forget_confirm"]
    done = await engine.handle(press("forget:yes"))
    assert keys(done) == ["text.forget_done"]
    assert "our chat state" in done[0].text
    db = engine.store
    assert await db.load_session(1001) is None
    assert await db.fetchall("SELECT * FROM turns WHERE user_hash = ?", (engine.user_hash(1001),)) == []
    rows = await db.fetchall("SELECT user_id, text FROM safety_events")
    assert rows and all(row["user_id"] is None and row["text"] is None for row in rows)


async def test_forget_can_be_cancelled(engine: Engine) -> None:
    await engine.handle(make_incoming("/start"))
    await engine.handle(make_incoming("/forget"))
    assert keys(await engine.handle(press("forget:no"))) == ["text.forget_cancelled"]
    assert await engine.store.load_session(1001) is not None


async def test_people_do_not_share_state(engine: Engine) -> None:
    await engine.handle(make_incoming("/start", user_id=1))
    replies = await engine.handle(make_incoming("/start", user_id=2))
    assert keys(replies)[0] == "text.welcome"
