"""The safety answer: warm words, the right lines for the person's country, a person now.

Runs before anything else in `Engine.handle`; this module only builds the replies and
the staff alert card, the decision is `bot.nlu.safety`'s.
"""

from __future__ import annotations

from bot.catalog.models import CountryLines, CrisisLine, CrisisLines
from bot.engine import payloads
from bot.engine.replies import Button, Reply
from bot.engine.texts import Texts


def country_lines(lines: CrisisLines, country: str | None) -> CountryLines:
    """The lines of `country`, or of the content's default country."""
    code = (country or lines.default_country).upper()
    return lines.countries.get(code) or lines.countries[lines.default_country]


def line_entry(entry: CrisisLine, language: str) -> str:
    """One line to call, described in the person's language when content has it."""
    return f"📞 {entry.number} · {entry.name}: {entry.what_in.get(language, entry.what)}"


def lines_text(texts: Texts, label: str, country: str | None) -> str:
    """The numbers to call, one per line, then the international fallback."""
    lines = texts.catalog.crisis_lines
    local = country_lines(lines, country)
    entries = local.crisis if label == "crisis" else local.unsafe_at_home
    intro = texts.get("safety_lines_intro_crisis" if label == "crisis" else "safety_lines_intro_unsafe")
    body = "\n".join(line_entry(entry, texts.language) for entry in entries)
    international = lines.international_in.get(texts.language, lines.international)
    return f"{intro}\n{body}\n\n" + "\n".join(international)


def short_lines_text(texts: Texts, label: str, country: str | None) -> str:
    """The first line to call only: for a repeat answer, so the full block is not sent word for word again."""
    local = country_lines(texts.catalog.crisis_lines, country)
    entry = (local.crisis if label == "crisis" else local.unsafe_at_home)[0]
    return f"{texts.get('safety_lines_short_intro')}\n{line_entry(entry, texts.language)}"


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


def repeat_safety_replies(texts: Texts, label: str, country: str | None) -> list[Reply]:
    """A safety answer again within a day of the last: brief, the quickest line, the rest one tap away."""
    opening = "safety_again_crisis" if label == "crisis" else "safety_again_unsafe"
    buttons = (
        (texts.button("safety_human_label", "human"),),
        (texts.button("safety_lines_all_label", payloads.build("lines", label)),),
    )
    return [
        texts.reply(opening),
        Reply(key=f"safety.lines_short.{label}", text=short_lines_text(texts, label, country), buttons=buttons),
    ]


def lines_again(texts: Texts, label: str, country: str | None) -> list[Reply]:
    label = label if label in {"crisis", "unsafe_at_home"} else "crisis"
    return [Reply(key=f"safety.lines.{label}", text=lines_text(texts, label, country), buttons=safety_buttons(texts, label))]


def staff_alert(
    texts: Texts,
    *,
    label: str,
    pattern: str,
    first_name: str,
    user_id: int,
    message: str,
    reason: str = "first",
    evidence: str = "",
) -> Reply:
    """The urgent card for the staff group: who, why now, what fired, their words, and a way to open the chat.

    Staff read the message that raised the alert (a duty of care the privacy text states).
    """
    header = texts.get("safety_staff_alert", label=label.replace("_", " "))
    why = texts.get(f"staff_reason_{reason}")
    name = first_name or "(no name)"
    detected = f"{label} · {evidence or 'pattern ' + pattern}"
    text = f"{header}\nWhy now: {why}\nFrom: {name} (id {user_id})\nDetected: {detected}\nMessage: {message[:1500]}"
    return Reply(
        key=f"staff.safety_alert.{label}",
        text=text,
        buttons=(
            (Button(label=f"Open chat with {name}"[:40], payload="", url=f"tg://user?id={user_id}"),),
            (Button(label="Open a handoff", payload=payloads.build("staff", "open", user_id)),),
        ),
    )
