"""Dependencies point one way (docs/architecture.md): channels -> features -> engine -> catalog, nlu, storage."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from bot.config import REPO_ROOT

BOT = REPO_ROOT / "bot"


def imports_of(path: Path) -> set[str]:
    """Every module a file imports, at any depth (lazy imports inside functions included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def offenders(package: str, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{path.relative_to(REPO_ROOT)} imports {module}"
        for path in (BOT / package).rglob("*.py")
        for module in imports_of(path)
        if any(module == f or module.startswith(f + ".") for f in forbidden)
    )


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("catalog", ("bot.engine", "bot.features", "bot.telegram", "bot.storage")),
        ("engine", ("bot.features", "bot.telegram", "bot.app", "telegram")),
        ("nlu", ("bot.engine", "bot.features", "bot.telegram", "bot.storage")),
        ("storage", ("bot.engine", "bot.features", "bot.telegram")),
        ("features", ("bot.telegram", "bot.app", "telegram")),
        ("telegram", ("bot.storage", "bot.app", "bot.features.booking", "bot.features.journal")),
    ],
)
def test_a_package_never_imports_what_depends_on_it(package: str, forbidden: tuple[str, ...]) -> None:
    assert offenders(package, forbidden) == []


def test_only_the_telegram_package_imports_telegram() -> None:
    outside = sorted(
        str(path.relative_to(REPO_ROOT))
        for path in BOT.rglob("*.py")
        if "telegram" not in path.relative_to(BOT).parts[:1]
        and any(module == "telegram" or module.startswith("telegram.") for module in imports_of(path))
    )
    assert outside == []


# The staff side speaks of "the staff", "this person" and "this conversation" (bot/engine/staff_channel.py):
# forum topics, their threads and Telegram's message ids belong to bot/telegram/staff_channel.py.
TRANSPORT_WORDS = re.compile(r"thread|forum|message_id|topic", re.IGNORECASE)
# The centre's practical questions ("fees", "location": content/centre.yaml `topics:`) are topics of another kind.
CENTRE_TOPICS = ("engine/centre_answers.py", "engine/faq.py")


def test_the_engine_and_the_features_never_mention_threads_or_topics() -> None:
    found = sorted(
        f"{path.relative_to(REPO_ROOT)}:{number}: {line.strip()}"
        for package in ("engine", "features")
        for path in (BOT / package).rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        for word in TRANSPORT_WORDS.findall(line)
        if not (word.lower() == "topic" and str(path.relative_to(BOT)) in CENTRE_TOPICS)
    )
    assert found == []
