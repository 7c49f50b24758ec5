"""Matching benchmark: time to decide per message, against a naive rapidfuzz baseline.

Prints p50/p99 per message for:
  - the bot's matcher (normalise + score + decide), on the shipped catalogue and on a
    synthetic catalogue ten times larger;
  - the naive baseline: `rapidfuzz.process.extractOne` with its default scorer (WRatio)
    over the raw example phrasings, on both catalogues.
Messages: the development set (shared/eval/dev-intents.jsonl) if present, else the
catalogue's own examples; then, separately, Hinglish and Devanagari messages
(shared/eval/dev-intents-hinglish.jsonl, else the catalogue's Hindi examples), which take the
Hindi route with its learned ranker. Run: `.venv/bin/python benchmarks/bench_matching.py`.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rapidfuzz import process  # noqa: E402

from bot.catalog.loader import load_catalog  # noqa: E402
from bot.nlu.matcher import Matcher  # noqa: E402

DEV_SET = ROOT.parent / "shared" / "eval" / "dev-intents.jsonl"
HINDI_DEV_SET = ROOT.parent / "shared" / "eval" / "dev-intents-hinglish.jsonl"
REPEATS = 5


def messages() -> list[str]:
    if DEV_SET.exists():
        return [json.loads(line)["text"] for line in DEV_SET.read_text(encoding="utf-8").splitlines() if line.strip()]
    catalog = load_catalog(ROOT)
    return [example for examples in catalog.examples.values() for example in examples][:200]


def hindi_messages() -> list[str]:
    """Hinglish and Devanagari messages: the Hindi development set, else the Hindi examples."""
    if HINDI_DEV_SET.exists():
        return [json.loads(line)["text"] for line in HINDI_DEV_SET.read_text(encoding="utf-8").splitlines() if line.strip()]
    from bot.nlu.language import detect_language

    catalog = load_catalog(ROOT)
    examples = [example for values in catalog.examples.values() for example in values]
    return [example for example in examples if detect_language(example) in {"hinglish", "hi"}][:200]


def synthetic_catalogue(examples: Mapping[str, Sequence[str]], factor: int, seed: int = 7) -> dict[str, list[str]]:
    """`factor` times as many intents: each copy's examples get their words shuffled and a
    few words replaced by copy-specific ones, so the vocabulary grows as a real catalogue would."""
    rng = random.Random(seed)
    grown: dict[str, list[str]] = {intent: list(texts) for intent, texts in examples.items()}
    for copy in range(1, factor):
        for intent, texts in examples.items():
            variants = []
            for text in texts:
                words = text.split()
                rng.shuffle(words)
                for index in range(0, len(words), 3):
                    words[index] = f"{words[index]}{copy}x{rng.randint(0, 40)}"
                variants.append(" ".join(words))
            grown[f"{intent}_copy{copy}"] = variants
    return grown


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]
    return p50 * 1000, p99 * 1000


def time_each(decide: Callable[[str], object], texts: Sequence[str]) -> list[float]:
    for text in texts[:20]:
        decide(text)  # warm caches, as a running bot has
    samples = []
    for _ in range(REPEATS):
        for text in texts:
            start = time.perf_counter()
            decide(text)
            samples.append(time.perf_counter() - start)
    return samples


def bench(name: str, examples: Mapping[str, Sequence[str]], texts: Sequence[str], vocabulary) -> dict[str, float]:  # noqa: ANN001
    started = time.perf_counter()
    matcher = Matcher.build(examples, vocabulary)
    build_ms = (time.perf_counter() - started) * 1000
    choices = [example for values in examples.values() for example in values]
    ours = percentiles(time_each(matcher.match, texts))
    naive = percentiles(time_each(lambda text: process.extractOne(text, choices), texts))
    row = {
        "catalogue": name, "intents": len(examples), "examples": len(choices), "build_ms": build_ms,
        "ours_p50_ms": ours[0], "ours_p99_ms": ours[1], "naive_p50_ms": naive[0], "naive_p99_ms": naive[1],
    }
    print(
        f"{name:<10} {len(examples):>5} intents {len(choices):>6} examples | matcher p50 {ours[0]:6.3f} ms  p99 {ours[1]:6.3f} ms"
        f" | naive extractOne p50 {naive[0]:6.3f} ms  p99 {naive[1]:6.3f} ms | ratio p99 {ours[1] / naive[1]:5.2f}x"
        f" | build {build_ms:7.0f} ms"
    )
    return row


def main() -> list[dict[str, float]]:
    catalog = load_catalog(ROOT)
    texts = messages()
    print(f"matching benchmark: {len(texts)} messages x {REPEATS} repeats")
    shipped = bench("shipped", catalog.examples, texts, catalog.vocabulary)
    large = bench("x10", synthetic_catalogue(catalog.examples, 10), texts, catalog.vocabulary)
    growth = large["ours_p99_ms"] / shipped["ours_p99_ms"]
    naive_growth = large["naive_p99_ms"] / shipped["naive_p99_ms"]
    print(f"growth with a 10x catalogue: matcher p99 x{growth:.2f}, naive baseline p99 x{naive_growth:.2f}")
    hindi = bench("hindi", catalog.examples, hindi_messages(), catalog.vocabulary)
    return [shipped, large, hindi]


if __name__ == "__main__":
    main()
