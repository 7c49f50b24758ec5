"""The project's own exceptions: a small hierarchy so callers can catch by meaning."""

from __future__ import annotations


class BotError(Exception):
    """Base of every error this project raises on purpose."""


class ContentError(BotError):
    """Content (intents/ or content/) is broken; the message names the file and line."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class StorageError(BotError):
    """The database could not be read or written."""


class FlowError(BotError):
    """A flow definition or a flow's state is inconsistent."""


class ConfigError(BotError):
    """Configuration is missing or invalid; each problem is one line naming the setting."""

    def __init__(self, problems: str | list[str]) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))
