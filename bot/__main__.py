"""Command line: run the bot, chat in the terminal, and the content editors' tools.

    python -m bot            Telegram when TELEGRAM_BOT_TOKEN is set, else the terminal chat
    python -m bot chat       the terminal chat, whatever the token
    python -m bot eval FILE  measure matching (or the safety check) on a JSONL set [--json]
    python -m bot match TEXT show the decision and the closest intents
    python -m bot check      validate intents/ and content/
    python -m bot doctor     check a deployment and say what is wrong
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from pathlib import Path

from bot.config import Settings
from bot.errors import ContentError


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    # httpx logs every request URL, and Telegram URLs contain the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    # The job queue logs every run of the outbox job at INFO.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def cmd_run(settings: Settings, force_console: bool) -> int:
    from bot.app import build_engine
    from bot.console import run_console

    if settings.telegram_bot_token is None or force_console:
        if not force_console:
            print("No TELEGRAM_BOT_TOKEN set: starting the bot as a chat in this terminal.", file=sys.stderr)
        asyncio.run(run_console(build_engine(settings)))
        return 0
    from bot.telegram.application import run_telegram

    run_telegram(settings)
    return 0


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
    for warning in report.warnings:
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


def cmd_eval(settings: Settings, path: Path, as_json: bool) -> int:
    from bot.app import build_detector, build_matcher
    from bot.catalog.loader import load_catalog
    from bot.evaluation import is_safety_set, read_jsonl
    from bot.nlu.understand import understand

    catalog = load_catalog(settings.content_dir)
    rows = read_jsonl(path)
    detector = build_detector(catalog)
    if is_safety_set(rows):
        from bot.evaluation.safety_eval import evaluate_safety, format_safety_report, safety_report_to_json
        from bot.nlu.understand import SafetyPipeline

        # Measure exactly what people get: the detector plus the matcher's backstop.
        report = evaluate_safety(rows, SafetyPipeline(detector, build_matcher(catalog, settings)))
        print(json.dumps(safety_report_to_json(report), ensure_ascii=False, indent=1) if as_json else format_safety_report(report))
        return 0
    from bot.evaluation.intent_eval import evaluate_intents, format_report, report_to_json

    matcher = build_matcher(catalog, settings)
    intent_report = evaluate_intents(rows, lambda text: understand(text, detector, matcher))
    print(json.dumps(report_to_json(intent_report), ensure_ascii=False) if as_json else format_report(intent_report))
    return 0


def cmd_match(settings: Settings, text: str) -> int:
    from bot.app import build_detector, build_matcher
    from bot.catalog.loader import load_catalog
    from bot.nlu.normalize import normalize
    from bot.nlu.understand import understand

    catalog = load_catalog(settings.content_dir)
    matcher = build_matcher(catalog, settings)
    meaning = understand(text, build_detector(catalog), matcher)
    result = matcher.match(text)
    print(f"normalised: {normalize(text, catalog.vocabulary)}")
    if meaning.safety:
        print(f"SAFETY: {meaning.safety.label} (pattern {meaning.safety.pattern}) — the safety answer wins")
    print(f"decision:   {meaning.decision}  -> {meaning.predicted}")
    for candidate in result.candidates:
        print(f"  {candidate.score:6.1f}  {candidate.intent}")
    return 0


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
    eval_parser.add_argument("--json", action="store_true", help="print one JSON object")
    match_parser = sub.add_parser("match", help="show how a message is understood")
    match_parser.add_argument("text", nargs="+")
    sub.add_parser("check", help="validate intents/ and content/")
    sub.add_parser("doctor", help="check a deployment")
    args = parser.parse_args(argv)
    settings = Settings()
    command = args.command or "run"
    terminal_chat = command == "chat" or (command == "run" and settings.telegram_bot_token is None)
    # In the terminal chat, routine INFO lines would interleave with the conversation.
    level = settings.log_level if command == "run" and not terminal_chat else "WARNING"
    if terminal_chat and settings.log_level.upper() == "DEBUG":
        level = "DEBUG"
    configure_logging(level)
    if command in {"run", "chat"}:
        return cmd_run(settings, force_console=command == "chat")
    if command == "check":
        return cmd_check(settings)
    if command == "eval":
        return cmd_eval(settings, args.file, args.json)
    if command == "match":
        return cmd_match(settings, " ".join(args.text))
    if command == "doctor":
        return cmd_doctor(settings)
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
