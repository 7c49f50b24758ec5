"""An engine for the transcript tests with its clock fixed (kept apart so the refactor changes one place)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.app import build_engine
from bot.catalog.loader import Catalog
from bot.config import Settings
from bot.engine.core import Engine


def engine_at(settings: Settings, catalog: Catalog, clock: Callable[[], datetime]) -> Engine:
    """The app's engine, its booking and handoff reading `clock`."""
    return build_engine(settings, catalog, clock=clock)
