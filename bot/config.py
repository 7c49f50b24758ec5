"""One typed Settings object, built once from the environment or a `.env` file.

Built in `__main__` (never at import) so tests can pass their own. The token is a
SecretStr: it never appears in a repr, a log line or an error message.

Configuration is validated when it is read: `load_settings` turns every bad value into
one line naming the setting (`STAFF_CHAT_ID='abc' must be a whole number: ...`), so a
mistyped `.env` ends in a sentence, not a traceback. `path_problems` adds the checks that
look at the disk (kept out of the model so tests and the doctor can build any Settings).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Final, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict, SettingsError

from bot.errors import ConfigError

REPO_ROOT: Path = Path(__file__).resolve().parent.parent
LOG_LEVELS: Final = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
Score = Annotated[float, Field(ge=0, le=100)]
SHOWN_VALUE: Final = 40
WEBHOOK_SECRET_SHAPE: Final = re.compile(r"[A-Za-z0-9_-]{1,256}")

# What each setting must be, said the way an operator reads it (the default is pydantic's own words).
EXPECTED: Final[dict[str, str]] = {
    "telegram_base_url": "an http:// or https:// address, e.g. http://127.0.0.1:8081/bot",
    "webhook_port": "a port number from 1 to 65535",
    "webhook_secret": "1 to 256 characters, each A-Z, a-z, 0-9, _ or - (what Telegram accepts)",
    "rate_limiter": "true or false",
    "allow_plaintext_journal": "true or false",
    "database_path": "the path of the SQLite file, e.g. data/bot.sqlite3",
    "log_level": f"one of {', '.join(LOG_LEVELS)}",
    "staff_chat_id": "a whole number: the staff group's chat id, e.g. -1001234567890",
    "admin_user_ids": "Telegram user ids (whole numbers) separated by commas",
    "match_answer_threshold": "a number from 0 to 100",
    "match_clarify_threshold": "a number from 0 to 100",
    "match_margin": "a number from 0 to 100",
    "retention_days": "a whole number of days, at least 1",
    "staff_alert_cooldown_minutes": "a whole number of minutes, at least 1",
}


class Settings(BaseSettings):
    """Everything the bot can be configured with; each field is documented in .env.example."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: SecretStr | None = None
    telegram_base_url: str | None = None
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"  # behind a reverse proxy that terminates TLS
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    webhook_secret: SecretStr | None = None
    rate_limiter: bool = True

    database_path: Path = Path("data/bot.sqlite3")
    content_dir: Path | None = REPO_ROOT  # type: ignore[assignment]
    log_level: LogLevel = "INFO"

    staff_chat_id: int | None = None
    admin_user_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)

    match_answer_threshold: Score | None = None
    match_clarify_threshold: Score | None = None
    match_margin: Score | None = None

    crisis_country: str | None = None
    data_encryption_key: SecretStr | None = None
    allow_plaintext_journal: bool = False
    retention_days: int = Field(default=180, ge=1)
    staff_alert_cooldown_minutes: int = Field(default=60, ge=1)

    @field_validator("admin_user_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        """Accept "1, 2,3" from the environment as well as a list."""
        if isinstance(value, str):
            return [int(part) for part in value.replace(";", ",").split(",") if part.strip()]
        if isinstance(value, int):
            return [value]
        return value

    @field_validator("telegram_bot_token", "telegram_base_url", "webhook_url", "webhook_secret", "data_encryption_key", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        """An empty `KEY=` line in .env means "not set", not an empty string."""
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("webhook_secret", mode="after")
    @classmethod
    def _telegram_secret(cls, value: SecretStr | None) -> SecretStr | None:
        """Telegram's setWebhook refuses any other secret, and only after start-up: say so now."""
        if value is not None and not WEBHOOK_SECRET_SHAPE.fullmatch(value.get_secret_value()):
            raise ValueError("not a secret Telegram accepts")
        return value

    @field_validator("telegram_base_url", mode="after")
    @classmethod
    def _http_address(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("not an http(s) address")
        return value

    @field_validator("content_dir", "crisis_country", mode="before")
    @classmethod
    def _blank_is_default(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("content_dir", mode="after")
    @classmethod
    def _content_default(cls, value: Path | None) -> Path:
        return value if value is not None else REPO_ROOT

    @field_validator("crisis_country", mode="after")
    @classmethod
    def _country_code(cls, value: str | None) -> str | None:
        """Codes are compared upper-case; whether the content has lines for it is checked at start-up."""
        return value.strip().upper() if value is not None else None

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_name(cls, value: object) -> object:
        if isinstance(value, str):
            return value.strip().upper() or "INFO"
        return value

    @field_validator("staff_chat_id", "match_answer_threshold", "match_clarify_threshold", "match_margin", mode="before")
    @classmethod
    def _blank_chat_is_none(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value


def load_settings(**values: object) -> Settings:
    """Settings from the environment and `.env` (and `values`); ConfigError, one line a problem, when invalid."""
    try:
        return Settings(**values)  # type: ignore[arg-type]
    except ValidationError as error:
        raise ConfigError(validation_problems(error)) from None
    except SettingsError as error:
        raise ConfigError(str(error)) from None


def validation_problems(error: ValidationError) -> list[str]:
    """One line per invalid setting, named as in the environment; a secret's value is never shown."""
    problems: list[str] = []
    for detail in error.errors():
        field = str(detail["loc"][0]) if detail["loc"] else ""
        if not field:
            problems.append(str(detail["msg"]))
            continue
        name = field.upper()
        secret = Settings.model_fields.get(field) is not None and "Secret" in str(Settings.model_fields[field].annotation)
        shown = name if secret else f"{name}={shown_value(detail.get('input'))}"
        line = f"{shown} must be {EXPECTED[field]}" if field in EXPECTED else f"{shown}: {detail['msg']}"
        if line not in problems:
            problems.append(line)
    return problems


def shown_value(value: object) -> str:
    text = repr(value)
    return text if len(text) <= SHOWN_VALUE else text[: SHOWN_VALUE - 3] + "..."


def path_problems(settings: Settings) -> list[str]:
    """What is wrong with the paths on this machine: a database path that is a folder, a missing content folder."""
    problems: list[str] = []
    database = settings.database_path
    if database.is_dir():
        problems.append(f"DATABASE_PATH={str(database)!r} is a folder: it must be {EXPECTED['database_path']}")
    else:
        blocking = next((parent for parent in database.parents if parent.exists() and not parent.is_dir()), None)
        if blocking is not None:
            problems.append(f"DATABASE_PATH={str(database)!r} cannot be created: {str(blocking)!r} is a file, not a folder")
    if settings.content_dir is not None and not settings.content_dir.is_dir():
        problems.append(f"CONTENT_DIR={str(settings.content_dir)!r} is not a folder: it must hold intents/ and content/")
    return problems
