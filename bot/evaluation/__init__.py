"""Measuring the matcher and the safety check on JSONL evaluation sets (`python -m bot eval`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SAFETY_LABELS = frozenset({"crisis", "unsafe_at_home", "not_crisis"})


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Rows of `{"text", "intent"}`; a broken line is reported with its number."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}:{number}: not valid JSON: {error}") from error
        if isinstance(row, dict) and "intent" not in row and "label" in row:
            row["intent"] = row["label"]  # the safety corpus's lines (corpus/README.md) measure as they are
        if not isinstance(row, dict) or "text" not in row or "intent" not in row:
            raise ValueError(f"{path}:{number}: each line needs \"text\" and \"intent\" (or \"label\")")
        rows.append(row)
    return rows


def is_safety_set(rows: list[dict[str, Any]]) -> bool:
    """A safety set is labelled only crisis / unsafe_at_home / not_crisis, with some not_crisis."""
    labels = {row["intent"] for row in rows}
    return bool(labels) and labels <= SAFETY_LABELS and "not_crisis" in labels
