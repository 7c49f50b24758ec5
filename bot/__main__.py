"""Command line: run the bot, chat in the terminal, and the content editors' tools.

    python -m bot            Telegram when TELEGRAM_BOT_TOKEN is set, else the terminal chat
    python -m bot chat       the terminal chat, whatever the token
    python -m bot eval FILE  measure matching (or the safety check) on a JSONL set [--json | --metrics]
    python -m bot train-safety [--check]  retrain the safety model from corpus/ (or check it is current)
    python -m bot train-matcher [--check] retrain the intent ranker from intents/ (or check it is current)
    python -m bot match TEXT show the decision and the closest intents
    python -m bot check      validate intents/ and content/
    python -m bot doctor     check a deployment and say what is wrong
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import Settings, load_settings
from bot.errors import ConfigError, ContentError
from bot.logs import configure_logging, protect

if TYPE_CHECKING:
    from bot.nlu.understand import Understanding

__all__ = ["configure_logging", "main"]


def secrets_of(settings: Settings) -> list[str | None]:
    """What the logs must never show, whatever the level."""
    return [
        secret.get_secret_value() if secret is not None else None
        for secret in (settings.telegram_bot_token, settings.webhook_secret, settings.data_encryption_key)
    ]


def cmd_run(settings: Settings, force_console: bool) -> int:
    from bot.startup import check_settings, startup_catalog

    # Everything that would stop the bot is found here, before it starts, in one line each.
    check_settings(settings)
    catalog = startup_catalog(settings)
    if settings.telegram_bot_token is None or force_console:
        from bot.app import build_engine
        from bot.console import run_console

        engine = build_engine(settings, catalog)
        if not force_console:
            print("No TELEGRAM_BOT_TOKEN set: starting the bot as a chat in this terminal.", file=sys.stderr)
        asyncio.run(run_console(engine))
        return 0
    from bot.app import run_telegram
    from bot.telegram.application import webhook_from_settings

    webhook = webhook_from_settings(settings)
    if webhook is not None:
        protect(webhook.secret_token)  # derived from the token when WEBHOOK_SECRET is unset
    return run_telegram(settings, catalog)


def stale_models() -> list[str]:
    """The trained models that no longer match what they learn from (intents/, corpus/): the bot
    still runs (without the intent ranker, or with the older safety model), but say so."""
    from bot.nlu.intent_ranker_training import staleness as ranker_staleness
    from bot.nlu.safety_training import staleness as safety_staleness

    return [problem for problem in (ranker_staleness(), safety_staleness()) if problem]


def cmd_check(settings: Settings) -> int:
    from bot.app import check_content
    from bot.catalog.loader import load_catalog

    try:
        catalog = load_catalog(settings.content_dir)
    except ContentError as error:
        print(f"{len(error.problems)} problem(s) in the content:")
        for problem in error.problems:
            print(f"  ✗ {problem}")
        return 1
    report = check_content(catalog)
    for warning in [*report.warnings, *stale_models()]:
        print(f"  ! {warning}")
    for error in report.errors:
        print(f"  ✗ {error}")
    if report.errors:
        print(f"{len(report.errors)} problem(s) in the content.")
        return 1
    examples = sum(len(v) for v in catalog.examples.values())
    print(
        f"Content OK: {len(catalog.examples)} intents ({examples} example phrasings), "
        f"{len(catalog.answers)} answers, {len(catalog.texts)} texts, {len(catalog.flows)} flows."
    )
    return 0


def cmd_eval(settings: Settings, path: Path, as_json: bool, metrics_only: bool = False) -> int:
    """Measure a labelled set. `metrics_only`: one JSON object of figures, never a line's text, for
    whoever tunes the bot against a development set they must not read."""
    from bot.app import build_detector, build_matcher
    from bot.catalog.loader import load_catalog
    from bot.evaluation import is_safety_set, read_jsonl
    from bot.nlu.understand import understand

    catalog = load_catalog(settings.content_dir)
    rows = read_jsonl(path)
    detector = build_detector(catalog)
    if is_safety_set(rows):
        from bot.evaluation.safety_eval import evaluate_safety, format_safety_report, safety_report_to_jsonl
        from bot.nlu.understand import SafetyPipeline

        # Measure exactly what people get: the lexicon and the model, as the engine calls them.
        report = evaluate_safety(rows, SafetyPipeline(detector, build_matcher(catalog, settings)))
        if metrics_only:
            print(json.dumps({"metrics": report.metrics()}, ensure_ascii=False))
        elif as_json:
            print("\n".join(json.dumps(item, ensure_ascii=False) for item in safety_report_to_jsonl(report)))
        else:
            print(format_safety_report(report))
        return 0
    from bot.evaluation.intent_eval import evaluate_intents, format_report, report_to_json

    matcher = build_matcher(catalog, settings)
    intent_report = evaluate_intents(rows, lambda text: understand(text, detector, matcher))
    if metrics_only:
        summary = {key: value for key, value in report_to_json(intent_report).items() if key != "predictions"}
        print(json.dumps(summary, ensure_ascii=False))
    else:
        print(json.dumps(report_to_json(intent_report), ensure_ascii=False) if as_json else format_report(intent_report))
    return 0


def route_words(meaning: Understanding) -> str:
    """What the chat does with this message outside a flow or a step (`bot.nlu.understand.route_of`)."""
    from bot.nlu.understand import route_of

    route = route_of(meaning)
    if route == "safety_check_in":
        return (
            "a gentle check-in question first (tier check_in); the full safety answer after a yes, "
            "or at once within a day of another safety answer"
        )
    if route == "safety":
        return f"the safety answer ({meaning.predicted}): the lines, and a person"
    if route == "answer":
        return f"the answer '{meaning.predicted}'"
    if route == "clarify":
        return f"did you mean: {', '.join(meaning.candidates)}"
    return "an honest fallback" + (f", offering {', '.join(meaning.candidates[:2])}" if meaning.candidates else "")


def cmd_match(settings: Settings, text: str) -> int:
    from bot.app import build_detector, build_matcher
    from bot.catalog.loader import load_catalog
    from bot.nlu.normalize import normalize
    from bot.nlu.understand import understand

    catalog = load_catalog(settings.content_dir)
    matcher = build_matcher(catalog, settings)
    # Exactly the engine's path (bot.nlu.understand), so `match` and the chat never disagree.
    meaning = understand(text.strip(), build_detector(catalog), matcher)
    result = matcher.match(text.strip())
    print(f"normalised: {normalize(text, catalog.vocabulary)}")
    if meaning.safety:
        s = meaning.safety
        print(f"SAFETY: {s.label} tier={s.tier} p={s.probability:.2f} evidence={s.evidence} means={s.means}")
    print(f"decision:   {meaning.decision}  -> {meaning.predicted}")
    print(f"the chat:   {route_words(meaning)}")
    for candidate in result.candidates:
        print(f"  {candidate.score:6.1f}  {candidate.intent}")
    return 0


def cmd_train_safety(check: bool) -> int:
    from bot.nlu.safety_training import run_train_safety

    return run_train_safety(check, sys.stdout)


def cmd_train_matcher(check: bool) -> int:
    from bot.nlu.intent_ranker_training import run_train_matcher

    return run_train_matcher(check, sys.stdout)


def cmd_doctor(settings: Settings) -> int:
    from bot.doctor import run_doctor

    return asyncio.run(run_doctor(settings))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Alumaura's support bot.")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run the bot (Telegram if a token is set, else the terminal chat)")
    sub.add_parser("chat", help="chat with the bot in the terminal")
    eval_parser = sub.add_parser("eval", help="measure matching or safety on a JSONL file")
    eval_parser.add_argument("file", type=Path)
    eval_parser.add_argument("--json", action="store_true", help="print JSON (intents: one object; safety: one object a line, then the metrics)")
    eval_parser.add_argument("--metrics", action="store_true", help="print only the figures as one JSON object, no message text")
    match_parser = sub.add_parser("match", help="show how a message is understood")
    match_parser.add_argument("text", nargs="+")
    sub.add_parser("check", help="validate intents/ and content/")
    train_parser = sub.add_parser("train-safety", help="retrain the safety model from corpus/safety/*.jsonl")
    train_parser.add_argument("--check", action="store_true", help="only check that the shipped model is current")
    ranker_parser = sub.add_parser("train-matcher", help="retrain the intent ranker from intents/*.yaml")
    ranker_parser.add_argument("--check", action="store_true", help="only check that the shipped ranker is current")
    sub.add_parser("doctor", help="check a deployment")
    args = parser.parse_args(argv)
    try:
        return run_command(parser, args)
    except (ConfigError, ContentError) as error:
        from bot.startup import report_failure

        return report_failure(error, sys.stderr)


def run_command(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """The chosen command; a ConfigError or ContentError on the way ends it with one line per problem."""
    settings = load_settings()
    command = args.command or "run"
    terminal_chat = command == "chat" or (command == "run" and settings.telegram_bot_token is None)
    # In the terminal chat, routine INFO lines would interleave with the conversation.
    level = settings.log_level if command == "run" and not terminal_chat else "WARNING"
    if terminal_chat and settings.log_level == "DEBUG":
        level = "DEBUG"
    configure_logging(level, secrets_of(settings))
    if command in {"run", "chat"}:
        return cmd_run(settings, force_console=command == "chat")
    if command == "check":
        return cmd_check(settings)
    if command == "eval":
        return cmd_eval(settings, args.file, args.json, args.metrics)
    if command == "train-safety":
        return cmd_train_safety(args.check)
    if command == "train-matcher":
        return cmd_train_matcher(args.check)
    if command == "match":
        return cmd_match(settings, " ".join(args.text))
    if command == "doctor":
        return cmd_doctor(settings)
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
