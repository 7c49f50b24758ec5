"""Flows in the person's language: a translated flow file is the same flow with other words.

A translation (content/i18n/<language>/flows/<id>.yaml) must keep the English flow's shape:
the same steps, kinds, option ids, `next`, `goto`, `back` and slots. A person's stored place in a
flow is step and option ids, so they can switch language in the middle of a flow and carry on.
A translation whose shape differs is reported by `check` and not used (English is shown instead).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any

from bot.catalog.loader import Catalog
from bot.engine.flow_model import ChoiceStep, FlowSpec, MultiStep, parse_flow
from bot.engine.texts import CURRENT_LANGUAGE

log = logging.getLogger(__name__)


def flow_shape(flow: FlowSpec) -> dict[str, Any]:
    """Everything about a flow except its words: what a translation must keep."""
    steps: dict[str, Any] = {}
    for step_id, step in flow.steps.items():
        shape: dict[str, Any] = {"kind": step.kind, "back": getattr(step, "back", False)}
        for name in ("next", "slot", "skip", "min_choices", "max_chars"):
            if hasattr(step, name):
                shape[name] = getattr(step, name)
        if isinstance(step, (ChoiceStep, MultiStep)):
            shape["options"] = [(option.id, option.goto) for option in step.options]
            shape["other"] = step.other is not None
        shape["buttons"] = [button.goto for button in getattr(step, "buttons", [])]
        shape["variants"] = [variant.when for variant in step.variants]
        steps[step_id] = shape
    journal = flow.journal
    return {
        "start": flow.start,
        "steps": steps,
        "counts": flow.counts,
        "journal": (journal.feelings, journal.intensity) if journal else None,
    }


def shape_problems(english: FlowSpec, translated: FlowSpec) -> list[str]:
    """How a translated flow's shape differs from the English one (empty when it matches)."""
    ours, theirs = flow_shape(english), flow_shape(translated)
    problems = []
    for key in ("start", "counts", "journal"):
        if ours[key] != theirs[key]:
            problems.append(f"'{key}' differs from the English flow")
    for step_id in sorted(set(ours["steps"]) | set(theirs["steps"])):
        if step_id not in theirs["steps"]:
            problems.append(f"step '{step_id}' is missing")
        elif step_id not in ours["steps"]:
            problems.append(f"step '{step_id}' is not in the English flow")
        else:
            for field, value in ours["steps"][step_id].items():
                if theirs["steps"][step_id].get(field) != value:
                    problems.append(f"step '{step_id}': '{field}' differs from the English flow")
    return problems


def translated_flows(catalog: Catalog, english: Mapping[str, FlowSpec]) -> tuple[dict[str, dict[str, FlowSpec]], list[str]]:
    """Per language, the translated flows that can be used; and every problem, with file and line."""
    usable: dict[str, dict[str, FlowSpec]] = {}
    problems: list[str] = []
    for language, translation in catalog.translations.items():
        for flow_id, (doc, raw) in translation.flows.items():
            where = doc.where(("flow",))
            spec, parse_errors = parse_flow(doc, raw)
            if spec is None:
                problems.extend(parse_errors)
                continue
            base = english.get(flow_id)
            if base is None:
                problems.append(f"{where}: flow '{flow_id}' has no English flow to translate")
                continue
            differences = shape_problems(base, spec)
            if differences:
                problems.extend(f"{where}: {language} flow '{flow_id}': {problem}" for problem in differences)
                continue
            usable.setdefault(language, {})[flow_id] = spec
    return usable, problems


class LocalisedFlows(Mapping[str, FlowSpec]):
    """The flows by id, in the current turn's language when a usable translation exists."""

    def __init__(self, english: dict[str, FlowSpec], translated: dict[str, dict[str, FlowSpec]]) -> None:
        self.english = english
        self.translated = translated

    def __getitem__(self, flow_id: str) -> FlowSpec:
        spec = self.translated.get(CURRENT_LANGUAGE.get(), {}).get(flow_id)
        return spec if spec is not None else self.english[flow_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self.english)

    def __len__(self) -> int:
        return len(self.english)


def localised_flows(catalog: Catalog, english: dict[str, FlowSpec]) -> LocalisedFlows:
    """Build the language-aware lookup; unusable translations are logged (and listed by `check`)."""
    usable, problems = translated_flows(catalog, english)
    if problems:
        log.warning("%d flow translation problem(s) left out; run `python -m bot check`", len(problems))
    return LocalisedFlows(english, usable)
