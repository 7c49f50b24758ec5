"""SQLite storage through aiosqlite: the only package that contains SQL."""

from bot.storage.store import Store

__all__ = ["Store"]
