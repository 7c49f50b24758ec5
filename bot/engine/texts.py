"""Turn content text keys into `Reply` objects, filling centre details into placeholders."""

from __future__ import annotations

import string
from collections.abc import Iterable, Sequence

from bot.catalog.loader import Catalog
from bot.catalog.models import ButtonSpec
from bot.engine.replies import Button, Reply

PLACEHOLDERS: frozenset[str] = frozenset(
    {
        "centre_name", "centre_about", "centre_address", "centre_hours", "centre_website",
        "centre_phone", "centre_email", "emergency", "retention_days",
    }
)


class _KeepUnknown(dict[str, str]):
    """format_map helper: an unknown {name} stays visible instead of raising."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def placeholders_in(text: str) -> set[str]:
    """The {names} a text uses (for `check`)."""
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}
    except ValueError:
        return {"<unbalanced braces>"}


class Texts:
    """The catalogue's texts with the centre's details filled in."""

    def __init__(self, catalog: Catalog, emergency: str, retention_days: int) -> None:
        centre = catalog.centre
        self.catalog = catalog
        self.values = _KeepUnknown(
            centre_name=centre.name,
            centre_about=centre.about,
            centre_address=centre.address,
            centre_hours=centre.staff_hours_text,
            centre_website=centre.website,
            centre_phone=centre.phone,
            centre_email=centre.email,
            emergency=emergency,
            retention_days=str(retention_days),
        )

    def fill(self, text: str, **extra: str) -> str:
        """Fill placeholders; content that breaks formatting is shown as written rather than crashing."""
        values = _KeepUnknown({**self.values, **extra})
        try:
            return text.format_map(values)
        except (ValueError, IndexError, AttributeError):
            return text

    def get(self, key: str, **extra: str) -> str:
        return self.fill(self.catalog.text(key), **extra)

    def reply(
        self,
        key: str,
        buttons: Sequence[Sequence[Button]] = (),
        *,
        edit_previous: bool = False,
        request_contact: bool = False,
        **extra: str,
    ) -> Reply:
        """A reply whose text is the content text `key` (the reply's key is `text.<key>`)."""
        return Reply(
            key=f"text.{key}",
            text=self.get(key, **extra),
            buttons=tuple(tuple(row) for row in buttons if row),
            edit_previous=edit_previous,
            request_contact=request_contact,
        )

    def button(self, label_key: str, payload: str) -> Button:
        """A button whose label is a content text."""
        return Button(label=self.get(label_key), payload=payload)

    def menu(self, name: str = "main") -> tuple[tuple[Button, ...], ...]:
        """A content menu as button rows."""
        rows = self.catalog.menus.get(name, ())
        return tuple(tuple(spec_button(spec) for spec in row) for row in rows)


def spec_button(spec: ButtonSpec) -> Button:
    """A content button: its label and its goto target as payload."""
    return Button(label=spec.label, payload=spec.goto)


def one_per_row(buttons: Iterable[Button]) -> tuple[tuple[Button, ...], ...]:
    """Buttons stacked vertically: long labels stay readable on a phone."""
    return tuple((button,) for button in buttons)


def content_rows(specs: Sequence[ButtonSpec]) -> tuple[tuple[Button, ...], ...]:
    return one_per_row(spec_button(spec) for spec in specs)


def merge_rows(*groups: Iterable[Sequence[Button]]) -> tuple[tuple[Button, ...], ...]:
    return tuple(tuple(row) for group in groups for row in group if row)

