"""The safety answer: warm words, the right lines for the person's country, a person now.

Runs before anything else in `Engine.handle`; this module only builds the replies and
the staff alert card, the decision is `bot.nlu.safety`'s.
"""

from __future__ import annotations

from bot.catalog.models import CountryLines, CrisisLines
from bot.engine import payloads
from bot.engine.replies import Button, Reply
from bot.engine.texts import Texts


def country_lines(lines: CrisisLines, country: str | None) -> CountryLines:
    """The lines of `country`, or of the content's default country."""
    code = (country or lines.default_country).upper()
    return lines.countries.get(code) or lines.countries[lines.default_country]


def lines_text(texts: Texts, label: str, country: str | None) -> str:
    """The numbers to call, one per line, then the international fallback."""
    lines = texts.catalog.crisis_lines
    local = country_lines(lines, country)
    entries = local.crisis if label == "crisis" else local.unsafe_at_home
    intro = texts.get("safety_lines_intro_crisis" if label == "crisis" else "safety_lines_intro_unsafe")
    body = "\n".join(f"📞 {entry.number} · {entry.name}: {entry.what}" for entry in entries)
    return f"{intro}\n{body}\n\n" + "\n".join(lines.international)


def safety_buttons(texts: Texts, label: str) -> tuple[tuple[Button, ...], ...]:
    return (
        (texts.button("safety_human_label", "human"),),
        (texts.button("safety_lines_label", payloads.build("lines", label)),),
    )


def safety_replies(texts: Texts, label: str, country: str | None) -> list[Reply]:
    """Three short messages: you are heard; the numbers; I'm still here (with a person one tap away)."""
    opening = "safety_crisis" if label == "crisis" else "safety_unsafe"
    replies = [
        texts.reply(opening),
        Reply(key=f"safety.lines.{label}", text=lines_text(texts, label, country)),
    ]
    if label == "unsafe_at_home":
        replies.append(texts.reply("safety_unsafe_privacy"))
    replies.append(texts.reply("safety_keep_writing", safety_buttons(texts, label)))
    return replies


def lines_again(texts: Texts, label: str, country: str | None) -> list[Reply]:
    label = label if label in {"crisis", "unsafe_at_home"} else "crisis"
    return [Reply(key=f"safety.lines.{label}", text=lines_text(texts, label, country), buttons=safety_buttons(texts, label))]


def staff_alert(texts: Texts, *, label: str, pattern: str, first_name: str, user_id: int, message: str) -> Reply:
    """The urgent card for the staff group: who, what fired, their words, and a way to open the chat."""
    header = texts.get("safety_staff_alert", label=label.replace("_", " "))
    name = first_name or "(no name)"
    text = f"{header}\nFrom: {name} (id {user_id})\nDetected: {label} · pattern {pattern}\nMessage: {message[:1500]}"
    return Reply(
        key=f"staff.safety_alert.{label}",
        text=text,
        buttons=(
            (Button(label=f"Open chat with {name}"[:40], payload="", url=f"tg://user?id={user_id}"),),
            (Button(label="Open a handoff", payload=payloads.build("staff", "open", user_id)),),
        ),
    )
