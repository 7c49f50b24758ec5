"""A language for each person: detected, switchable, remembered, erased; content falls back to English."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.app import check_content
from bot.catalog.loader import Catalog, load_catalog
from bot.config import REPO_ROOT
from bot.engine.core import Engine
from bot.engine.language_choice import update_language
from bot.engine.session import Session
from bot.engine.texts import Texts, speaking
from bot.nlu.language import detect_language, language_hint
from tests.conftest import make_incoming, press

USER = 2002


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my boyfriend keeps liking his ex's pictures", "en"),
        ("mera bf apni ex ki pics like karta hai", "hinglish"),
        ("kya ye cheating h yaar", "hinglish"),
        ("wo raat bhar kisi se chat krta h, mujhe kuch samajh nhi aa rha", "hinglish"),
        ("मेरे पति अपनी एक्स से रोज़ बात करते हैं", "hi"),
        ("वो मुझसे छुपाकर chat करता है", "hi"),
        ("namaste", "hinglish"),  # a greeting in Hindi is the first sign of the person's language
        ("Namaste ji", "hinglish"),
        ("ok", None),
        ("😭😭", None),
        ("main point is he lies to me", "en"),
        ("to me it feels like he is hiding something", "en"),
    ],
)
def test_the_language_of_a_message(text: str, expected: str | None) -> None:
    assert detect_language(text) == expected


def test_telegram_language_code_is_only_a_hint() -> None:
    assert language_hint("hi") == "hi"
    assert language_hint("en-GB") == "en"
    assert language_hint("ta") is None
    session = Session(user_id=1)
    update_language(session, None, "hi")
    assert session.language == "hi"
    update_language(session, "hinglish", "hi")
    update_language(session, "hinglish", "hi")
    assert session.language == "hinglish"  # what they write wins over the hint


def test_one_message_in_another_language_does_not_switch() -> None:
    session = Session(user_id=1, language="hinglish")
    update_language(session, "en", None)
    assert session.language == "hinglish"
    update_language(session, "hinglish", None)
    update_language(session, "en", None)
    assert session.language == "hinglish"  # not two in a row
    update_language(session, "en", None)
    assert session.language == "en"


def test_a_chosen_language_stays() -> None:
    session = Session(user_id=1, language="hi", language_chosen=True)
    for _ in range(3):
        update_language(session, "en", None)
    assert session.language == "hi"


async def test_language_is_detected_from_the_first_message_and_used(engine: Engine) -> None:
    replies = await engine.handle(make_incoming("namaste, mujhe kuch baat karni thi", user_id=USER))
    stored = await engine.store.load_session(USER)
    assert stored is not None and stored["language"] == "hinglish"
    hinglish_welcome = engine.catalog.text("welcome", "hinglish")
    assert replies[0].text == engine.texts.in_language("hinglish").fill(hinglish_welcome)


async def test_language_command_switches_and_is_remembered(engine: Engine) -> None:
    await engine.handle(make_incoming("hello", user_id=USER))
    question = await engine.handle(make_incoming("/language", user_id=USER))
    assert question[0].key == "text.language_question"
    labels = [button.label for button in question[0].all_buttons()]
    assert labels[0] == "English" and "हिंदी" in labels[2]
    chosen = await engine.handle(press("language:hi", user_id=USER))
    assert chosen[0].text.startswith("ठीक है")
    assert any("प्रश्न" in b.label or "सवाल" in b.label or "❓" in b.label for b in chosen[0].all_buttons())
    # English messages afterwards do not switch a chosen language back.
    await engine.handle(make_incoming("my partner hides his phone", user_id=USER))
    await engine.handle(make_incoming("he deletes his chats every night", user_id=USER))
    stored = await engine.store.load_session(USER)
    assert stored is not None and stored["language"] == "hi"


async def test_a_forged_language_button_expires(engine: Engine) -> None:
    await engine.handle(make_incoming("hello", user_id=USER))
    replies = await engine.handle(press("language:klingon", user_id=USER))
    assert replies[0].key == "text.button_expired"


async def test_forget_erases_the_language(engine: Engine) -> None:
    await engine.handle(make_incoming("mujhe samajh nahi aa raha kya karu", user_id=USER))
    await engine.handle(press("forget:yes", user_id=USER))
    assert await engine.store.load_session(USER) is None


def test_a_missing_key_falls_back_to_english_never_to_the_key(catalog: Catalog) -> None:
    texts = Texts(catalog, emergency="112", retention_days=180)
    english_only = next(key for key in catalog.texts if key.startswith("staff_"))
    with speaking("hi"):
        assert texts.get(english_only) == texts.in_language("en").get(english_only)
        assert texts.get("safety_keep_writing") == catalog.translations["hi"].texts["safety_keep_writing"]
    assert catalog.text("no_such_key", "hi") == "no_such_key"  # only a key missing in English too shows as itself


@pytest.fixture
def content_copy(tmp_path: Path) -> Path:
    for folder in ("intents", "content"):
        shutil.copytree(REPO_ROOT / folder, tmp_path / folder)
    return tmp_path


def test_check_lists_a_missing_translation(content_copy: Path) -> None:
    path = content_copy / "content" / "i18n" / "hi" / "texts_safety.yaml"
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("  safety_keep_writing:")]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = check_content(load_catalog(content_copy))
    assert not report.ok
    assert any("'texts/safety_keep_writing' has no hi translation" in line for line in report.errors)


def test_check_refuses_a_translation_that_loses_a_placeholder(content_copy: Path) -> None:
    folder = content_copy / "content" / "i18n" / "hi"
    shutil.rmtree(folder)
    folder.mkdir()
    (folder / "extra.yaml").write_text('reviewed: false\ntexts:\n  forget_done: "मिटा दिया।"\n', encoding="utf-8")
    report = check_content(load_catalog(content_copy))
    assert any("forget_done" in error and "placeholders" in error and "extra.yaml" in error for error in report.errors)


def test_check_refuses_a_flow_translation_with_another_shape(content_copy: Path) -> None:
    english = (content_copy / "content" / "flows" / "signs.yaml").read_text(encoding="utf-8")
    broken = english.replace("back: true", "back: false", 1)
    target = content_copy / "content" / "i18n" / "hi" / "flows"
    target.mkdir(parents=True, exist_ok=True)
    (target / "signs.yaml").write_text("reviewed: false\n" + broken, encoding="utf-8")
    report = check_content(load_catalog(content_copy))
    assert any("signs" in error and "differs from the English flow" in error for error in report.errors)


def test_an_unknown_language_folder_is_named(content_copy: Path) -> None:
    folder = content_copy / "content" / "i18n" / "fr"
    folder.mkdir(parents=True)
    (folder / "texts.yaml").write_text("texts:\n  welcome: Bonjour\n", encoding="utf-8")
    with pytest.raises(Exception, match="unknown language folder 'fr'"):
        load_catalog(content_copy)
