"""Every benchmark in one run, with the machine it ran on: `python3 tasks.py bench`.

Prints the machine (CPU, cores, RAM, Python and library versions, load average at the start
and the end, since a busy machine slows everything), then the matching benchmark, then the
end-to-end benchmark, then a short summary of the figures benchmarks/README.md records.

    .venv/bin/python benchmarks/run_all.py [--skip-matching] [--skip-e2e] [--json FILE] [bench_e2e options]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any, Final

HERE: Final = Path(__file__).resolve().parent
ROOT: Final = HERE.parent
for _path in (str(ROOT), str(HERE)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import psutil  # noqa: E402

LIBRARIES: Final = ("python-telegram-bot", "httpx", "rapidfuzz", "aiosqlite", "aiohttp", "pydantic", "psutil")


def cpu_model() -> str:
    """The CPU's marketing name, from /proc/cpuinfo where there is one."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def load_average() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "n/a"
    return f"{one:.2f} {five:.2f} {fifteen:.2f} (1/5/15 min)"


def machine() -> dict[str, Any]:
    """What the figures depend on, besides the code."""
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "cpu": cpu_model(),
        "cores": f"{psutil.cpu_count(logical=True)} logical, {psutil.cpu_count(logical=False) or '?'} physical",
        "ram_gib": round(psutil.virtual_memory().total / 1024**3, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "libraries": versions,
        "load_average_start": load_average(),
    }


def print_machine(info: dict[str, Any]) -> None:
    print("machine")
    for key in ("date", "cpu", "cores", "ram_gib", "os", "python"):
        print(f"  {key:<10} {info[key]}")
    print("  libraries  " + ", ".join(f"{name} {version}" for name, version in info["libraries"].items()))
    print(f"  load avg   {info['load_average_start']} at the start; {os.cpu_count()} cores means a load above that is a shared, busy machine")


def print_summary(matching: Sequence[dict[str, Any]], e2e: dict[str, Any]) -> None:
    """The figures benchmarks/README.md records, in one place."""
    print("\nsummary")
    for row in matching:
        print(
            f"  matching {row['catalogue']:<8} matcher p50 {row['ours_p50_ms']:.2f} ms p99 {row['ours_p99_ms']:.2f} ms;"
            f" naive extractOne p50 {row['naive_p50_ms']:.2f} ms p99 {row['naive_p99_ms']:.2f} ms"
        )
    for row in e2e.get("runs", []):
        print(
            f"  e2e {row['name']:<16} {row['turns_per_s']:.0f} turns/s, {row['messages_per_s']:.0f} msgs/s,"
            f" first reply p50 {row['first_p50_ms']:.0f} ms p99 {row['first_p99_ms']:.0f} ms, {row['turns_per_cpu_s']:.0f} turns per CPU-s,"
            f" RSS peak {row['rss_peak_mib']:.0f} MiB, first reply after start {row['first_reply_s']:.2f} s, lost {row['failures']}"
        )
    if "ratio_turns" in e2e:
        print(
            f"  bot/echo  turns/s x{e2e['ratio_turns']:.2f}, turns per CPU-s x{e2e['ratio_capacity']:.2f}, messages/s x{e2e['ratio_messages']:.2f}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run every benchmark and print the figures with the machine.")
    parser.add_argument("--skip-matching", action="store_true")
    parser.add_argument("--skip-e2e", action="store_true")
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    args, e2e_args = parser.parse_known_args(argv)
    started = time.perf_counter()
    info = machine()
    print_machine(info)
    matching: list[dict[str, Any]] = []
    e2e: dict[str, Any] = {}
    if not args.skip_matching:
        import bench_matching

        print()
        matching = bench_matching.main()
    if not args.skip_e2e:
        import bench_e2e

        print()
        e2e = bench_e2e.main(e2e_args)
    print_summary(matching, e2e)
    info["load_average_end"] = load_average()
    elapsed = time.perf_counter() - started
    print(f"\nload average at the end: {info['load_average_end']}; all benchmarks took {elapsed:.0f} s")
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "matching": matching, "e2e": e2e, "seconds": round(elapsed, 1)}, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
