"""Cross-reference checks over a loaded catalogue, for `python -m bot check` and the tests.

Schema errors are caught by the loader; this finds what only the whole picture shows:
an intent without an answer, a phrasing in two intents, a button that leads nowhere,
a text the bot needs that nobody wrote.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from bot.catalog.loader import Catalog
from bot.catalog.grammar import PLACEHOLDERS, goto_problem, placeholders_in
from bot.catalog.text_keys import TextKeyUses, text_key_problems

# The intent ids of the catalogue (shared/spec/intent-catalogue.md): a public contract.
CATALOGUE_INTENTS: Final[frozenset[str]] = frozenset(
    {
        "what_is_micro_cheating", "why_it_happens", "is_it_intentional", "red_flags", "missed_signals",
        "suspect_partner", "is_texting_micro_cheating", "social_media_behaviour", "i_crossed_a_line",
        "can_relationship_heal", "rebuild_trust", "how_to_talk_to_partner", "does_therapy_help",
        "share_feelings", "about_the_centre", "privacy", "book_therapist", "talk_to_human", "crisis",
        "unsafe_at_home", "greeting", "thanks", "goodbye", "help", "bot_challenge",
    }
)
SAFETY_INTENTS: Final[frozenset[str]] = frozenset({"crisis", "unsafe_at_home"})
# The examples of messages about something else (intents/out_of_scope.yaml; `bot.nlu.matcher`).
OUT_OF_SCOPE: Final = "out_of_scope"

EXTRA_PLACEHOLDERS: Final[dict[str, frozenset[str]]] = {
    "forget_done": frozenset({"erased"}),
    "safety_staff_alert": frozenset({"label"}),
    "group_only": frozenset({"link"}),
    "flow_own_words": frozenset({"words"}),
}


@dataclass
class CheckReport:
    """Errors make `check` fail; warnings are shown but do not."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _squash(text: str) -> str:
    return re.sub(r"[\W_]+", " ", text.casefold()).strip()


def check_catalog(
    catalog: Catalog,
    extra_placeholders: Mapping[str, frozenset[str]] | None = None,
    uses: TextKeyUses | None = None,
) -> CheckReport:
    """Every cross-reference check; each problem names the file and line it is about.

    The texts the code asks for are found by reading it (`bot.catalog.text_keys`; `uses`: an
    earlier scan), so a key missing from content names the code that uses it.
    """
    report = CheckReport()
    where = catalog.where
    intents = set(catalog.examples)
    for intent in sorted(CATALOGUE_INTENTS - intents):
        report.errors.append(f"intents/: intent '{intent}' from the catalogue is missing")
    # An intent may start a flow instead of having an answer (a flow file's `intent:`).
    started = {raw.get("intent") for _, raw in catalog.flows.values()}
    # out_of_scope's examples are messages about something else: its answer is the honest fallback.
    for intent in sorted(intents - SAFETY_INTENTS - started - {OUT_OF_SCOPE}):
        if intent not in catalog.answers:
            report.errors.append(f"{where[f'intents/{intent}']}: intent '{intent}' has no answer in content/answers/")
    for intent in sorted(set(catalog.vocabulary.emoji_only) - set(catalog.answers)):
        report.errors.append(f"{where.get('vocabulary', 'intents/vocabulary.yaml')}: emoji_only: '{intent}' has no answer")
    for intent in sorted(set(catalog.answers) - intents):
        report.errors.append(f"{where[f'answers/{intent}']}: answer '{intent}' has no intent in intents/")
    seen: dict[str, str] = {}
    for intent, examples in catalog.examples.items():
        for example in examples:
            key = _squash(example)
            if key in seen and seen[key] != intent:
                report.errors.append(
                    f"{where[f'intents/{intent}']}: the phrasing '{example}' is in both '{seen[key]}' and '{intent}'"
                )
            seen.setdefault(key, intent)
    flows = set(catalog.flows)
    answered = set(catalog.answers)
    for intent, answer in catalog.answers.items():
        for index, button in enumerate(answer.buttons):
            problem = goto_problem(button.goto, answered, flows)
            if problem:
                place = catalog.locate(f"answers/{intent}", "buttons", index)
                report.errors.append(f"{place}: button '{button.label}': {problem}")
        for message in [*answer.messages, *answer.more]:
            unknown = placeholders_in(message) - PLACEHOLDERS
            if unknown:
                report.errors.append(f"{where[f'answers/{intent}']}: unknown placeholder(s) {sorted(unknown)}")
        if answer.title is None and intent not in SAFETY_INTENTS:
            report.warnings.append(f"{where[f'answers/{intent}']}: answer '{intent}' has no title (used in 'did you mean' buttons)")
    for name, rows in catalog.menus.items():
        for row_index, row in enumerate(rows):
            for index, button in enumerate(row):
                problem = goto_problem(button.goto, answered, flows)
                if problem:
                    place = catalog.locate(f"menus/{name}", row_index, index)
                    report.errors.append(f"{place}: button '{button.label}': {problem}")
    missing, unused = text_key_problems(catalog, uses)
    report.errors.extend(missing)
    report.warnings.extend(unused)
    for key, text in catalog.texts.items():
        allowed = EXTRA_PLACEHOLDERS.get(key, frozenset()) | (extra_placeholders or {}).get(key, frozenset())
        unknown = placeholders_in(text) - PLACEHOLDERS - allowed
        if unknown:
            report.errors.append(f"{where[f'texts/{key}']}: unknown placeholder(s) {sorted(unknown)}")
    for code, country in catalog.crisis_lines.countries.items():
        for entry in [*country.crisis, *country.unsafe_at_home]:
            if not entry.source.strip():
                report.errors.append(f"{where['crisis_lines']}: {code} line '{entry.name}' has no source")
    labels = {pattern.label for pattern in catalog.safety.patterns}
    for label in sorted(SAFETY_INTENTS - labels):
        report.errors.append(f"intents/safety.yaml: no safety pattern for '{label}': the safety check could never fire for it")
    if catalog.crisis_lines.default_country not in catalog.crisis_lines.countries:
        report.errors.append(f"{where['crisis_lines']}: default_country is not one of the countries listed")
    return report
