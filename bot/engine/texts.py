"""Turn content text keys into `Reply` objects, filling centre details into placeholders."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

from bot.catalog.loader import Catalog
from bot.catalog.models import ButtonSpec, CountryLines, CrisisLine
from bot.engine.replies import Button, Reply



class _KeepUnknown(dict[str, str]):
    """format_map helper: an unknown {name} stays visible instead of raising."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


# The language of the person whose turn is being handled. The engine sets it at the start of a
# turn, so every feature that says something (answers, flows, booking, handoff) speaks the
# person's language without passing it through every call; each asyncio task (one turn) has
# its own value. Words for the centre's staff use a Texts pinned to English instead.
CURRENT_LANGUAGE: ContextVar[str] = ContextVar("alumaura_language", default="en")


@contextmanager
def speaking(language: str | None) -> Iterator[None]:
    """Within the block, texts that follow the turn speak `language` (English when None)."""
    token = CURRENT_LANGUAGE.set(language or "en")
    try:
        yield
    finally:
        CURRENT_LANGUAGE.reset(token)


class Texts:
    """The catalogue's texts with the centre's details filled in.

    Built without a language, it follows the current turn's language (`speaking`); `in_language`
    gives texts pinned to one language (staff words in English). A key missing in a language
    falls back to English, never to a key name.
    """

    def __init__(
        self,
        catalog: Catalog,
        emergency: str,
        retention_days: int,
        language: str | None = None,
        *,
        helpline: CrisisLine | None = None,
    ) -> None:
        centre = catalog.centre
        self.catalog = catalog
        self._language = language
        self._emergency = emergency
        self._retention_days = retention_days
        # The line that answers at any hour ({helpline}): named where staff may be away.
        self._helpline = helpline or round_the_clock_line(catalog.crisis_lines.countries.get(catalog.crisis_lines.default_country))
        self._languages: dict[str, Texts] = {}
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

    @property
    def language(self) -> str:
        return self._language or CURRENT_LANGUAGE.get()

    def in_language(self, language: str | None) -> Texts:
        """These texts pinned to `language` (built once per language, then reused)."""
        language = language or "en"
        found = self._languages.get(language)
        if found is None:
            found = Texts(self.catalog, self._emergency, self._retention_days, language, helpline=self._helpline)
            found._languages = self._languages
            self._languages[language] = found
        return found

    def fill(self, text: str, **extra: str) -> str:
        """Fill placeholders; content that breaks formatting is shown as written rather than crashing."""
        values = _KeepUnknown({**self.values, "helpline": self.helpline(), **extra})
        try:
            return text.format_map(values)
        except (ValueError, IndexError, AttributeError):
            return text

    def helpline(self) -> str:
        """{helpline}: "Tele-MANAS, 14416 or 1-800-891-4416 (what it is, in this language)"."""
        line = self._helpline
        if line is None:
            return self._emergency
        return f"{line.name}, {line.number} ({line.what_in.get(self.language, line.what)})"

    def get(self, key: str, **extra: str) -> str:
        return self.fill(self.catalog.text(key, self.language), **extra)

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
            language=self.language,
        )

    def button(self, label_key: str, payload: str) -> Button:
        """A button whose label is a content text."""
        return Button(label=self.get(label_key), payload=payload)

    def menu(self, name: str = "main") -> tuple[tuple[Button, ...], ...]:
        """A content menu as button rows."""
        rows = self.catalog.menu(name, self.language)
        return tuple(tuple(spec_button(spec) for spec in row) for row in rows)


def round_the_clock_line(country: CountryLines | None) -> CrisisLine | None:
    """A country's first crisis line that is not its emergency number (Tele-MANAS in India)."""
    if country is None:
        return None
    return next((line for line in country.crisis if line.number.strip() != country.emergency.strip()), None)


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

