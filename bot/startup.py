"""Start-up checks: whatever would stop the bot is found before it starts, and said in one line.

The settings are validated when they are read (`bot.config.load_settings`); here is what
needs the disk, a library or the content: the paths, the encryption key, the content
itself (a ContentError lists every problem with its file and line) and CRISIS_COUNTRY,
which must be one of the countries of content/crisis_lines.yaml: a crisis answer must
never show another country's lines without anyone having chosen that.
"""

from __future__ import annotations

from typing import Final, TextIO

from bot import exit_codes
from bot.catalog.loader import Catalog, load_catalog
from bot.config import Settings, path_problems
from bot.errors import ConfigError, ContentError

CRISIS_FILE: Final = "content/crisis_lines.yaml"


def crisis_country_problem(catalog: Catalog, country: str | None) -> str | None:
    """A line naming CRISIS_COUNTRY when the content has no crisis lines for it, else None."""
    if country is None:
        return None
    known = sorted(catalog.crisis_lines.countries)
    if country.upper() in known:
        return None
    return f"CRISIS_COUNTRY={country!r} has no crisis lines in {CRISIS_FILE}: use one of {', '.join(known)}, or add it there"


def check_settings(settings: Settings) -> None:
    """ConfigError when DATABASE_PATH or CONTENT_DIR cannot be what they name, or the key is no Fernet key."""
    problems = path_problems(settings)
    if problems:
        raise ConfigError(problems)
    if settings.data_encryption_key is not None:
        from bot.engine.sealing import Sealer

        Sealer(settings.data_encryption_key.get_secret_value())  # raises a ConfigError that never shows the key


def startup_catalog(settings: Settings) -> Catalog:
    """The content, loaded once for the run; ContentError or ConfigError when the bot must not start."""
    catalog = load_catalog(settings.content_dir)
    problem = crisis_country_problem(catalog, settings.crisis_country)
    if problem is not None:
        raise ConfigError(problem)
    return catalog


def report_failure(error: ConfigError | ContentError, out: TextIO) -> int:
    """Say why the bot cannot start, one line per problem (never a traceback); the exit code to end with."""
    prefix = "Content error" if isinstance(error, ContentError) else "Configuration error"
    for problem in error.problems:
        out.write(f"{prefix}: {' '.join(problem.split())}\n")
    return exit_codes.CONFIG
