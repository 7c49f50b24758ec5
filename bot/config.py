"""One typed Settings object, built once from the environment or a `.env` file.

Built in `__main__` (never at import) so tests can pass their own. The token is a
SecretStr: it never appears in a repr, a log line or an error message.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

REPO_ROOT: Path = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Everything the bot can be configured with; each field is documented in .env.example."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: SecretStr | None = None
    telegram_base_url: str | None = None
    webhook_url: str | None = None
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443
    webhook_secret: SecretStr | None = None
    rate_limiter: bool = True

    database_path: Path = Path("data/bot.sqlite3")
    content_dir: Path | None = REPO_ROOT  # type: ignore[assignment]
    log_level: str = "INFO"

    staff_chat_id: int | None = None
    admin_user_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)

    match_answer_threshold: float | None = None
    match_clarify_threshold: float | None = None
    match_margin: float | None = None

    crisis_country: str | None = None
    data_encryption_key: SecretStr | None = None
    retention_days: int = 180
    staff_alert_cooldown_minutes: int = 60

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

    @field_validator("staff_chat_id", "match_answer_threshold", "match_clarify_threshold", "match_margin", mode="before")
    @classmethod
    def _blank_chat_is_none(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value
