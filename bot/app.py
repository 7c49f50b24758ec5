"""Wiring: build the catalogue, the matcher, the safety detector, the store and the engine."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

from bot.catalog.check import CheckReport, check_catalog
from bot.catalog.loader import Catalog, load_catalog
from bot.config import Settings
from bot.engine.core import Engine, EngineOptions
from bot.engine.features import FeatureFactory
from bot.engine.key_check import enforce_key
from bot.features.booking.feature import BookingDesk
from bot.features.handoff.feature import HandoffDesk
from bot.features.journal.feature import Journal
from bot.nlu.matcher import DEFAULT_THRESHOLDS, Matcher, MatchThresholds
from bot.nlu.safety import SafetyDetector
from bot.nlu.safety_check import SafetyCheck
from bot.nlu.safety_classifier import shipped_model
from bot.storage.booking_store import BookingStore
from bot.storage.connection import now_utc
from bot.storage.handoff_store import HandoffStore, StaffLinkStore
from bot.storage.inbox_store import InboxStore
from bot.storage.store import Store

if TYPE_CHECKING:
    from bot.telegram.staff import StaffTelegram

log = logging.getLogger(__name__)


def thresholds_from(settings: Settings) -> MatchThresholds:
    """The matcher's thresholds: the measured defaults, each overridable by configuration."""
    return MatchThresholds(
        answer=settings.match_answer_threshold if settings.match_answer_threshold is not None else DEFAULT_THRESHOLDS.answer,
        clarify=settings.match_clarify_threshold if settings.match_clarify_threshold is not None else DEFAULT_THRESHOLDS.clarify,
        margin=settings.match_margin if settings.match_margin is not None else DEFAULT_THRESHOLDS.margin,
    )


def build_matcher(catalog: Catalog, settings: Settings) -> Matcher:
    return Matcher.build(catalog.examples, catalog.vocabulary, thresholds_from(settings))


def build_detector(catalog: Catalog) -> SafetyCheck:
    """The safety check: the catalogue's lexicon fused with the shipped model (models/), built once.
    Without a trained model the lexicon decides alone, and says so in the log."""
    model = shipped_model()
    if model is None:
        log.warning("no trained safety model in models/: the safety check runs on the lexicon alone")
    return SafetyCheck.build(SafetyDetector.from_lexicon(catalog.safety), catalog.safety, model)


def hash_key(settings: Settings) -> bytes:
    """Key for user pseudonyms: derived from the token when there is one, so ids are not guessable."""
    secret = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else "alumaura-console"
    return hashlib.sha256(b"user-hash:" + secret.encode()).digest()


Clock = Callable[[], datetime]


def features(clock: Clock = now_utc) -> tuple[FeatureFactory, ...]:
    """The features beside the engine's own routing, in the order they see a turn.

    The engine's own stages come first and are fixed (see `Engine`): safety, the features'
    gates, onboarding, commands, its own buttons, the active flow's step. Then, in this order:
    journal (buttons only; first in what /forget reports), booking (a note, a typed button
    label, a shared phone number), handoff (the relay to the team; its gate slows a flooding
    person). FAQ matching comes last. `clock`: what booking and handoff read as now (tests fix it).
    """
    return (
        Journal,
        # Order matters: a booking step that just asked for a note or a number comes before the relay.
        lambda engine: BookingDesk(engine, BookingStore(engine.store), HandoffStore(engine.store), clock),
        lambda engine: HandoffDesk(engine, HandoffStore(engine.store), clock),
    )


FEATURES: Final = features()


def build_engine(settings: Settings, catalog: Catalog | None = None, *, clock: Clock | None = None) -> Engine:
    """The engine with everything it needs; call `await engine.start()` before use.

    clock: what booking and handoff read as now (tests fix it; the real clock otherwise).
    """
    catalog = catalog or load_catalog(settings.content_dir)
    options = EngineOptions(
        crisis_country=settings.crisis_country,
        retention_days=settings.retention_days,
        staff_alert_cooldown=timedelta(minutes=settings.staff_alert_cooldown_minutes),
        staff_enabled=settings.staff_chat_id is not None,
        user_hash_key=hash_key(settings),
        data_encryption_key=settings.data_encryption_key.get_secret_value() if settings.data_encryption_key else None,
        staff_chat_id=settings.staff_chat_id,
        admin_user_ids=frozenset(settings.admin_user_ids),
    )
    engine = Engine(
        catalog=catalog,
        store=Store(settings.database_path),
        detector=build_detector(catalog),
        matcher=build_matcher(catalog, settings),
        options=options,
        feature_factories=FEATURES if clock is None else features(clock),
    )
    allow_plaintext = settings.allow_plaintext_journal

    async def check_key(store: Store) -> None:
        # The stored words (journal, flow answers) must be sealed with this very key, checked at open.
        await enforce_key(store, engine.sealer, allow_plaintext)

    engine.store.on_open.append(check_key)
    return engine


def check_content(catalog: Catalog) -> CheckReport:
    """Every content check in one place: cross-references, flows, availability, feature texts.

    Used by `python -m bot check`, `python -m bot doctor` and the tests, so they agree.
    """
    from bot.engine.availability import availability_problems
    from bot.engine.flow_check import validate_flows
    from bot.features.staff.placeholders import HANDOFF_PLACEHOLDERS

    from bot.catalog.translation_check import translation_problems
    from bot.engine.flow_languages import translated_flows
    from bot.engine.flows import load_flows

    report = check_catalog(catalog, extra_placeholders=HANDOFF_PLACEHOLDERS)  # the texts the code uses: found by reading it
    report.errors.extend(availability_problems(catalog))
    report.errors.extend(validate_flows(catalog))
    broken, missing = translation_problems(catalog)
    report.errors.extend(broken)
    report.errors.extend(translated_flows(catalog, load_flows(catalog))[1])
    # At run time a missing key falls back to English; `check` fails on it, so nothing ships untranslated by accident.
    report.errors.extend(missing)
    return report


def telegram_staff(engine: Engine, *, staff_chat_id: int | None) -> StaffTelegram | None:
    """Give the engine its staff channel on Telegram, and return the staff group's side (None without one).

    The channel's links (each person's forum topic, which posted message is about whom) are kept
    through `StaffLinkStore`, injected here so `bot/telegram` never imports storage. The channel is
    given even without a staff group, so /forget still erases links a former staff group left.
    """
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    from bot.telegram.staff import staff_side
    from bot.telegram.staff_channel import TelegramStaffChannel

    conversations = TelegramStaffChannel(StaffLinkStore(engine.store))
    engine.staff_channel = conversations
    return staff_side(engine, conversations, staff_chat_id=staff_chat_id)


def run_telegram(settings: Settings, catalog: Catalog | None = None) -> int:
    """Run the bot on Telegram until SIGTERM/SIGINT or a fatal fault; returns the exit code (`bot.exit_codes`).

    catalog: the content already loaded and checked at start-up (else it is loaded here).
    """
    # Opt in to python-telegram-bot 22's timedelta durations before it is imported; the int form warns on every flood wait.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    from bot.telegram.application import build_application, channel_of, run_application

    engine = build_engine(settings, catalog)
    # Updates are kept in the database until handled, so a killed bot finds its backlog again.
    inbox = InboxStore(engine.store)
    staff = telegram_staff(engine, staff_chat_id=settings.staff_chat_id)
    if staff is None:
        application = build_application(settings, engine, inbox=inbox)
    else:
        application = build_application(settings, engine, staff_handler=staff.on_update, delivery_router=staff, inbox=inbox)
        staff.bind(channel_of(application))
    return run_application(settings, application)
