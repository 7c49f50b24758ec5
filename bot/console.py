"""The terminal channel: the same engine as Telegram, as a chat in the terminal.

Buttons print as numbered options (`[1] Label`); typing the number or the label presses
it. The last numbered buttons are kept in a small file next to the database
(`<DATABASE_PATH>.console-buttons.json`, readable by the bot's account only), so the numbers
still work after the chat is restarted. Standard input may be piped, one message per line, so
conversations can be scripted.
Messages queued for the centre's staff are printed too, marked as such: the terminal's staff
channel is the trivial one (`bot.engine.staff_channel.SharedStaffRoom`), one room, nothing kept
per person.

A database that cannot be opened or written ends the chat at once, with one line and exit
code 4 (`bot.exit_codes.STORAGE`); a DATA_ENCRYPTION_KEY that does not fit the database is a
ConfigError (one line, exit code 2, printed by `python -m bot`). Every way out, Ctrl-C
included, closes the database first.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import threading
from pathlib import Path
from typing import TextIO

from bot import exit_codes
from bot.engine.core import Engine
from bot.engine.replies import Button, Incoming, Reply
from bot.engine.staff_channel import SharedStaffRoom
from bot.errors import StorageError

log = logging.getLogger(__name__)

CONSOLE_USER_ID = 1


def buttons_path(database_path: Path) -> Path:
    """Where the terminal chat keeps its last numbered buttons: beside the database, in its folder."""
    return database_path.with_name(database_path.name + ".console-buttons.json")


def load_buttons(path: Path | None, user_id: int) -> list[Button]:
    """The buttons last shown to this console user; none when the file is missing, foreign or unreadable."""
    if path is None:
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(data, dict) or data.get("user_id") != user_id or not isinstance(data.get("buttons"), list):
        return []
    return [
        Button(label=item[0], payload=item[1])
        for item in data["buttons"]
        if isinstance(item, list) and len(item) == 2 and all(isinstance(part, str) for part in item)
    ]


def save_buttons(path: Path | None, user_id: int, buttons: list[Button]) -> None:
    """Keep the numbered buttons for a restart (mode 0600, replaced whole); a failure only costs the numbers."""
    if path is None:
        return
    data = json.dumps({"user_id": user_id, "buttons": [[b.label, b.payload] for b in buttons]}, ensure_ascii=False)
    temporary = path.with_name(path.name + ".tmp")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except OSError as error:
        log.warning("console buttons not kept for a restart: %s", error.strerror or type(error).__name__)


class ConsoleChat:
    """One person chatting with the engine through a text stream.

    buttons_file: where the last numbered buttons are kept, so numbers work after a restart (None: not kept).
    """

    def __init__(
        self,
        engine: Engine,
        out: TextIO,
        user_id: int = CONSOLE_USER_ID,
        first_name: str = "You",
        buttons_file: Path | None = None,
    ) -> None:
        self.engine = engine
        self.out = out
        self.user_id = user_id
        self.first_name = first_name
        self.buttons_file = buttons_file
        self.buttons: list[Button] = load_buttons(buttons_file, user_id)
        # The staff read along here, in one room: there is no per-person place to keep or erase.
        engine.staff_channel = SharedStaffRoom(engine.tell_staff)

    def render(self, replies: list[Reply]) -> None:
        """Print replies; the buttons of this turn become the numbered choices."""
        numbered: list[Button] = []
        for reply in replies:
            self.out.write(f"bot: {reply.text}\n")
            for row in reply.buttons:
                for button in row:
                    if button.url:
                        self.out.write(f"     ({button.label}: {button.url})\n")
                        continue
                    numbered.append(button)
                    self.out.write(f"  [{len(numbered)}] {button.label}\n")
            if reply.request_contact:
                self.out.write("  (type 'share contact' to share your phone number)\n")
        if numbered:
            self.buttons = numbered
            save_buttons(self.buttons_file, self.user_id, numbered)
        self.out.flush()

    def to_incoming(self, line: str) -> Incoming:
        """A typed line: a button number or label presses it; otherwise it is text."""
        text = line.strip()
        # isascii: "²" is a digit to Python but not a number to int().
        if text.isascii() and text.isdigit() and len(text) <= 3 and 1 <= int(text) <= len(self.buttons):
            return Incoming(user_id=self.user_id, kind="button", button=self.buttons[int(text) - 1].payload, first_name=self.first_name)
        for button in self.buttons:
            if text and text.casefold() == button.label.casefold():
                return Incoming(user_id=self.user_id, kind="button", button=button.payload, first_name=self.first_name)
        if text.casefold() == "share contact":
            return Incoming(user_id=self.user_id, kind="contact", contact_phone="+910000000000", first_name=self.first_name)
        return Incoming(user_id=self.user_id, kind="text", text=line.rstrip("\n"), first_name=self.first_name)

    async def say(self, line: str) -> list[Reply]:
        """Send one line as the person and print the bot's replies and any staff messages."""
        replies = await self.engine.handle(self.to_incoming(line))
        self.render(replies)
        await self.drain_outbox()
        return replies

    async def drain_outbox(self) -> None:
        """In the terminal there is no staff group: show what would be sent, and mark it delivered.

        A database fault only postpones this (the person's own answer is already printed).
        """
        try:
            for delivery in await self.engine.due_deliveries(limit=50):
                target = "the centre's staff" if delivery.for_staff else f"chat {delivery.person}"
                self.out.write(f"--- to {target} ---\n{delivery.reply.text}\n---\n")
                await self.engine.delivery_done(delivery.id)
        except StorageError as error:
            log.warning("staff messages not shown now: %s", error)
        self.out.flush()


async def read_line(stdin: TextIO) -> str:
    """One line of input, read on a daemon thread.

    Not the loop's default executor: asyncio waits for its threads at the end, so Ctrl-C
    would hang until someone pressed Enter.
    """
    loop = asyncio.get_running_loop()
    line: asyncio.Future[str] = loop.create_future()

    def settle(value: str | None, error: BaseException | None) -> None:
        if line.done():
            return
        if error is not None:
            line.set_exception(error)
        else:
            line.set_result(value or "")

    def read() -> None:
        value, error = None, None
        try:
            value = stdin.readline()
        except BaseException as raised:  # noqa: BLE001 - handed to the waiting coroutine
            error = raised
        try:
            loop.call_soon_threadsafe(settle, value, error)
        except RuntimeError:  # the chat ended meanwhile and its loop is closed
            pass

    threading.Thread(target=read, name="console-stdin", daemon=True).start()
    return await line


async def start_console(engine: Engine, err: TextIO) -> None:
    """Open the database and do the housekeeping; a database that cannot be used ends the chat in one line."""
    try:
        await engine.start()
    except StorageError as error:
        err.write(f"Storage error: {error}. DATABASE_PATH must be a file the bot can write, in a folder it can write.\n")
        err.flush()
        raise SystemExit(exit_codes.STORAGE) from None
    from bot.engine.maintenance import run_maintenance

    try:
        await run_maintenance(engine)
    except StorageError as error:
        log.warning("housekeeping skipped: %s", error)


async def run_console(engine: Engine, stdin: TextIO | None = None, out: TextIO | None = None, err: TextIO | None = None) -> None:
    """Chat until end of input (Ctrl-D) or `/quit`; the database is closed on every way out."""
    stdin = stdin or sys.stdin
    out = out or sys.stdout
    interactive = stdin.isatty()
    chat = ConsoleChat(engine, out, buttons_file=buttons_path(engine.store.path))
    try:
        await start_console(engine, err or sys.stderr)
        if interactive:
            out.write("(type a message; a number presses a button; /quit to leave)\n")
        while True:
            if interactive:
                out.write("you: ")
                out.flush()
            line = await read_line(stdin)
            if not line:
                break
            if line.strip() in {"/quit", "/exit"}:
                break
            if not interactive:
                out.write(f"you: {line.rstrip()}\n")
            await chat.say(line)
    finally:
        await engine.close()
