"""The shape of a form file (content/forms/*.yaml), checked when the content is loaded.

A form is a guided flow whose answers fill a record that code works on (the booking's row):
its steps in order, each keeping its answer in one `field` of the record. Everything a person
reads is a text key; steps that need code (free times, a hold, sending) name an action the
feature registers, and `bot.engine.forms.FormRunner` refuses to start when one is missing.

Answers: `buttons` (one of `options`), `pick` (a button an action offers, e.g. a free time),
`contact` (a phone number shared through the channel's own button), `text` (typed, `skip`pable).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot.catalog.yaml_lines import LocatedYaml, load_located_yaml
from bot.errors import ContentError

IDENT: Final = r"^[a-z][a-z0-9_]{0,19}$"
FORMS_FOLDER: Final = "forms"
# Button actions of the form itself; no step may be called like one.
FORM_ACTIONS: Final = frozenset({"resume", "change", "edit", "cancel", "confirm", "back"})
SUMMARY: Final = "summary"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FormChange(_Strict):
    """The step can be changed from the summary ("What would you like to change?")."""

    label: str  # text key of its button there
    name: str | None = Field(default=None, pattern=IDENT)  # the button's value (the step id by default)
    clears: bool = False  # True: the answer is cleared and asked afresh; False: the step is shown again


class FormStep(_Strict):
    answer: Literal["buttons", "pick", "contact", "text"]
    field: str | None = Field(default=None, pattern=IDENT)  # the record's field; the step id by default
    ask: str | None = None  # text key of the question (a `pick` step's action writes its own)
    when: dict[str, str] = Field(default_factory=dict)  # asked only while earlier answers are these
    options: list[str] = Field(default_factory=list)  # buttons: the answers
    label: str | None = None  # buttons: text key of an option's label, with "{option}"
    offered: str | None = None  # buttons: action naming the options offered now
    choices: str | None = None  # pick: action writing the question with its buttons
    more: str | None = Field(default=None, pattern=IDENT)  # pick: the button action for more choices
    pick: str | None = None  # pick: action taking the value picked (None back: taken)
    after: str | None = None  # action run after an answer is kept
    resets: list[str] = Field(default_factory=list)  # fields asked again when this step is answered
    offers: list[str] = Field(default_factory=list)  # answers of another step offered here: "<step>.<option>"
    skip: str | None = None  # text: label key of the Skip button (the answer is "")
    max_chars: int | None = Field(default=None, ge=1, le=3000)
    trimmed: str | None = None  # text: said when a longer answer was cut ({limit})
    typed_number: str | None = None  # contact: said when a number is typed instead of shared
    back: bool = False  # a Back button (and typed "back") to the step before
    line: str | None = None  # text key of its line in the summary and on the staff card ({value}: the answer)
    change: FormChange | None = None

    @model_validator(mode="after")
    def _needs(self) -> FormStep:
        needed = {"buttons": ("ask", "options", "label"), "pick": ("choices", "pick"), "contact": ("ask",), "text": ("ask",)}
        missing = [name for name in needed[self.answer] if not getattr(self, name)]
        if missing:
            raise ValueError(f"a '{self.answer}' step needs {', '.join(missing)}")
        return self


class FormActions(_Strict):
    start: str | None = None  # before a new record: replies instead of starting (None: go on)
    resume: str | None = None  # before a step is shown again after a break: replies instead
    leave: str | None = None  # the person left it for now


class FormTexts(_Strict):
    intro: str
    again: str
    resume_question: str
    resumed: str
    left: str
    continue_or_restart: str
    cancel_label: str
    cancelled: str
    gone: str
    start_label: str


class FormSummary(_Strict):
    text: str
    values: str  # action: the summary text's placeholders
    confirm: str
    change: str
    change_question: str
    submit: str  # action: sends the record on


class FormSpec(_Strict):
    id: str = Field(pattern=IDENT)
    start: str = Field(pattern=IDENT)
    button: str = Field(pattern=IDENT)
    timeout_minutes: int = Field(ge=1)
    keep_hours: int = Field(ge=1)
    actions: FormActions = FormActions()
    texts: FormTexts
    steps: dict[str, FormStep] = Field(min_length=1)
    summary: FormSummary

    def field_of(self, step_id: str) -> str:
        return self.steps[step_id].field or step_id


class FormFile(_Strict):
    form: FormSpec


@dataclass(frozen=True)
class LoadedForm:
    """A valid form and the file it came from (for `file:line` in later problems)."""

    spec: FormSpec
    doc: LocatedYaml

    def where(self, *path: str | int) -> str:
        return self.doc.where(("form", *path))

    def named_actions(self) -> dict[str, str]:
        """Every action the form names -> where it is named."""
        named = {name: self.where("actions", role) for role, name in self.spec.actions if name}
        for step_id, step in self.spec.steps.items():
            for role in ("offered", "choices", "pick", "after"):
                if getattr(step, role):
                    named.setdefault(getattr(step, role), self.where("steps", step_id, role))
        for role in ("values", "submit"):
            named.setdefault(getattr(self.spec.summary, role), self.where("summary", role))
        return named


def form_problems(form: LoadedForm, texts: dict[str, Any] | None) -> list[str]:
    """What only the whole form shows: a `when` on a later answer, a missing text, a clash of names."""
    spec, problems = form.spec, []

    def report(message: str, *path: str | int) -> None:
        problems.append(f"{form.where(*path)}: form '{spec.id}': {message}")

    order = list(spec.steps)
    fields = {spec.field_of(step_id): step_id for step_id in order}
    if len(fields) != len(order):
        report("two steps keep their answer in the same field", "steps")
    names = {step.change.name or step_id for step_id, step in spec.steps.items() if step.change}
    if len(names) != sum(1 for step in spec.steps.values() if step.change):
        report("two steps are changed under the same name", "steps")
    keys = [(key, ("texts", role)) for role, key in spec.texts]
    keys += [(getattr(spec.summary, role), ("summary", role)) for role in ("text", "confirm", "change", "change_question")]
    for index, (step_id, step) in enumerate(spec.steps.items()):
        where = ("steps", step_id)
        if step_id in FORM_ACTIONS or step_id == SUMMARY or step.more in {*FORM_ACTIONS, *order}:
            report(f"step '{step_id}' (or its `more`) is named like one of the form's own buttons", *where)
        for name, value in step.when.items():
            owner = fields.get(name)
            if owner is None or order.index(owner) >= index:
                report(f"`when` asks about '{name}', which no earlier step answers", *where, "when")
            elif spec.steps[owner].options and value not in spec.steps[owner].options:
                report(f"`when` waits for '{value}', which step '{owner}' does not offer", *where, "when")
        for name in step.resets:
            if name not in fields or order.index(fields[name]) <= index:
                report(f"`resets` names '{name}', which no later step answers", *where, "resets")
        for offer in step.offers:
            other, _, option = offer.partition(".")
            if other not in spec.steps or option not in spec.steps[other].options:
                report(f"`offers` names '{offer}', which is no option of a step", *where, "offers")
        for option in step.options:
            if len(f"{spec.button}:{'9' * 12}:{step_id}:{option}".encode()) > 48:
                report(f"step '{step_id}' with option '{option}' is too long for a button", *where, "options")
            keys.append((str(step.label).replace("{option}", option), (*where, "label")))
        for role in ("ask", "skip", "trimmed", "typed_number", "line"):
            if getattr(step, role):
                keys.append((getattr(step, role), (*where, role)))
        if step.change:
            keys.append((step.change.label, (*where, "change")))
    for key, path in keys if texts else []:
        if key not in texts:
            report(f"the text '{key}' is missing", *path)
    return problems


def load_forms(content_dir: Path, texts: dict[str, Any], problems: list[str]) -> dict[str, LoadedForm]:
    """content/forms/*.yaml, each a `form:`; problems (file and line) are added to `problems`."""
    forms: dict[str, LoadedForm] = {}
    root = content_dir / "content" / FORMS_FOLDER
    for path in sorted(root.glob("*.y*ml")) if root.is_dir() else []:
        try:
            doc = load_located_yaml(path)
            spec = FormFile.model_validate(doc.data).form
        except ContentError as error:
            problems.extend(error.problems)
            continue
        except ValidationError as error:
            for item in error.errors():
                dotted = ".".join(str(part) for part in item["loc"]) or "(top)"
                problems.append(f"{doc.where(tuple(item['loc']))}: {dotted}: {item['msg']}")
            continue
        loaded = LoadedForm(spec, doc)
        if spec.id in forms:
            problems.append(f"{loaded.where('id')}: form '{spec.id}' is also defined at {forms[spec.id].where('id')}")
            continue
        problems.extend(form_problems(loaded, texts))
        forms[spec.id] = loaded
    return forms
