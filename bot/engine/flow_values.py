"""Pure functions from a person's stored answers to the words a flow says back.

Answers live in `FlowState.slots` as JSON:
  choice -> {"id": "<option id>"} or {"id": "other", "text": "<their words>"}
  multi  -> {"ids": [...], "text": "<their words, optional>"}
  scale  -> an int 1..5
  text   -> a string ("" when skipped)
Anything else (an older version's shape, a hand-edited database) reads as unanswered.

The person's own words (given at "something else") are never spliced into a template's
grammar: `quote` marks them as theirs (“…”, from the text `flow_own_words`), and templates put
them where any words read well, after a colon. A text step's answer is their writing and reads
as written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from bot.engine.flow_model import (
    ChoiceStep,
    FlowSpec,
    MultiStep,
    Option,
    ScaleStep,
    Step,
    TextStep,
    slot_of,
)

OTHER_ID: Final = "other"
_NUMBER = re.compile(r"^(\d+)$")
_RANGE = re.compile(r"^(\d+)\s*-\s*(\d+)$")
_AT_LEAST = re.compile(r"^(\d+)\s*\+$")
Quote = Callable[[str], str]


def as_typed(words: str) -> str:
    """The person's words unmarked (a journal's list of feelings, the stored slots)."""
    return words


def option_phrase(option: Option) -> str:
    """How an option reads in a sentence: its `say`, else its label with a lower-case first letter."""
    if option.say:
        return option.say
    label = option.label
    if len(label) > 1 and label[1:2].islower():
        return label[0].lower() + label[1:]
    return label


def join_words(words: Sequence[str], and_word: str) -> str:
    """"a", "a and b", "a, b and c"."""
    words = [word for word in words if word]
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {and_word} {words[-1]}"


def chosen_id(value: Any) -> str | None:
    return value.get("id") if isinstance(value, dict) and isinstance(value.get("id"), str) else None


def chosen_ids(value: Any) -> list[str]:
    if isinstance(value, dict) and isinstance(value.get("ids"), list):
        return [item for item in value["ids"] if isinstance(item, str)]
    return []


def own_words(value: Any) -> str:
    if isinstance(value, dict) and isinstance(value.get("text"), str):
        return value["text"]
    return ""


def scale_value(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def answer_phrases(step: Step, value: Any, quote: Quote = as_typed) -> list[str]:
    """The answer of one step as phrases (several for a multiple choice); own words through `quote`."""
    if isinstance(step, ChoiceStep):
        picked = chosen_id(value)
        if picked == OTHER_ID and step.other is not None:
            return [quote(own_words(value))] if own_words(value) else []
        return [option_phrase(option) for option in step.options if option.id == picked]
    if isinstance(step, MultiStep):
        ids = set(chosen_ids(value))
        phrases = [option_phrase(option) for option in step.options if option.id in ids]
        return phrases + ([quote(own_words(value))] if own_words(value) else [])
    if isinstance(step, ScaleStep):
        number = scale_value(value)
        return [str(number)] if number is not None else []
    if isinstance(step, TextStep):
        return [value] if isinstance(value, str) and value else []
    return []


def count_matches(flow: FlowSpec, slots: Mapping[str, Any], option_id: str) -> list[str]:
    """The choice steps answered with `option_id`, each as its `say` (or its first message)."""
    found = []
    for step_id, step in flow.steps.items():
        if isinstance(step, ChoiceStep) and chosen_id(slots.get(slot_of(step_id, step) or "")) == option_id:
            found.append(step.say or step.text[0])
    return found


def template_values(
    flow: FlowSpec, slots: Mapping[str, Any], and_word: str, quote: Quote = as_typed
) -> dict[str, str]:
    """Every placeholder a flow's texts may use: each slot, and `<count>_count` / `<count>_list`."""
    values: dict[str, str] = {}
    for step_id, step in flow.steps.items():
        slot = slot_of(step_id, step)
        if slot is not None:
            values[slot] = join_words(answer_phrases(step, slots.get(slot), quote), and_word)
    for name, option_id in flow.counts.items():
        matches = count_matches(flow, slots, option_id)
        values[f"{name}_count"] = str(len(matches))
        values[f"{name}_list"] = "\n".join(f"• {match}" for match in matches)
    return values


def condition_value(flow: FlowSpec, slots: Mapping[str, Any], name: str) -> int | str | set[str] | None:
    """What a `when:` key compares against: a number, an option id, or a set of option ids."""
    for step_id, step in flow.steps.items():
        if slot_of(step_id, step) != name:
            continue
        value = slots.get(name)
        if isinstance(step, ScaleStep):
            return scale_value(value)
        if isinstance(step, ChoiceStep):
            return chosen_id(value)
        if isinstance(step, MultiStep):
            return set(chosen_ids(value)) | ({OTHER_ID} if own_words(value) else set())
        return value if isinstance(value, str) else None
    if name.endswith("_count") and name[: -len("_count")] in flow.counts:
        return len(count_matches(flow, slots, flow.counts[name[: -len("_count")]]))
    return None


def condition_problem(spec: str | int) -> str | None:
    """Why a `when:` value is malformed (numbers: "3", "1-3", "4+"; otherwise an option id)."""
    text = str(spec).strip()
    if not text:
        return "an empty condition"
    match = _RANGE.match(text)
    if match and int(match.group(1)) > int(match.group(2)):
        return f"the range '{text}' is backwards"
    return None


def holds(spec: str | int, value: int | str | set[str] | None) -> bool:
    """Whether one `when:` condition holds for a value."""
    text = str(spec).strip()
    number: int | None = value if isinstance(value, int) else None
    if (match := _NUMBER.match(text)) is not None:
        return number is not None and number == int(match.group(1))
    if (match := _RANGE.match(text)) is not None:
        return number is not None and int(match.group(1)) <= number <= int(match.group(2))
    if (match := _AT_LEAST.match(text)) is not None:
        return number is not None and number >= int(match.group(1))
    if isinstance(value, set):
        return text in value
    return value == text


def pick_messages(flow: FlowSpec, step: Step, slots: Mapping[str, Any]) -> list[str]:
    """The step's words: the first variant whose conditions all hold, else its `text`."""
    for variant in step.variants:
        if all(holds(spec, condition_value(flow, slots, name)) for name, spec in variant.when.items()):
            return list(variant.text)
    return list(step.text)
