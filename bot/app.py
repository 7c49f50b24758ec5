"""Wiring: build the catalogue, the matcher, the safety detector, the store and the engine."""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

from bot.catalog.check import CheckReport, check_catalog
from bot.catalog.loader import Catalog, load_catalog
from bot.config import Settings
from bot.engine.core import Engine, EngineOptions
from bot.engine.journal import install_journal
from bot.engine.staff import install_handoff
from bot.nlu.matcher import DEFAULT_THRESHOLDS, Matcher, MatchThresholds
from bot.nlu.safety import SafetyDetector
from bot.nlu.safety_check import SafetyCheck
from bot.nlu.safety_classifier import shipped_model
from bot.storage.store import Store

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


def build_engine(settings: Settings, catalog: Catalog | None = None) -> Engine:
    """The engine with everything it needs; call `await engine.start()` before use."""
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
    )
    install_journal(engine, allow_plaintext=settings.allow_plaintext_journal)
    install_handoff(engine)
    return engine


def check_content(catalog: Catalog) -> CheckReport:
    """Every content check in one place: cross-references, flows, availability, feature texts.

    Used by `python -m bot check`, `python -m bot doctor` and the tests, so they agree.
    """
    from bot.engine.availability import availability_problems
    from bot.engine.flows import validate_flows
    from bot.engine.staff import HANDOFF_PLACEHOLDERS, HANDOFF_TEXTS

    from bot.catalog.translation_check import translation_problems
    from bot.engine.flow_languages import translated_flows
    from bot.engine.flows import load_flows

    report = check_catalog(catalog, extra_texts=HANDOFF_TEXTS, extra_placeholders=HANDOFF_PLACEHOLDERS)
    report.errors.extend(availability_problems(catalog))
    report.errors.extend(validate_flows(catalog))
    broken, missing = translation_problems(catalog)
    report.errors.extend(broken)
    report.errors.extend(translated_flows(catalog, load_flows(catalog))[1])
    # At run time a missing key falls back to English; `check` fails on it, so nothing ships untranslated by accident.
    report.errors.extend(missing)
    return report
