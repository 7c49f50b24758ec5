"""The terminal channel: the same engine as Telegram, as a chat in the terminal.

Buttons print as numbered options (`[1] Label`); typing the number or the label presses
it. Standard input may be piped, one message per line, so conversations can be scripted.
Messages queued for the centre's staff are printed too, marked as such.
"""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from bot.engine.core import Engine
from bot.engine.replies import Button, Incoming, Reply

CONSOLE_USER_ID = 1


class ConsoleChat:
    """One person chatting with the engine through a text stream."""

    def __init__(self, engine: Engine, out: TextIO, user_id: int = CONSOLE_USER_ID, first_name: str = "You") -> None:
        self.engine = engine
        self.out = out
        self.user_id = user_id
        self.first_name = first_name
        self.buttons: list[Button] = []

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
        """In the terminal there is no staff group: show what would be sent, and mark it delivered."""
        for delivery in await self.engine.due_deliveries(limit=50):
            target = "the centre's staff" if delivery.chat_id is None else f"chat {delivery.chat_id}"
            self.out.write(f"--- to {target} ---\n{delivery.reply.text}\n---\n")
            await self.engine.delivery_done(delivery.id)
        self.out.flush()


async def run_console(engine: Engine, stdin: TextIO | None = None, out: TextIO | None = None) -> None:
    """Chat until end of input (Ctrl-D) or `/quit`."""
    stdin = stdin or sys.stdin
    out = out or sys.stdout
    interactive = stdin.isatty()
    chat = ConsoleChat(engine, out)
    await engine.start()
    from bot.engine.maintenance import run_maintenance

    await run_maintenance(engine)
    try:
        if interactive:
            out.write("(type a message; a number presses a button; /quit to leave)\n")
        loop = asyncio.get_running_loop()
        while True:
            if interactive:
                out.write("you: ")
                out.flush()
            line = await loop.run_in_executor(None, stdin.readline)
            if not line:
                break
            if line.strip() in {"/quit", "/exit"}:
                break
            if not interactive:
                out.write(f"you: {line.rstrip()}\n")
            await chat.say(line)
    finally:
        await engine.close()
