"""`python -m bot doctor`: check a deployment and say in plain words what is wrong.

Each check prints one line: ✓ fine, ! worth a look, ✗ broken (exit code 1).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Literal, TextIO

from bot.catalog.loader import Catalog, load_catalog
from bot.catalog.models import Centre
from bot.config import Settings, path_problems
from bot.engine.key_check import KeyStatus, inspect_key
from bot.engine.sealing import Sealer
from bot.errors import ConfigError, ContentError
from bot.storage.schema import MIGRATIONS
from bot.storage.outbox_store import SET_ASIDE_KEEP, OutboxStore
from bot.storage.store import Store

Status = Literal["ok", "warn", "fail"]
MARKS = {"ok": "✓", "warn": "!", "fail": "✗"}
# How each finding of the key check reads here; a refused one is a failure (the bot will not start).
KEY_MARKS: dict[KeyStatus, Status | None] = {
    "no_key": None, "matches": "ok", "new": "ok", "changed_empty": "warn",
    "plaintext_allowed": "warn", "mismatch": "fail", "missing": "fail",
}


@dataclass
class Findings:
    """What the doctor found, in order."""

    lines: list[tuple[Status, str]] = field(default_factory=list)

    def add(self, status: Status, message: str) -> None:
        self.lines.append((status, message))

    @property
    def failed(self) -> bool:
        return any(status == "fail" for status, _ in self.lines)


def check_configuration(settings: Settings, findings: Findings) -> None:
    for problem in path_problems(settings):
        findings.add("fail", problem)
    if settings.telegram_bot_token is None:
        findings.add("warn", "TELEGRAM_BOT_TOKEN is not set: the bot runs as a terminal chat only.")
    else:
        findings.add("ok", "A Telegram token is configured.")
    if settings.webhook_url:
        if not settings.webhook_url.startswith("https://"):
            findings.add("fail", "WEBHOOK_URL must be an https:// address: Telegram only calls HTTPS webhooks.")
        if settings.webhook_secret is None:
            findings.add("fail", "WEBHOOK_SECRET is not set: anyone could post fake updates to the webhook.")
    if settings.staff_chat_id is None:
        findings.add("warn", "STAFF_CHAT_ID is not set: safety alerts, bookings and handoffs cannot reach staff.")
    if not settings.rate_limiter:
        findings.add("warn", "RATE_LIMITER is off: only do that for benchmarks, Telegram limits still apply.")
    if settings.data_encryption_key is None:
        findings.add("warn", "DATA_ENCRYPTION_KEY is not set: journal entries are stored unencrypted.")
    else:
        try:
            from cryptography.fernet import Fernet

            Fernet(settings.data_encryption_key.get_secret_value().encode())
            findings.add("ok", "DATA_ENCRYPTION_KEY is a valid Fernet key.")
        except (ValueError, TypeError):
            findings.add("fail", "DATA_ENCRYPTION_KEY is not a valid Fernet key (see .env.example to create one).")


def check_content(settings: Settings, findings: Findings) -> Catalog | None:
    try:
        catalog = load_catalog(settings.content_dir)
    except ContentError as error:
        findings.add("fail", f"The content has {len(error.problems)} problem(s); run `python -m bot check` to see them.")
        return None
    from bot.app import check_content

    report = check_content(catalog)
    if report.errors:
        findings.add("fail", f"The content has {len(report.errors)} problem(s); run `python -m bot check` to see them.")
    else:
        findings.add("ok", f"The content is valid ({len(catalog.examples)} intents, {len(catalog.answers)} answers).")
    placeholders = centre_placeholders(catalog.centre)
    if placeholders:
        findings.add("warn", f"content/centre.yaml still has placeholders for: {', '.join(placeholders)}. Fill in the centre's real details.")
    check_translations(catalog, findings)
    lines = catalog.crisis_lines
    country = (settings.crisis_country or lines.default_country).upper()
    if country not in lines.countries:
        findings.add("fail", f"CRISIS_COUNTRY={country} has no lines in content/crisis_lines.yaml.")
    findings.add(
        "warn",
        f"Confirm the crisis lines for {country} are still current before going live "
        f"(content/crisis_lines.yaml; each has its source). An outdated number in a crisis is a harm.",
    )
    return catalog


def centre_placeholders(centre: Centre) -> list[str]:
    """The centre's details still holding a shipped placeholder: its contact details, then each
    topic's fact (`topics.fees.fact`) and its translations (`topics.fees.fact_in.hi`)."""
    found = [name for name in ("address", "website", "phone", "email", "staff_hours_text") if "placeholder" in getattr(centre, name).lower()]
    for topic_id, topic in centre.topics.items():
        if topic.fact is not None and "placeholder" in topic.fact.lower():
            found.append(f"topics.{topic_id}.fact")
        found.extend(
            f"topics.{topic_id}.fact_in.{language}" for language, fact in topic.fact_in.items() if "placeholder" in fact.lower()
        )
    return found


def check_translations(catalog: Catalog, findings: Findings) -> None:
    """Like the placeholders, translations need the centre's eyes before going live."""
    for language, translation in sorted(catalog.translations.items()):
        if translation.unreviewed:
            findings.add(
                "warn",
                f"{len(translation.unreviewed)} {language} translation file(s) not yet reviewed by the centre "
                f"(set `reviewed: true` once read): {', '.join(translation.unreviewed)}",
            )


async def check_database(settings: Settings, findings: Findings) -> None:
    store = Store(settings.database_path)
    try:
        await store.open()
        version = await store.schema_version()
        await store.execute("INSERT INTO once_keys(key, created_at) VALUES ('doctor', 'now') ON CONFLICT(key) DO NOTHING")
        await store.execute("DELETE FROM once_keys WHERE key = 'doctor'")
        if version == len(MIGRATIONS):
            findings.add("ok", f"The database at {settings.database_path} is writable and at schema version {version}.")
        else:
            findings.add("fail", f"The database is at schema version {version}, expected {len(MIGRATIONS)}.")
        check_file_mode(settings, findings)
        await check_encryption_key(settings, store, findings)
        await check_outbox(store, findings)
    except Exception as error:  # noqa: BLE001 - every failure here is a finding, not a crash
        findings.add("fail", f"The database at {settings.database_path} cannot be opened or written: {error}")
    finally:
        await store.close()


def check_file_mode(settings: Settings, findings: Findings) -> None:
    """The bot creates its database 0600; an older or copied file may still be readable by every account."""
    try:
        mode = settings.database_path.stat().st_mode & 0o777
    except OSError:
        return
    if mode & 0o077:
        findings.add(
            "warn",
            f"The database file can be read by other accounts on this machine (mode {mode:o}): "
            f"chmod 600 {settings.database_path}",
        )


async def check_encryption_key(settings: Settings, store: Store, findings: Findings) -> None:
    """Is DATA_ENCRYPTION_KEY the key the stored words were sealed with? The bot refuses to start if not."""
    key = settings.data_encryption_key.get_secret_value() if settings.data_encryption_key else None
    try:
        sealer = Sealer(key)
    except ConfigError:
        return  # a malformed key is already reported above
    finding = await inspect_key(store, sealer, settings.allow_plaintext_journal)
    status = KEY_MARKS[finding.status]
    if status is not None:
        findings.add(status, finding.message())


async def check_outbox(store: Store, findings: Findings) -> None:
    """Messages the outbox gave up on after failing again and again: nobody has received them."""
    aside = await OutboxStore(store).set_aside_summary()
    if not aside.total or aside.oldest is None:
        return
    kinds = ", ".join(f"{kind} {count}" for kind, count in aside.by_kind)
    findings.add(
        "warn",
        f"{aside.total} outbox message(s) kept failing and were set aside, never delivered ({kinds}; "
        f"the oldest on {aside.oldest:%Y-%m-%d %H:%M} UTC). The bot's log names the error of each "
        f"(\"outbox delivery=... set aside\"); maintenance deletes them after {SET_ASIDE_KEEP.days} days.",
    )


async def check_telegram(settings: Settings, findings: Findings) -> None:
    if settings.telegram_bot_token is None:
        return
    from bot.telegram.diagnostics import diagnose_telegram

    for status, message in await diagnose_telegram(settings):
        findings.add(status, message)


async def run_doctor(settings: Settings, out: TextIO | None = None) -> int:
    """Run every check; 0 when nothing is broken."""
    out = out or sys.stdout
    findings = Findings()
    check_configuration(settings, findings)
    check_content(settings, findings)
    await check_database(settings, findings)
    await check_telegram(settings, findings)
    for status, message in findings.lines:
        out.write(f"{MARKS[status]} {message}\n")
    out.write("Something is broken: see the ✗ lines above.\n" if findings.failed else "Nothing is broken.\n")
    return 1 if findings.failed else 0
