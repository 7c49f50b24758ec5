"""Checks over every flow file, for `python -m bot check` and the tests.

The schema is checked by pydantic (`flow_model`); this finds what only the whole flow
shows: a `next` to a step that does not exist, a step nobody can reach, a button that
leads nowhere, a `{placeholder}` no answer fills (the texts the runner asks for are found by
`bot.catalog.text_keys`).
Every problem names the file and line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from bot.catalog.loader import Catalog
from bot.catalog.yaml_lines import LocatedYaml
from bot.engine.flow_model import (
    IDENT,
    JOURNAL_SAVE_GOTO,
    STEP_GOTO_PREFIX,
    ChoiceStep,
    EndStep,
    FlowButton,
    FlowSpec,
    InfoStep,
    MultiStep,
    ScaleStep,
    Step,
    TextStep,
    parse_flow,
    slot_of,
)
from bot.engine.flow_values import condition_problem
from bot.catalog.grammar import PLACEHOLDERS, goto_problem, placeholders_in
from bot.engine.payloads import MAX_PAYLOAD_BYTES

Report = Callable[[tuple[str | int, ...], str], None]


def validate_flows(catalog: Catalog) -> list[str]:
    """Every problem in content/flows/, each as "file:line: what is wrong"."""
    problems: list[str] = []
    known_flows = set(catalog.flows)
    for flow_id, (doc, raw) in sorted(catalog.flows.items()):
        spec, schema_problems = parse_flow(doc, raw)
        problems.extend(schema_problems)
        if spec is not None:
            problems.extend(flow_problems(spec, doc, set(catalog.answers), known_flows))
            if spec.intent is not None and spec.intent not in catalog.examples:
                problems.append(f"{doc.where(('flow', 'intent'))}: flow '{spec.id}' is started by intent '{spec.intent}', which intents/ does not have")
    return problems


def flow_problems(flow: FlowSpec, doc: LocatedYaml, known_intents: set[str], known_flows: set[str]) -> list[str]:
    """The cross-reference problems of one schema-valid flow."""
    problems: list[str] = []

    def report(path: tuple[str | int, ...], message: str) -> None:
        problems.append(f"{doc.where(('flow', *path))}: flow '{flow.id}': {message}")

    if flow.start not in flow.steps:
        report(("start",), f"the start step '{flow.start}' does not exist")
    slots = _slot_owners(flow, report)
    placeholders = PLACEHOLDERS | set(slots) | _count_placeholders(flow)
    for step_id, step in flow.steps.items():
        _check_step(flow, step_id, step, report, known_intents, known_flows, placeholders, set(slots))
    _check_counts(flow, report)
    _check_journal(flow, report, slots, placeholders)
    reachable = reachable_steps(flow)
    for step_id in flow.steps:
        if step_id not in reachable:
            report(("steps", step_id), f"step '{step_id}' cannot be reached from the start")
    if not any(isinstance(flow.steps[step_id], EndStep) for step_id in reachable):
        report(("steps",), "no end step can be reached: the flow never finishes")
    return problems


def step_targets(step: Step) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every step a step can lead to, with the path (within the step) that names it."""
    if isinstance(step, ChoiceStep):
        for index, option in enumerate(step.options):
            target = option.goto or step.next
            if target is not None:
                yield (("options", index, "goto") if option.goto else ("next",)), target
    elif isinstance(step, (MultiStep, ScaleStep, TextStep, InfoStep)):
        yield ("next",), step.next
    for index, button in enumerate(getattr(step, "buttons", [])):
        if button.goto.startswith(STEP_GOTO_PREFIX):
            yield ("buttons", index, "goto"), button.goto[len(STEP_GOTO_PREFIX):]


def reachable_steps(flow: FlowSpec) -> set[str]:
    seen: set[str] = set()
    todo = [flow.start] if flow.start in flow.steps else []
    while todo:
        step_id = todo.pop()
        if step_id in seen:
            continue
        seen.add(step_id)
        todo.extend(target for _, target in step_targets(flow.steps[step_id]) if target in flow.steps)
    return seen


def fl_payload_bytes(flow_id: str, step_id: str, action: str) -> int:
    return len(f"fl:{flow_id}:{step_id}:{action}".encode("utf-8"))


def _slot_owners(flow: FlowSpec, report: Report) -> dict[str, str]:
    owners: dict[str, str] = {}
    for step_id, step in flow.steps.items():
        slot = slot_of(step_id, step)
        if slot is None:
            continue
        if slot in owners:
            report(("steps", step_id), f"steps '{owners[slot]}' and '{step_id}' both keep their answer in '{slot}'")
        owners.setdefault(slot, step_id)
    return owners


def _count_placeholders(flow: FlowSpec) -> set[str]:
    return {f"{name}_{suffix}" for name in flow.counts for suffix in ("count", "list")}


def _check_step(
    flow: FlowSpec, step_id: str, step: Step, report: Report,
    known_intents: set[str], known_flows: set[str], placeholders: set[str], slots: set[str],
) -> None:
    if not re.match(IDENT, step_id):
        report(("steps", step_id), f"step id '{step_id}' must be lower-case letters, digits or _ (at most 20)")
    width = len(str(max(len(getattr(step, "options", [])), len(getattr(step, "buttons", [])), 9)))
    if fl_payload_bytes(flow.id, step_id, "9" * width) > MAX_PAYLOAD_BYTES:
        report(("steps", step_id), f"flow id + step id are too long for a button (max {MAX_PAYLOAD_BYTES} bytes)")
    for path, target in step_targets(step):
        if target not in flow.steps:
            report(("steps", step_id, *path), f"step '{step_id}' leads to '{target}', which does not exist")
    if isinstance(step, ChoiceStep):
        for index, option in enumerate(step.options):
            if option.goto is None and step.next is None:
                report(("steps", step_id, "options", index), f"option '{option.id}' of step '{step_id}' leads nowhere (no goto, no next)")
        if step.other is not None and step.next is None:
            report(("steps", step_id, "other"), f"'something else' in step '{step_id}' needs the step's `next`")
    if isinstance(step, (ChoiceStep, MultiStep)):
        ids = [option.id for option in step.options]
        for duplicate in sorted({option_id for option_id in ids if ids.count(option_id) > 1}):
            report(("steps", step_id, "options"), f"option id '{duplicate}' is used twice in step '{step_id}'")
        if "other" in ids:
            report(("steps", step_id, "options"), f"option id 'other' is reserved for `other:` in step '{step_id}'")
    if isinstance(step, MultiStep) and step.min_choices > len(step.options) + (1 if step.other else 0):
        report(("steps", step_id, "min_choices"), f"step '{step_id}' asks for more choices than it offers")
    for index, button in enumerate(getattr(step, "buttons", [])):
        problem = _button_problem(flow, button, known_intents, known_flows)
        if problem:
            report(("steps", step_id, "buttons", index), f"button '{button.label}': {problem}")
    for path, text in _step_texts(step):
        unknown = placeholders_in(text) - placeholders
        if unknown:
            report(("steps", step_id, *path), f"unknown placeholder(s) {sorted(unknown)} in step '{step_id}'")
    counts = {f"{name}_count" for name in flow.counts}
    for index, variant in enumerate(step.variants):
        for name, spec in variant.when.items():
            where = ("steps", step_id, "variants", index, "when", name)
            if name not in slots and name not in counts:
                report(where, f"condition on '{name}', which no step answers")
            problem = condition_problem(spec)
            if problem:
                report(where, problem)


def _step_texts(step: Step) -> Iterator[tuple[tuple[str | int, ...], str]]:
    for index, text in enumerate(step.text):
        yield ("text", index), text
    for v_index, variant in enumerate(step.variants):
        for index, text in enumerate(variant.text):
            yield ("variants", v_index, "text", index), text
    other = getattr(step, "other", None)
    if other is not None:
        for index, text in enumerate(other.prompt):
            yield ("other", "prompt", index), text


def _button_problem(flow: FlowSpec, button: FlowButton, known_intents: set[str], known_flows: set[str]) -> str | None:
    if button.goto.startswith(STEP_GOTO_PREFIX):
        return None  # checked with the other step targets
    if button.goto == JOURNAL_SAVE_GOTO:
        return None if flow.journal is not None else "'journal:save' needs a `journal:` section in the flow"
    return goto_problem(button.goto, known_intents, known_flows)


def _check_counts(flow: FlowSpec, report: Report) -> None:
    option_ids = {
        option.id for step in flow.steps.values() if isinstance(step, ChoiceStep) for option in step.options
    }
    for name, option_id in flow.counts.items():
        if not re.match(IDENT, name):
            report(("counts", name), f"count name '{name}' must be lower-case letters, digits or _")
        if option_id not in option_ids:
            report(("counts", name), f"count '{name}' counts option '{option_id}', which no choice step offers")


def _check_journal(flow: FlowSpec, report: Report, slots: dict[str, str], placeholders: set[str]) -> None:
    journal = flow.journal
    if journal is None:
        return
    unknown = placeholders_in(journal.text) - placeholders
    if unknown:
        report(("journal", "text"), f"unknown placeholder(s) {sorted(unknown)} in the journal text")
    if journal.feelings is not None:
        owner = slots.get(journal.feelings)
        if owner is None or not isinstance(flow.steps[owner], (ChoiceStep, MultiStep)):
            report(("journal", "feelings"), f"'{journal.feelings}' is not the answer of a choice or multi step")
    if journal.intensity is not None:
        owner = slots.get(journal.intensity)
        if owner is None or not isinstance(flow.steps[owner], ScaleStep):
            report(("journal", "intensity"), f"'{journal.intensity}' is not the answer of a scale step")
