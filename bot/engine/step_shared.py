"""What a guided flow (`flows.py`) and a declared form (`forms.py`) share about a step.

Kept in one small module so both runners time a step out, show it again after a question,
and offer "continue or start over" the same way, from the same code.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.engine.replies import Button, Reply, utcnow
from bot.engine.texts import Texts


def older_than(stamp: str, limit: timedelta, now: datetime | None = None) -> bool:
    """Whether an ISO time (UTC when it names no zone) is more than `limit` ago; an unreadable one is not.

    The timeout of every step, in a flow (`STALE_AFTER`) and in a form (its `timeout_minutes`).
    """
    try:
        updated = datetime.fromisoformat(stamp)
    except ValueError:
        return False
    if updated.tzinfo is None:
        updated = updated.replace(tzinfo=timezone.utc)
    return (now or utcnow()) - updated > limit


def shown_again(lead: str, last: Reply, extra: tuple[tuple[Button, ...], ...] = ()) -> Reply:
    """A step's question again after a question answered mid-step: `lead` first, the same buttons (+ `extra`)."""
    return Reply(
        key=last.key, text=f"{lead}\n\n{last.text}", buttons=(*last.buttons, *extra),
        request_contact=last.request_contact, language=last.language,
    )


def continue_or_restart(texts: Texts, key: str, go_on: str, restart: str, stop: str | None = None) -> Reply:
    """Starting again what is half done: carry on where it was, start over (or stop)."""
    rows = [(texts.button("flow_continue_label", go_on),), (texts.button("flow_restart_label", restart),)]
    if stop is not None:
        rows.append((texts.button("flow_stop_label", stop),))
    return texts.reply(key, rows)
