"""Faults of the database never cost a person their crisis answer (issue 15, storage half).

A full disk, a read-only database, an I/O error on every read: a message about a crisis or
danger at home still gets the full safety answer (the lines and a person one tap away),
anything else a kind "try again", and `Engine.handle` never raises. Reproduced for real
where the machine allows it (a small tmpfs filled up; read-only mounts; SQLite's own
read-only mode) and with a faulting layer on the real connection that always runs.
The terminal chat on an unwritable database says so in one line and exits non-zero at
once; the database is created private; cleared words leave the write-ahead log.
"""

from __future__ import annotations

import errno
import os
import pty
import select
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from aiosqlite.context import contextmanager as aiosqlite_result

import bot.storage.wal as wal_module
from bot import exit_codes
from bot.app import build_engine
from bot.catalog.loader import Catalog
from bot.config import REPO_ROOT
from bot.engine.core import Engine
from bot.errors import StorageError
from bot.storage.inbox_store import InboxStore
from bot.storage.store import Store
from tests.conftest import keys, make_incoming, make_settings, payloads_of, press

CRISIS = "i don't want to be alive anymore"
DANGER = "he hits me when he is drunk"
QUESTION = "is liking photos cheating"
FULL = "database or disk is full"
READ_ONLY = "attempt to write a readonly database"
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def assert_full_safety_answer(replies: list[Any], label: str) -> None:
    """The lines of the person's country and a person one tap away, not "something went wrong"."""
    assert f"safety.lines.{label}" in keys(replies), keys(replies)
    lines = next(r for r in replies if r.key == f"safety.lines.{label}").text
    assert ("14416" if label == "crisis" else "181") in lines
    assert "human" in payloads_of(replies)
    assert "text.internal_error" not in keys(replies)


async def assert_safety_survives(engine: Engine, first_user: int) -> None:
    """Crisis and danger at home get their whole answer; another message a kind "try again"."""
    assert_full_safety_answer(await engine.handle(make_incoming(CRISIS, user_id=first_user)), "crisis")
    assert_full_safety_answer(await engine.handle(make_incoming(DANGER, user_id=first_user + 1)), "unsafe_at_home")
    other = await engine.handle(press("flow:reflection", user_id=first_user + 2))
    assert keys(other) == ["text.internal_error"] and "human" in payloads_of(other)


@contextmanager
def faulty(engine: Engine, monkeypatch: pytest.MonkeyPatch, message: str, *, reads_too: bool = False) -> Iterator[None]:
    """The store's real connection fails as SQLite does with `message`: on writes and commits, or on every statement."""
    db = engine.store.db
    execute, fetchall = db.execute, db.execute_fetchall

    def fails(sql: str) -> bool:
        return reads_too or sql.lstrip().split(None, 1)[0].upper() in WRITES

    @aiosqlite_result
    async def failing_execute(sql: str, parameters: Any = None) -> Any:
        if fails(sql):
            raise sqlite3.OperationalError(message)
        return await execute(sql, parameters)

    @aiosqlite_result
    async def failing_fetchall(sql: str, parameters: Any = None) -> Any:
        if fails(sql):
            raise sqlite3.OperationalError(message)
        return await fetchall(sql, parameters)

    async def failing_commit() -> None:
        raise sqlite3.OperationalError(message)

    with monkeypatch.context() as patch:
        patch.setattr(db, "execute", failing_execute)
        patch.setattr(db, "execute_fetchall", failing_fetchall)
        patch.setattr(db, "commit", failing_commit)
        yield


async def started(path: Path, catalog: Catalog) -> Engine:
    engine = build_engine(make_settings(path.parent, database_path=path), catalog)
    await engine.start()
    return engine


# --- a faulting layer on the real connection (always runs) --------------------------------------


@pytest.mark.parametrize(
    ("message", "reads_too"),
    [(FULL, False), (READ_ONLY, False), ("disk I/O error", True)],
    ids=["disk-full", "read-only", "io-error-on-reads-too"],
)
async def test_crisis_and_danger_answers_survive_every_database_fault(
    tmp_path: Path, catalog: Catalog, monkeypatch: pytest.MonkeyPatch, message: str, reads_too: bool
) -> None:
    engine = await started(tmp_path / "bot.sqlite3", catalog)
    try:
        await engine.handle(make_incoming("/start", user_id=500))
        with faulty(engine, monkeypatch, message, reads_too=reads_too):
            await assert_safety_survives(engine, 501)
            assert_full_safety_answer(await engine.handle(make_incoming(CRISIS, user_id=500)), "crisis")
        # The fault is gone: the same step works again.
        assert "flow.reflection.noticed" in keys(await engine.handle(press("flow:reflection", user_id=500)))
    finally:
        await engine.close()


async def test_sqlites_own_read_only_mode_keeps_the_crisis_answer(tmp_path: Path, catalog: Catalog) -> None:
    """No mock at all: SQLite refuses every write with its real "readonly database" error."""
    engine = await started(tmp_path / "bot.sqlite3", catalog)
    try:
        await engine.store.db.execute("PRAGMA query_only = 1")
        with pytest.raises(StorageError, match="readonly"):
            await engine.store.execute("INSERT INTO once_keys(key, created_at) VALUES ('x', 'y')")
        await assert_safety_survives(engine, 601)
        await engine.store.db.execute("PRAGMA query_only = 0")
        assert "flow.reflection.noticed" in keys(await engine.handle(press("flow:reflection", user_id=603)))
    finally:
        await engine.close()


async def test_every_database_error_leaves_the_store_as_storage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(tmp_path / "bot.sqlite3")
    await store.open()
    try:
        for message in (FULL, READ_ONLY, "disk I/O error", "database disk image is malformed"):
            with monkeypatch.context() as patch:

                async def commit(message: str = message) -> None:
                    raise sqlite3.OperationalError(message)

                patch.setattr(store.db, "commit", commit)
                with pytest.raises(StorageError, match=message):
                    await store.save_session(1, {"step": "x"})
            # A failed commit did not leave its transaction open for the next writer.
            assert not store.db.in_transaction
        await store.save_session(1, {"step": "y"})
        assert await store.load_session(1) == {"step": "y"}
    finally:
        await store.close()


# --- a real full disk: a small tmpfs (root only) ----------------------------------------------------


@contextmanager
def mounted(target: Path, *options: str) -> Iterator[Path]:
    """`mount` or skip with the reason (not root, or no permission in this container)."""
    if not target.exists():
        target.mkdir(parents=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a filesystem needs root")
    result = subprocess.run(["mount", *options, str(target)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.skip(f"mount is not permitted here: {result.stderr.strip()}")
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], capture_output=True, check=False)


def fill(folder: Path) -> None:
    """Write until the filesystem says it is full."""
    with open(folder / "filler", "wb") as filler:
        try:
            while True:
                filler.write(b"\0" * 65536)
                filler.flush()
        except OSError as error:
            assert error.errno == errno.ENOSPC


async def test_a_really_full_disk_keeps_the_crisis_and_danger_answers(tmp_path: Path, catalog: Catalog) -> None:
    with mounted(tmp_path / "small", "-t", "tmpfs", "-o", "size=2m", "tmpfs") as folder:
        engine = await started(folder / "bot.sqlite3", catalog)
        try:
            await engine.handle(make_incoming("/start", user_id=700))
            fill(folder)
            with pytest.raises(StorageError, match="full"):  # the disk really is full for SQLite too
                await engine.store.execute("INSERT INTO once_keys(key, created_at) VALUES (?, '')", ("x" * 200_000,))
            await assert_safety_survives(engine, 701)
            assert_full_safety_answer(await engine.handle(make_incoming(CRISIS, user_id=700)), "crisis")
            (folder / "filler").unlink()
            assert "flow.reflection.noticed" in keys(await engine.handle(press("flow:reflection", user_id=700)))
        finally:
            await engine.close()


# --- the terminal chat on an unwritable database --------------------------------------------------


def chat(database: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`python -m bot chat` as a person would start it; a hang fails the test (TimeoutExpired)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "STAFF_", "DATA_"))}
    env.update({"DATABASE_PATH": str(database), "PYTHONPATH": str(REPO_ROOT), "CONTENT_DIR": str(REPO_ROOT)})
    return subprocess.run(
        [sys.executable, "-m", "bot", "chat"], input=f"{CRISIS}\n", capture_output=True, text=True,
        cwd=cwd, env=env, timeout=90,
    )


def assert_one_clear_line(
    result: subprocess.CompletedProcess[str], database: Path, codes: tuple[int, ...] = (exit_codes.STORAGE,)
) -> None:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode in codes, result.stderr
    assert len(lines) == 1 and str(database) in lines[0], result.stderr
    assert "Traceback" not in result.stderr and "bot:" not in result.stdout


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Make a file or folder read-only for this process: chmod for a normal user; a read-only bind mount for root,
    whom permissions do not stop (skipped with the reason where mounting is not permitted)."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
        try:
            yield
        finally:
            path.chmod(mode)
        return
    with mounted(path, "--bind", str(path)):
        remount = subprocess.run(["mount", "-o", "remount,ro,bind", str(path)], capture_output=True, text=True, check=False)
        if remount.returncode != 0:
            pytest.skip(f"a read-only remount is not permitted here: {remount.stderr.strip()}")
        yield


async def existing_database(folder: Path) -> Path:
    store = Store(folder / "bot.sqlite3")
    await store.open()
    await store.close()
    return store.path


async def test_the_chat_on_a_read_only_database_file_says_so_and_exits(tmp_path: Path) -> None:
    database = await existing_database(tmp_path / "data")
    with read_only(database):
        assert_one_clear_line(chat(database, tmp_path), database)


async def test_the_chat_in_a_read_only_folder_says_so_and_exits(tmp_path: Path) -> None:
    database = await existing_database(tmp_path / "data")
    with read_only(database.parent):
        assert_one_clear_line(chat(database, tmp_path), database)
    empty = tmp_path / "empty"
    empty.mkdir()
    with read_only(empty):
        assert_one_clear_line(chat(empty / "bot.sqlite3", tmp_path), empty / "bot.sqlite3")


def test_the_chat_on_a_folder_instead_of_a_file_says_so_and_exits(tmp_path: Path) -> None:
    folder = tmp_path / "bot.sqlite3"
    folder.mkdir()
    # Found by the start-up path check (a configuration error) or, failing that, by the store.
    assert_one_clear_line(chat(folder, tmp_path), folder, (exit_codes.CONFIG, exit_codes.STORAGE))


async def test_a_store_that_cannot_open_closes_what_it_opened(tmp_path: Path) -> None:
    """The cause of the hang: the connection opened, a later step failed, its thread stayed."""
    store = Store(tmp_path / "bot.sqlite3")
    store.on_open.append(lambda _store: _fail())
    with pytest.raises(StorageError, match="cannot open the database"):
        await store.open()
    assert store._db is None  # noqa: SLF001 - the point of the test
    await store.close()  # and closing again is harmless


async def _fail() -> None:
    raise sqlite3.OperationalError(READ_ONLY)


# --- privacy on disk ------------------------------------------------------------------------------


async def test_the_database_is_created_private(tmp_path: Path) -> None:
    previous = os.umask(0o022)  # the usual umask, under which SQLite would create it 0644
    try:
        store = Store(tmp_path / "new" / "folder" / "bot.sqlite3")
        await store.open()
        try:
            await store.save_session(1, {"x": 1})
            modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in store.path.parent.iterdir()}
        finally:
            await store.close()
    finally:
        os.umask(previous)
    assert modes == {"bot.sqlite3": 0o600, "bot.sqlite3-wal": 0o600, "bot.sqlite3-shm": 0o600}
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700


def wal_bytes(path: Path) -> bytes:
    wal = path.with_name(path.name + "-wal")
    return wal.read_bytes() if wal.exists() else b""


async def test_a_handled_updates_words_leave_the_write_ahead_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wal_module, "SCRUB_EVERY", 0.2)
    store = Store(tmp_path / "bot.sqlite3")
    await store.open()
    inbox = InboxStore(store)
    try:
        for update_id, words in ((1, "the first secret words"), (2, "the second secret words")):
            await inbox.receive(update_id, f'{{"message": {{"text": "{words}"}}}}')
            assert words.encode() in wal_bytes(store.path), "the control: kept until handled"
            await inbox.handled(update_id)  # the second scrub waits out SCRUB_EVERY: the throttled path
        await store.scrubbed()
        on_disk = wal_bytes(store.path) + store.path.read_bytes()
        assert b"secret words" not in on_disk
        assert await inbox.waiting() == []
    finally:
        await store.close()


def test_ctrl_c_in_the_terminal_chat_closes_the_database_and_exits(tmp_path: Path) -> None:
    """Interactive (a terminal), waiting for a line: Ctrl-C ends it at once, the database closed (its WAL removed)."""
    database = tmp_path / "bot.sqlite3"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "STAFF_", "DATA_"))}
    env.update({"DATABASE_PATH": str(database), "PYTHONPATH": str(REPO_ROOT), "CONTENT_DIR": str(REPO_ROOT)})
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "chat"], stdin=follower, stdout=follower, stderr=subprocess.PIPE, cwd=tmp_path, env=env
    )
    os.close(follower)
    try:
        shown = b""
        deadline = time.monotonic() + 90
        while b"you: " not in shown and time.monotonic() < deadline:
            if select.select([leader], [], [], 1.0)[0]:
                shown += os.read(leader, 4096)
        assert b"you: " in shown, shown
        assert database.with_name("bot.sqlite3-wal").exists(), "the control: open while chatting"
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)  # a hang (a thread waiting for a line) fails here
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(leader)
        if process.stderr is not None:
            process.stderr.close()
    assert not database.with_name("bot.sqlite3-wal").exists(), "closed cleanly: SQLite removes the WAL on the last close"
