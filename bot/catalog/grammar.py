"""What content may refer to: the `goto:` targets of a button, and the {placeholders} of a text.

Checked here, by the catalogue, so the checks need nothing from the engine; the engine's
payload grammar (`bot.engine.payloads`) follows the same targets, and its texts fill the same
placeholders (`bot.engine.texts`).
"""

from __future__ import annotations

import string
from typing import Final

# Targets a content editor may use in `goto:`; `answer:<id>`, `more:<id>` and `flow:<id>` take an argument.
SIMPLE_TARGETS: Final = frozenset(
    {
        "menu", "ask", "book", "mybooking", "human", "human:end", "privacy", "forget", "journal", "lines", "signs",
        "reflect", "language",
    }
)
ARG_TARGETS: Final = frozenset({"answer", "more", "flow"})

# What any text may use: the centre's details and the few values the engine fills in everywhere.
PLACEHOLDERS: frozenset[str] = frozenset(
    {
        "centre_name", "centre_about", "centre_address", "centre_hours", "centre_website",
        "centre_phone", "centre_email", "emergency", "retention_days", "helpline",
    }
)


def goto_problem(goto: str, known_intents: set[str], known_flows: set[str]) -> str | None:
    """Why a content `goto:` leads nowhere, or None when it is valid."""
    if goto in SIMPLE_TARGETS:
        return None
    kind, _, arg = goto.partition(":")
    if kind not in ARG_TARGETS or not arg:
        allowed = ", ".join(sorted(SIMPLE_TARGETS | {f"{k}:<id>" for k in ARG_TARGETS}))
        return f"unknown target '{goto}' (allowed: {allowed})"
    if kind in {"answer", "more"} and arg not in known_intents:
        return f"'{goto}' names an intent that has no answer"
    if kind == "flow" and arg not in known_flows:
        return f"'{goto}' names a flow that does not exist"
    return None


def placeholders_in(text: str) -> set[str]:
    """The {names} a text uses (for `check`)."""
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}
    except ValueError:
        return {"<unbalanced braces>"}
