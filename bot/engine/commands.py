"""Every slash command, declared once: what it does, and what the menus say.

A person's commands map to a payload the engine follows, as if a button with that payload
had been pressed (`Engine._command`). Staff commands are handled by the staff router
(`bot.features.staff.router`), which has one handler per name here. A channel registers
both menus from these lists: Telegram's `set_my_commands`, the staff one scoped to the
staff group's chat. A command without a description works but stays out of the menu.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Command:
    """name: typed after the slash; target: the payload it follows (a person's command);
    description: its line in the menu (English, at most 40 characters), or "" to keep it out."""

    name: str
    target: str = ""
    description: str = ""


# Short and plain, like the bot's voice; /menu and /help are how people find the rest. Menu order.
PERSON_COMMANDS: Final[tuple[Command, ...]] = (
    Command("start", "menu", "Start here"),
    Command("menu", "menu", "Show the menu"),
    Command("reflect", "flow:reflection", "Reflect on what happened"),
    Command("signs", "flow:signs", "Signs of micro-cheating"),
    Command("book", "book", "Book a session with a therapist"),
    Command("mybooking", "mybooking", "See or change your booking"),
    Command("human", "human", "Talk to a person"),
    Command("journal", "journal", "Your private journal"),
    Command("privacy", "privacy", "What I keep and why"),
    Command("forget", "forget", "Delete what I keep about you"),
    Command("help", "menu", "How I can help"),
    Command("language", "language"),
    # During a chat with the team, /cancel and /end end that chat instead (`HANDOFF_END_COMMANDS`).
    Command("stop", "flow:stop"),
    Command("cancel", "flow:stop"),
    Command("end", "flow:stop"),
)

# Commands that end an open chat with the centre's team (otherwise they stop a flow).
HANDOFF_END_COMMANDS: Final[frozenset[str]] = frozenset({"cancel", "end"})

# In the staff group only; `/close`, `/ban` and `/unban` act on the person the conversation is with.
STAFF_COMMANDS: Final[tuple[Command, ...]] = (
    Command("bookings", description="Open booking requests"),
    Command("stats", description="Counts for the last 7 and 30 days"),
    Command("unanswered", description="Questions the bot could not answer"),
    Command("close", description="End this person's chat"),
    Command("ban", description="Stop relaying this person"),
    Command("unban", description="Relay this person again"),
    Command("help", description="What staff can do here"),
    Command("start"),
)


def command_name(text: str) -> str | None:
    """"/End@AlumauraBot please" -> "end"; None for anything that is not a command."""
    words = text.strip().split()
    if not words or not words[0].startswith("/"):
        return None
    return words[0][1:].split("@")[0].lower()


def menu(commands: tuple[Command, ...]) -> list[tuple[str, str]]:
    """(name, description) of the commands shown in a menu, in order."""
    return [(command.name, command.description) for command in commands if command.description]
