"""The shape of a flow file (content/flows/*.yaml), as pydantic models.

A flow is data: steps of a few kinds walked by one runner (`bot.engine.flows`), so a
new flow is a new YAML file. What a step says is written in the flow file itself;
`{slot}` placeholders are filled from the person's own earlier answers.

Step kinds:
  choice  one option (optionally "something else" as free text); per-option `goto`
  multi   several options toggled on, then Done
  scale   1 to 5
  text    free text (optionally skippable)
  info    a message with a Next button (and optional extra buttons)
  end     the last message(s), with next-step buttons; the flow is finished here
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal, Union

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from bot.catalog.yaml_lines import LocatedYaml

IDENT: Final = r"^[a-z][a-z0-9_]{0,19}$"
MAX_LABEL_CHARS: Final = 40
MAX_FLOW_MESSAGE_CHARS: Final = 1500
SCALE_MIN: Final = 1
SCALE_MAX: Final = 5
STEP_KINDS: Final = ("choice", "multi", "scale", "text", "info", "end")
QUESTION_KINDS: Final = frozenset({"choice", "multi", "scale", "text"})
STEP_GOTO_PREFIX: Final = "step:"
JOURNAL_SAVE_GOTO: Final = "journal:save"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _as_messages(value: Any) -> Any:
    """`text:` may be one message or a list of messages (one idea per message)."""
    return [value] if isinstance(value, str) else value


def _check_messages(messages: list[str]) -> list[str]:
    for message in messages:
        if not message.strip():
            raise ValueError("a message is empty")
        if len(message) > MAX_FLOW_MESSAGE_CHARS:
            raise ValueError(f"a message has {len(message)} characters; keep it under {MAX_FLOW_MESSAGE_CHARS}")
    return messages


Messages = Annotated[list[str], BeforeValidator(_as_messages), Field(min_length=1), AfterValidator(_check_messages)]


class Option(_Strict):
    """A choice: `say` is how the answer reads inside a sentence ("When I noticed {noticed}…")."""

    id: str = Field(pattern=IDENT)
    label: str = Field(min_length=1, max_length=MAX_LABEL_CHARS)
    say: str | None = Field(default=None, min_length=1, max_length=200)
    goto: str | None = None


class Other(_Strict):
    """The "something else" button: asks for the person's own words with `prompt`."""

    label: str = Field(min_length=1, max_length=MAX_LABEL_CHARS)
    prompt: Messages


class FlowButton(_Strict):
    """A next-step button: `step:<id>` (in this flow), `journal:save`, or any content goto."""

    label: str = Field(min_length=1, max_length=MAX_LABEL_CHARS)
    goto: str = Field(min_length=1, max_length=48)


class Variant(_Strict):
    """Alternative words used when every condition holds, e.g. `when: {intensity: "4+"}`."""

    when: dict[str, str | int] = Field(min_length=1)
    text: Messages


class _Step(_Strict):
    text: Messages
    variants: list[Variant] = Field(default_factory=list)


class _Question(_Step):
    slot: str | None = Field(default=None, pattern=IDENT)
    back: bool = False
    # How this step reads in a summary list (e.g. a sign in the self-check).
    say: str | None = Field(default=None, min_length=1, max_length=200)


class ChoiceStep(_Question):
    kind: Literal["choice"]
    options: list[Option] = Field(min_length=2, max_length=10)
    other: Other | None = None
    next: str | None = None


class MultiStep(_Question):
    kind: Literal["multi"]
    options: list[Option] = Field(min_length=2, max_length=12)
    other: Other | None = None
    next: str
    min_choices: int = Field(default=1, ge=0)


class ScaleStep(_Question):
    kind: Literal["scale"]
    next: str


class TextStep(_Question):
    kind: Literal["text"]
    next: str
    skip: bool = False
    max_chars: int = Field(default=600, ge=10, le=3000)


class InfoStep(_Step):
    kind: Literal["info"]
    next: str
    next_label: str | None = Field(default=None, min_length=1, max_length=MAX_LABEL_CHARS)
    back: bool = False
    buttons: list[FlowButton] = Field(default_factory=list, max_length=6)


class EndStep(_Step):
    kind: Literal["end"]
    back: bool = False
    buttons: list[FlowButton] = Field(default_factory=list, max_length=8)


Step = Annotated[
    Union[ChoiceStep, MultiStep, ScaleStep, TextStep, InfoStep, EndStep], Field(discriminator="kind")
]
QuestionStep = ChoiceStep | MultiStep | ScaleStep | TextStep


class JournalSpec(_Strict):
    """What "save to my journal" keeps: a text template, and which slots are the feelings and intensity."""

    text: str = Field(min_length=1, max_length=MAX_FLOW_MESSAGE_CHARS)
    feelings: str | None = Field(default=None, pattern=IDENT)
    intensity: str | None = Field(default=None, pattern=IDENT)


class FlowSpec(_Strict):
    """One flow file's `flow:` section.

    counts: name -> option id; the placeholders `{<name>_count}` and `{<name>_list}` count
    (and list, by each step's `say`) the choice steps answered with that option.
    intent: an intent (in intents/) that starts this flow at once, in place of an answer
      ("I want to write in my journal" -> journal_entry); read from the English flow.
    busy: what is said instead when that intent comes while another flow is running (that flow
      carries on, shown again); the translations word it in their language.
    """

    id: str = Field(pattern=IDENT)
    title: str = Field(min_length=1, max_length=60)
    start: str
    steps: dict[str, Step] = Field(min_length=1)
    counts: dict[str, str] = Field(default_factory=dict)
    journal: JournalSpec | None = None
    intent: str | None = Field(default=None, pattern=IDENT)
    busy: str | None = Field(default=None, min_length=1, max_length=MAX_FLOW_MESSAGE_CHARS)


def slot_of(step_id: str, step: Step) -> str | None:
    """Where a question step keeps its answer: its `slot`, else its own id; None for info/end."""
    if isinstance(step, (ChoiceStep, MultiStep, ScaleStep, TextStep)):
        return step.slot or step_id
    return None


def _location(loc: tuple[Any, ...]) -> tuple[str | int, ...]:
    """Drop the discriminator tag pydantic inserts after `steps.<id>` so lines resolve exactly."""
    parts = [part for part in loc]
    if len(parts) >= 3 and parts[0] == "steps" and parts[2] in STEP_KINDS:
        del parts[2]
    return tuple(str(part) if not isinstance(part, int) else part for part in parts)


def parse_flow(doc: LocatedYaml, raw: dict[str, Any]) -> tuple[FlowSpec | None, list[str]]:
    """Validate one flow's raw mapping; problems name `file:line`."""
    try:
        return FlowSpec.model_validate(raw), []
    except ValidationError as error:
        problems = []
        for item in error.errors():
            where = _location(tuple(item["loc"]))
            dotted = ".".join(str(part) for part in where) or "(top)"
            problems.append(f"{doc.where(('flow', *where))}: flow.{dotted}: {item['msg']}")
        return None, problems
