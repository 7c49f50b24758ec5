"""The FAQ answers in content/answers/ are complete, chat-sized, safe and wired to real targets.

These checks guard what a person would notice: a question with no answer, a message
too long for a chat, a button that leads nowhere, a `{placeholder}` printed raw or a
crash while formatting, or, worst of all, the bot telling someone their partner is cheating.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import pytest
import yaml

ROOT: Final = Path(__file__).resolve().parents[1]
ANSWERS_DIR: Final = ROOT / "content" / "answers"
CATALOGUE: Final = ROOT.parent / "shared" / "spec" / "intent-catalogue.md"

# The public contract (shared/spec/intent-catalogue.md); the safety layer owns the last two.
CATALOGUE_IDS: Final = frozenset(
    {
        "what_is_micro_cheating", "why_it_happens", "is_it_intentional", "red_flags",
        "missed_signals", "suspect_partner", "is_texting_micro_cheating",
        "social_media_behaviour", "i_crossed_a_line", "can_relationship_heal",
        "rebuild_trust", "how_to_talk_to_partner", "does_therapy_help", "share_feelings",
        "about_the_centre", "privacy", "book_therapist", "talk_to_human", "crisis",
        "unsafe_at_home", "greeting", "thanks", "goodbye", "help", "bot_challenge",
    }
)
SAFETY_IDS: Final = frozenset({"crisis", "unsafe_at_home"})
ANSWER_IDS_REQUIRED: Final = CATALOGUE_IDS - SAFETY_IDS

ALLOWED_GOTOS: Final = frozenset(
    {
        "flow:reflection", "flow:signs", "flow:crossed_line",
        "book", "human", "menu", "privacy", "forget", "journal",
    }
)
ALLOWED_PLACEHOLDERS: Final = frozenset(
    {"centre_name", "centre_about", "centre_address", "centre_hours", "centre_website", "centre_phone"}
)
ANSWER_KEYS: Final = frozenset({"title", "messages", "more", "buttons"})
BUTTON_KEYS: Final = frozenset({"label", "goto"})
MAX_MESSAGE_CHARS: Final = 500
MAX_LABEL_CHARS: Final = 30

# "your partner is cheating", "he's micro-cheating on you", "she is definitely cheating"...
_SUBJECT = r"(?:your\s+(?:partner|boyfriend|girlfriend|husband|wife|bf|gf|spouse)|he|she|they)"
_VERDICT = re.compile(
    rf"\b{_SUBJECT}\s*(?:is|are|'s|'re|’s|’re)\s+(?:definitely\s+|clearly\s+|probably\s+)?"
    r"(?:micro[- ]?)?cheating\b",
    re.IGNORECASE,
)
_NEGATION = re.compile(r"\b(?:not|no|never|doesn't|don't|isn't|can't|cannot)\b|n't\b", re.IGNORECASE)
# Plain text only: Telegram would show Markdown/HTML marks literally.
_MARKUP = re.compile(r"\*\*|__|`|</?[a-z]+>|\]\(|^#+\s|^\s*[-*]\s", re.IGNORECASE | re.MULTILINE)


class _UniqueKeyLoader(yaml.SafeLoader):
    """A SafeLoader that refuses duplicate keys, which plain PyYAML silently overwrites."""


def _construct_unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    """Build a mapping, failing on a repeated key so a pasted answer cannot hide another."""
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping
)


def _answer_files() -> list[Path]:
    """Every YAML file of answers, in a stable order."""
    return sorted(ANSWERS_DIR.glob("*.yaml"))


def _load_all() -> dict[str, dict[str, Any]]:
    """All answers from every file, keyed by intent id; an id in two files is an error."""
    answers: dict[str, dict[str, Any]] = {}
    for path in _answer_files():
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
        assert isinstance(data, dict) and set(data) == {"answers"}, f"{path.name}: top level must be `answers:`"
        for intent_id, answer in data["answers"].items():
            assert intent_id not in answers, f"{path.name}: {intent_id} is already answered in another file"
            answers[intent_id] = answer
    return answers


ANSWERS: Final = _load_all()


def _texts(answer: dict[str, Any]) -> Iterator[str]:
    """Every text of an answer the person may see: messages, then the "tell me more" ones."""
    yield from answer.get("messages", [])
    yield from answer.get("more", []) or []


def _all_texts() -> list[tuple[str, str]]:
    """(intent id, text) for every text of every answer."""
    return [(intent_id, text) for intent_id, answer in ANSWERS.items() for text in _texts(answer)]


def _placeholders(text: str) -> set[str]:
    """The field names a str.format_map would look up in `text`."""
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def says_partner_is_cheating(text: str) -> bool:
    """True when `text` states as a verdict that someone is cheating (not negated just before)."""
    for match in _VERDICT.finditer(text):
        before = text[max(0, match.start() - 25) : match.start()]
        if not _NEGATION.search(before):
            return True
    return False


def test_answers_folder_has_files() -> None:
    assert _answer_files(), f"no answer files in {ANSWERS_DIR}"


def test_every_catalogue_intent_has_an_answer_except_safety() -> None:
    missing = sorted(ANSWER_IDS_REQUIRED - set(ANSWERS))
    assert not missing, f"intents with no answer: {missing}"


def test_safety_intents_are_left_to_the_safety_layer() -> None:
    assert not SAFETY_IDS & set(ANSWERS)


def test_answer_ids_are_catalogue_ids() -> None:
    # A typo in an id leaves a real intent unanswered; a new intent must be added to the catalogue first.
    unknown = sorted(set(ANSWERS) - CATALOGUE_IDS)
    assert not unknown, f"answers for ids not in the catalogue: {unknown}"


def test_catalogue_ids_match_the_shared_catalogue() -> None:
    if not CATALOGUE.exists():
        pytest.skip("shared catalogue not present in this checkout")
    ids = set(re.findall(r"^\|\s*`([a-z_]+)`\s*\|", CATALOGUE.read_text(encoding="utf-8"), re.MULTILINE))
    assert ids == CATALOGUE_IDS


@pytest.mark.parametrize("intent_id", sorted(ANSWERS))
def test_answer_shape(intent_id: str) -> None:
    answer = ANSWERS[intent_id]
    assert set(answer) <= ANSWER_KEYS, f"{intent_id}: unknown keys {set(answer) - ANSWER_KEYS}"
    assert 1 <= len(answer["messages"]) <= 3, f"{intent_id}: 1-3 messages"
    if "more" in answer:
        assert 1 <= len(answer["more"]) <= 3, f"{intent_id}: `more` holds 1-3 messages"
    assert 2 <= len(answer["buttons"]) <= 4, f"{intent_id}: 2-4 buttons"
    for button in answer["buttons"]:
        assert set(button) == BUTTON_KEYS, f"{intent_id}: button keys must be label and goto"
        assert 0 < len(button["label"]) <= MAX_LABEL_CHARS, f"{intent_id}: label {button['label']!r}"


@pytest.mark.parametrize("intent_id", sorted(ANSWERS))
def test_button_labels_are_distinct_within_an_answer(intent_id: str) -> None:
    labels = [button["label"] for button in ANSWERS[intent_id]["buttons"]]
    assert len(labels) == len(set(labels))


@pytest.mark.parametrize(("intent_id", "text"), _all_texts())
def test_messages_are_chat_sized_plain_text(intent_id: str, text: str) -> None:
    assert isinstance(text, str) and text.strip(), f"{intent_id}: empty message"
    assert len(text) <= MAX_MESSAGE_CHARS, f"{intent_id}: {len(text)} chars"
    assert not _MARKUP.search(text), f"{intent_id}: looks like Markdown/HTML: {text!r}"


@pytest.mark.parametrize(("intent_id", "text"), _all_texts())
def test_placeholders_are_only_the_centre_ones_and_format_cleanly(intent_id: str, text: str) -> None:
    unknown = _placeholders(text) - ALLOWED_PLACEHOLDERS
    assert not unknown, f"{intent_id}: unknown placeholders {unknown}"
    # Raises on a stray brace or a format spec the loader could not fill.
    text.format_map({name: "X" for name in ALLOWED_PLACEHOLDERS})


@pytest.mark.parametrize("intent_id", sorted(ANSWERS))
def test_every_goto_leads_somewhere(intent_id: str) -> None:
    for button in ANSWERS[intent_id]["buttons"]:
        goto = button["goto"]
        if goto.startswith("answer:"):
            assert goto.removeprefix("answer:") in ANSWERS, f"{intent_id}: {goto} has no answer"
            assert goto != f"answer:{intent_id}", f"{intent_id}: button points to itself"
        else:
            assert goto in ALLOWED_GOTOS, f"{intent_id}: unknown goto {goto!r}"


@pytest.mark.parametrize("intent_id", sorted(ANSWERS))
def test_every_answer_leaves_a_way_to_a_person(intent_id: str) -> None:
    gotos = {button["goto"] for button in ANSWERS[intent_id]["buttons"]}
    assert gotos & {"book", "human"}, f"{intent_id}: offer `book` or `human`"


@pytest.mark.parametrize(("intent_id", "text"), _all_texts())
def test_no_answer_tells_anyone_their_partner_is_cheating(intent_id: str, text: str) -> None:
    assert not says_partner_is_cheating(text), f"{intent_id}: reads as a verdict: {text!r}"


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ("Your partner is cheating on you.", True),
        ("Honestly, he's micro-cheating.", True),
        ("She is definitely cheating.", True),
        ("That doesn't mean your partner is cheating.", False),
        ("Signs are patterns, not proof.", False),
    ],
)
def test_verdict_check_itself(text: str, verdict: bool) -> None:
    assert says_partner_is_cheating(text) is verdict


@pytest.mark.parametrize(
    ("intent_id", "required"),
    [
        ("red_flags", {"flow:signs"}),
        ("suspect_partner", {"flow:reflection"}),
        ("i_crossed_a_line", {"flow:crossed_line", "book"}),
        ("does_therapy_help", {"book"}),
        ("share_feelings", {"flow:reflection"}),
        ("book_therapist", {"book"}),
        ("talk_to_human", {"human"}),
        ("bot_challenge", {"human"}),
        ("privacy", {"privacy", "forget"}),
    ],
)
def test_answers_offer_their_promised_next_step(intent_id: str, required: set[str]) -> None:
    gotos = {button["goto"] for button in ANSWERS[intent_id]["buttons"]}
    assert required <= gotos, f"{intent_id}: missing {required - gotos}"


def test_centre_facts_come_from_configuration() -> None:
    used = set().union(*(_placeholders(text) for text in _texts(ANSWERS["about_the_centre"])))
    assert "centre_name" in used
    # Where and when are the centre's "location" sub-answer (content/texts_centre.yaml, topics in centre.yaml).
    location = yaml.safe_load((ROOT / "content" / "texts_centre.yaml").read_text(encoding="utf-8"))["texts"]["centre_location"]
    assert {"centre_address", "centre_hours"} <= _placeholders(location)


def test_privacy_tells_how_to_erase() -> None:
    assert any("/forget" in text for text in ANSWERS["privacy"]["messages"])


def test_bot_is_honest_that_it_is_not_a_person_or_therapist() -> None:
    first = ANSWERS["bot_challenge"]["messages"][0].lower()
    assert "automated" in first and "not a person" in first and "not a therapist" in first


def test_conversation_starters_are_offered() -> None:
    more = " ".join(ANSWERS["how_to_talk_to_partner"].get("more", []))
    assert "When I noticed" in more and "I felt" in more and "I need" in more


def test_signs_are_framed_as_patterns_not_proof() -> None:
    text = " ".join(_texts(ANSWERS["red_flags"])).lower()
    assert "how it makes you feel" in text
    assert "proves anything" in text or "not proof" in text
