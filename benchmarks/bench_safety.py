"""Safety benchmark: start-up, time per message of safety plus matching, and memory.

Prints:
  - start-up: a fresh process from its first line to its first reply (imports, loading the
    catalogue, building the matcher, loading the safety model, one message through
    `understand()`), each step's share, and the whole process's wall time;
  - p50 / p99 per message of `understand()` (the safety check, lexicon and model, then
    matching: what the engine runs on every text), over the development sets' texts
    (shared/eval/dev-*.jsonl; the catalogue's examples if they are absent), 5 repeats;
  - resident memory (VmRSS, and its peak VmHWM) after all of that.
Budgets (issue 10): start-up <= 4 s, p99 <= 5 ms, RSS <= 150 MB; no network, no torch.
Run: `.venv/bin/python benchmarks/bench_safety.py`.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
EVAL = ROOT.parent / "shared" / "eval"
SETS = ("dev-safety.jsonl", "dev-safety-2.jsonl", "dev-intents.jsonl", "dev-intents-hinglish.jsonl")
REPEATS = 5


def memory() -> dict[str, float]:
    """VmRSS and VmHWM of this process in MB (Linux)."""
    figures: dict[str, float] = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            figures[name] = int(value.split()[0]) / 1024
    return figures


def start_up() -> dict[str, float]:
    """Everything a bot does before its first reply, timed by step (in this fresh process)."""
    steps: dict[str, float] = {}
    mark = time.perf_counter()
    from bot.app import build_detector, build_matcher
    from bot.catalog.loader import load_catalog
    from bot.config import Settings
    from bot.nlu.understand import understand

    steps["imports"] = time.perf_counter() - mark
    mark = time.perf_counter()
    catalog = load_catalog(ROOT)
    steps["catalogue"] = time.perf_counter() - mark
    mark = time.perf_counter()
    matcher = build_matcher(catalog, Settings(_env_file=None))  # type: ignore[call-arg]
    steps["matcher"] = time.perf_counter() - mark
    mark = time.perf_counter()
    check = build_detector(catalog)  # the lexicon compiled, the model's arrays loaded
    steps["safety check"] = time.perf_counter() - mark
    mark = time.perf_counter()
    understand("hi, my husband keeps liking his ex's photos", check, matcher)
    steps["first reply"] = time.perf_counter() - mark
    steps["total"] = time.perf_counter() - STARTED
    return steps


def messages() -> list[str]:
    texts = [
        json.loads(line)["text"]
        for name in SETS
        if (EVAL / name).exists()
        for line in (EVAL / name).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    if texts:
        return texts
    from bot.catalog.loader import load_catalog

    return [example for examples in load_catalog(ROOT).examples.values() for example in examples][:400]


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(0.99 * (len(ordered) - 1))], ordered[-1]


def per_message() -> tuple[int, dict[str, tuple[float, float, float]]]:
    """Messages timed, and (p50, p99, max) in ms of: the safety check alone, matching alone,
    and understand() (both, as the engine runs them) over the development texts."""
    from bot.app import build_detector, build_matcher
    from bot.catalog.loader import load_catalog
    from bot.config import Settings
    from bot.nlu.understand import understand

    catalog = load_catalog(ROOT)
    matcher = build_matcher(catalog, Settings(_env_file=None))  # type: ignore[call-arg]
    check = build_detector(catalog)
    texts = messages()
    runs = {"safety check": check.check, "matching": matcher.match, "safety + matching": lambda t: understand(t, check, matcher)}
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for repeat in range(REPEATS):
        for text in texts:
            # Each repeat sees a fresh text (a suffix), so the normaliser's caches do not flatter the figures.
            varied = text if repeat == 0 else f"{text} {repeat}"
            for name, run in runs.items():
                mark = time.perf_counter()
                run(varied)
                samples[name].append((time.perf_counter() - mark) * 1000)
    return len(texts), {name: percentiles(values) for name, values in samples.items()}


def main() -> int:
    if "--startup-only" in sys.argv:
        steps = start_up()
        print(json.dumps({"steps": steps, "memory": memory()}))
        return 0
    mark = time.perf_counter()
    child = subprocess.run([sys.executable, __file__, "--startup-only"], capture_output=True, text=True, check=True)
    wall = time.perf_counter() - mark
    fresh = json.loads(child.stdout.strip().splitlines()[-1])
    steps = fresh["steps"]
    print("start-up to first reply (fresh process):")
    for name, seconds in steps.items():
        print(f"  {name:<13} {seconds:6.2f} s")
    print(f"  process wall time, interpreter included: {wall:.2f} s   (budget 4 s)")
    print(f"  memory after start-up: RSS {fresh['memory']['VmRSS']:.0f} MB")
    count, timings = per_message()
    print(f"per message ({count} messages x {REPEATS}; budget: safety + matching p99 5 ms):")
    for name, (p50, p99, worst) in timings.items():
        print(f"  {name:<18} p50 {p50:5.2f} ms   p99 {p99:5.2f} ms   max {worst:5.2f} ms")
    figures = memory()
    print(f"resident memory: RSS {figures['VmRSS']:.0f} MB, peak {figures['VmHWM']:.0f} MB   (budget 150 MB)")
    print(f"torch imported: {'torch' in sys.modules}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
