"""End-to-end benchmark: the real bot process against a loopback Bot API, many people at once.

What runs where:
  - the bot is its own process (`python -m bot run`: real `Application`, long polling, real
    engine, SQLite in a temporary directory), configured only through its environment;
  - the Bot API stand-in (tests/botapi_standin.py) and the simulated people run here, in the
    benchmark process, so they do not share the bot's event loop;
  - the yardstick is a bare python-telegram-bot echo bot (benchmarks/echo_bot.py), run the
    same way against a fresh stand-in with the same load and concurrency settings.

Each simulated person writes, waits for the whole reply, then writes again (a closed loop with
no pause, so the bot is saturated: latency under load is mostly queueing). A "turn" is one
message or button press and every bot message it causes; "first" latency runs from the
update being available in getUpdates to the first sendMessage/editMessageText arriving at the
stand-in, "turn" latency to the last one. The number of messages each step causes is
measured first by one person alone on the idle bot (which also gives start-up time and idle
latency); afterwards every person must have received exactly that many, none missing, none extra.

Variants: rate limiter off (capacity; RATE_LIMITER=false) for the bot and the echo bot, and the
bot with python-telegram-bot's AIORateLimiter on (production: about 30 requests/s for calls
that carry a chat_id, 20/min per group), which is capped by Telegram's limits by design.

Run: `.venv/bin/python benchmarks/bench_e2e.py [--users 500] [--steps 5] [--only bot] [--profile [FILE]]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal, TypeVar

HERE: Final = Path(__file__).resolve().parent
ROOT: Final = HERE.parent
for _path in (str(ROOT), str(HERE)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import psutil  # noqa: E402

import echo_bot  # noqa: E402
from tests.botapi_standin import JSON, BotApiStandIn, TgUser  # noqa: E402

T = TypeVar("T")
Action = Literal["send", "press"]
Step = tuple[Action, str]

# One person's conversation: /start, the consent button, FAQ questions, a feedback button, thanks.
# The benchmark takes the first --steps of it (default 5: every kind of turn, FAQ the most common).
BOT_SCRIPT: Final[tuple[Step, ...]] = (
    ("send", "/start"),
    ("press", "Yes, that's fine"),
    ("send", "what does micro cheating mean"),
    ("send", "how can i trust my partner again"),
    ("press", "👍 Yes"),
    ("send", "is liking someone's photos cheating"),
    ("send", "thank you"),
    ("send", "/menu"),
)
DEFAULT_STEPS: Final = 5
START_TIMEOUT: Final = 60.0  # process start to first reply
TURN_TIMEOUT: Final = 60.0  # one person's turn under load
QUIET: Final = 0.5  # calibration: a step's reply is complete after this long without a new message
GRACE: Final = 0.5  # after the load: how long to watch for messages nobody should get
STOP_TIMEOUT: Final = 20.0
RSS_INTERVAL: Final = 0.02
# After the saturating load: new people arriving at a steady rate, each sending one FAQ question,
# for the latency a person notices at a busy but realistic moment rather than under saturation.
PACED_STEP: Final[Step] = ("send", "what does micro cheating mean")
PACED_RATE: Final = 10.0  # people per second; a newcomer's first question gets 5 messages (welcome, consent, answer)
PACED_SECONDS: Final = 12.0


def echo_script(script: Sequence[Step]) -> tuple[Step, ...]:
    """The same conversation for the echo bot: same texts, and every press on its one button."""
    return tuple((action, echo_bot.BUTTON_LABEL if action == "press" else text) for action, text in script)


def check_echo_matches_bot() -> None:
    """The yardstick must be configured like the bot, or the ratio means nothing."""
    from bot.telegram.application import ALLOWED_UPDATES, RATE_LIMIT_RETRIES
    from bot.telegram.processor import DEFAULT_MAX_RUNNING

    mismatches = [
        name
        for name, ours, theirs in (
            ("allowed updates", echo_bot.ALLOWED_UPDATES, ALLOWED_UPDATES),
            ("updates at once", echo_bot.MAX_RUNNING, DEFAULT_MAX_RUNNING),
            ("rate limiter retries", echo_bot.RATE_LIMIT_RETRIES, RATE_LIMIT_RETRIES),
        )
        if ours != theirs
    ]
    if mismatches:
        raise SystemExit(f"benchmarks/echo_bot.py no longer matches the bot: {', '.join(mismatches)}")


# ---------------------------------------------------------------- figures


def percentile(samples: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (0 for no samples)."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def mib(size: int) -> float:
    """Bytes as MiB."""
    return size / (1024 * 1024)


# ---------------------------------------------------------------- the stand-in, timed


class TimedStandIn(BotApiStandIn):
    """The stand-in, noting when each bot message arrives per chat and waking whoever waits for it.

    The base class's `wait_until` re-checks every 50 ms per waiter; with hundreds of people
    waiting that polling would be the benchmark's own bottleneck, so people wait on futures.
    """

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: dict[int, list[float]] = defaultdict(list)
        self.first_poll_at: float | None = None
        self._waiters: dict[int, tuple[int, asyncio.Future[None]]] = {}

    async def _api_getupdates(self, params: JSON) -> list[JSON]:
        if self.first_poll_at is None:
            self.first_poll_at = time.perf_counter()
        return await super()._api_getupdates(params)

    async def _api_sendmessage(self, params: JSON) -> JSON:
        result = await super()._api_sendmessage(params)
        self._arrived(int(params["chat_id"]))
        return result

    async def _api_editmessagetext(self, params: JSON) -> JSON | bool:
        result = await super()._api_editmessagetext(params)
        self._arrived(int(params["chat_id"]))
        return result

    def _arrived(self, chat_id: int) -> None:
        arrivals = self.arrivals[chat_id]
        arrivals.append(time.perf_counter())
        waiter = self._waiters.get(chat_id)
        if waiter is not None and len(arrivals) >= waiter[0] and not waiter[1].done():
            waiter[1].set_result(None)

    async def wait_count(self, chat_id: int, count: int, timeout: float) -> None:
        """Wait until `count` bot messages in total have arrived in `chat_id`; TimeoutError if not."""
        if len(self.arrivals[chat_id]) >= count:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters[chat_id] = (count, future)
        try:
            await asyncio.wait_for(future, timeout)
        finally:
            self._waiters.pop(chat_id, None)

    async def wait_quiet(self, chat_id: int, count: int, first_timeout: float) -> int:
        """Wait for a message past `count`, then until none arrives for QUIET seconds; the new total."""
        await self.wait_count(chat_id, count + 1, first_timeout)
        while True:
            seen = len(self.arrivals[chat_id])
            try:
                await self.wait_count(chat_id, seen + 1, QUIET)
            except TimeoutError:
                return seen

    def newest_with_button(self, chat_id: int, label: str) -> JSON:
        """The newest bot message in a chat carrying an inline button `label`."""
        for message in reversed(list(self.chats[chat_id].messages.values())):
            rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
            if any(button.get("text") == label for row in rows for button in row):
                return message
        raise LookupError(f"no message with a {label!r} button")

    def act(self, user: TgUser, step: Step) -> None:
        """The person sends a text or presses a button on the newest message that has it."""
        action, text = step
        if action == "send":
            self.user_sends(user, text)
        else:
            self.user_presses(user, self.newest_with_button(user.id, text), text)


# ---------------------------------------------------------------- the bot process


@dataclass(frozen=True)
class Target:
    """One run: which bot, which conversation, how many people, the limiter on or off."""

    name: str
    kind: Literal["bot", "echo"]
    script: tuple[Step, ...]
    users: int
    rate_limiter: bool
    deadline: float
    paced_rate: float = 0.0
    profile_to: Path | None = None


def settings_names() -> set[str]:
    """Every environment variable the bot's Settings read, so none leaks in from the caller's shell."""
    from bot.config import Settings

    return {name.upper() for name in Settings.model_fields}


def process_env(standin: BotApiStandIn, database: Path, rate_limiter: bool) -> dict[str, str]:
    """The bot's whole configuration: the stand-in, a throw-away database, production log level."""
    env = {key: value for key, value in os.environ.items() if key not in settings_names()}
    env.update(
        {
            "TELEGRAM_BOT_TOKEN": standin.token,
            "TELEGRAM_BASE_URL": standin.base_url,
            "DATABASE_PATH": str(database),
            "RATE_LIMITER": "true" if rate_limiter else "false",
            "LOG_LEVEL": "INFO",
            "PTB_TIMEDELTA": "true",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        }
    )
    return env


def process_command(target: Target) -> list[str]:
    """The command line of the bot (or echo bot) process, under cProfile when profiling."""
    program = ["-m", "bot", "run"] if target.kind == "bot" else [str(HERE / "echo_bot.py")]
    if target.profile_to is not None:
        return [sys.executable, "-m", "cProfile", "-o", str(target.profile_to), *program]
    return [sys.executable, *program]


class Sampler:
    """Samples a process's RSS in a thread (the event loop is busy under load); keeps the peak."""

    def __init__(self, pid: int, interval: float = RSS_INTERVAL) -> None:
        self.process = psutil.Process(pid)
        self.interval = interval
        self.peak = 0
        self.last = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def start(self) -> Sampler:
        self._thread.start()
        return self

    def _run(self) -> None:
        while True:
            try:
                rss = self.process.memory_info().rss
            except psutil.Error:
                return
            self.last = rss
            self.peak = max(self.peak, rss)
            if self._stop.wait(self.interval):
                return

    def reset_peak(self) -> None:
        self.peak = self.last

    def cpu_seconds(self) -> float:
        try:
            times = self.process.cpu_times()
        except psutil.Error:
            return 0.0
        return times.user + times.system

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)


async def stop_process(process: asyncio.subprocess.Process) -> None:
    """SIGTERM (python-telegram-bot stops cleanly), SIGKILL if it hangs; never blocks the stand-in's loop."""
    if process.returncode is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()


# ---------------------------------------------------------------- calibration and load


@dataclass
class Calibration:
    """One person alone on the idle bot: messages per step, start-up, idle latency."""

    counts: list[int]
    ready_s: float
    first_reply_s: float
    idle_first_ms: list[float]


async def calibrate(standin: TimedStandIn, user: TgUser, script: Sequence[Step], started: float) -> Calibration:
    """The first step was acted before the process started; walk the rest, counting what each causes."""
    counts: list[int] = []
    idle_first: list[float] = []
    total = await standin.wait_quiet(user.id, 0, START_TIMEOUT)
    arrivals = standin.arrivals[user.id]
    counts.append(total)
    first_reply = arrivals[0] - started
    for step in script[1:]:
        acted = time.perf_counter()
        standin.act(user, step)
        new_total = await standin.wait_quiet(user.id, total, TURN_TIMEOUT)
        idle_first.append((arrivals[total] - acted) * 1000)
        counts.append(new_total - total)
        total = new_total
    ready = (standin.first_poll_at or started) - started
    return Calibration(counts, ready, first_reply, idle_first)


@dataclass
class PersonResult:
    """What one person of the load got: turns answered, their latencies, and why they stopped early."""

    turns: int = 0
    messages: int = 0
    first_ms: list[float] = field(default_factory=list)
    turn_ms: list[float] = field(default_factory=list)
    failure: str | None = None
    expected_total: int = 0


async def person(standin: TimedStandIn, user: TgUser, script: Sequence[Step], counts: Sequence[int], deadline: float) -> PersonResult:
    """One person's conversation: act, wait for exactly the calibrated number of messages, next."""
    result = PersonResult()
    arrivals = standin.arrivals[user.id]
    for step, count in zip(script, counts, strict=True):
        if time.perf_counter() > deadline:
            break
        before = result.expected_total
        result.expected_total += count
        acted = time.perf_counter()
        try:
            standin.act(user, step)
            await standin.wait_count(user.id, result.expected_total, TURN_TIMEOUT)
        except TimeoutError:
            result.failure = f"timed out at step {step!r} ({len(arrivals) - before}/{count} messages)"
            break
        except (LookupError, AssertionError) as error:
            result.failure = f"could not {step[0]} {step[1]!r}: {error}"
            break
        result.turns += 1
        result.messages += count
        result.first_ms.append((arrivals[before] - acted) * 1000)
        result.turn_ms.append((arrivals[result.expected_total - 1] - acted) * 1000)
    return result


async def first_reply_ms(standin: TimedStandIn, user: TgUser, step: Step) -> float | None:
    """How long until the first message answering `step` arrives; None if none within TURN_TIMEOUT."""
    before = len(standin.arrivals[user.id])
    acted = time.perf_counter()
    standin.act(user, step)
    try:
        await standin.wait_count(user.id, before + 1, TURN_TIMEOUT)
    except TimeoutError:
        return None
    return (standin.arrivals[user.id][before] - acted) * 1000


@dataclass
class Paced:
    """The paced phase: first-reply latencies, people who got no reply, messages per second sent."""

    first_ms: list[float] = field(default_factory=list)
    lost: int = 0
    messages_per_s: float = 0.0


async def paced(standin: TimedStandIn, rate: float, seconds: float, step: Step) -> Paced:
    """New people arriving at `rate` per second (an open loop), each acting once."""
    started = time.perf_counter()
    people = [standin.new_user(f"Q{index}") for index in range(int(rate * seconds))]
    waits = []
    for index, user in enumerate(people):
        await asyncio.sleep(max(0.0, started + index / rate - time.perf_counter()))
        waits.append(asyncio.ensure_future(first_reply_ms(standin, user, step)))
    latencies = await asyncio.gather(*waits)
    await asyncio.sleep(GRACE)
    messages = sum(len(standin.arrivals[user.id]) for user in people)
    return Paced([ms for ms in latencies if ms is not None], sum(ms is None for ms in latencies), messages / seconds)


@dataclass
class RunResult:
    """Every figure of one run."""

    name: str
    users: int
    steps: int
    turns: int
    messages: int
    wall_s: float
    first_ms: list[float]
    turn_ms: list[float]
    failures: list[str]
    extra_messages: int
    truncated: bool
    cpu_s: float
    harness_cpu_s: float
    rss_idle: int
    rss_peak: int
    calibration: Calibration
    paced: Paced = field(default_factory=Paced)

    @property
    def turns_per_s(self) -> float:
        return self.turns / self.wall_s if self.wall_s else 0.0

    @property
    def messages_per_s(self) -> float:
        return self.messages / self.wall_s if self.wall_s else 0.0

    @property
    def turns_per_cpu_s(self) -> float:
        """Turns per second of the bot process's own CPU: its capacity on one free core, whatever else runs."""
        return self.turns / self.cpu_s if self.cpu_s else 0.0

    @property
    def cpu_ms_per_turn(self) -> float:
        return self.cpu_s * 1000 / self.turns if self.turns else 0.0

    def summary(self) -> dict[str, Any]:
        """Plain figures, for run_all and anyone who wants JSON."""
        return {
            "name": self.name,
            "users": self.users,
            "steps": self.steps,
            "turns": self.turns,
            "messages": self.messages,
            "wall_s": round(self.wall_s, 2),
            "turns_per_s": round(self.turns_per_s, 1),
            "messages_per_s": round(self.messages_per_s, 1),
            "first_p50_ms": round(percentile(self.first_ms, 0.5), 1),
            "first_p99_ms": round(percentile(self.first_ms, 0.99), 1),
            "turn_p50_ms": round(percentile(self.turn_ms, 0.5), 1),
            "turn_p99_ms": round(percentile(self.turn_ms, 0.99), 1),
            "failures": len(self.failures),
            "extra_messages": self.extra_messages,
            "truncated": self.truncated,
            "cpu_ms_per_turn": round(self.cpu_ms_per_turn, 2),
            "turns_per_cpu_s": round(self.turns_per_cpu_s, 1),
            "bot_cpu_share": round(self.cpu_s / self.wall_s, 2) if self.wall_s else 0.0,
            "harness_cpu_share": round(self.harness_cpu_s / self.wall_s, 2) if self.wall_s else 0.0,
            "rss_idle_mib": round(mib(self.rss_idle), 1),
            "rss_peak_mib": round(mib(self.rss_peak), 1),
            "ready_s": round(self.calibration.ready_s, 2),
            "first_reply_s": round(self.calibration.first_reply_s, 2),
            "idle_first_p50_ms": round(percentile(self.calibration.idle_first_ms, 0.5), 1),
            "messages_per_conversation": sum(self.calibration.counts),
            "paced_people": len(self.paced.first_ms) + self.paced.lost,
            "paced_messages_per_s": round(self.paced.messages_per_s, 1),
            "paced_p50_ms": round(percentile(self.paced.first_ms, 0.5), 1),
            "paced_p99_ms": round(percentile(self.paced.first_ms, 0.99), 1),
            "paced_lost": self.paced.lost,
        }


class BenchmarkError(Exception):
    """A run that could not produce figures (the process died, or never answered)."""


def log_tail(path: Path, size: int = 3000) -> str:
    return path.read_text(errors="replace")[-size:] if path.exists() else "(no log)"


async def while_running(process: asyncio.subprocess.Process, log_path: Path, work: Coroutine[Any, Any, T], what: str) -> T:
    """Await `work`, but stop at once with the process's log if the process exits meanwhile."""
    task = asyncio.ensure_future(work)
    exited = asyncio.ensure_future(process.wait())
    try:
        await asyncio.wait({task, exited}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        exited.cancel()
    if not task.done():
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        raise BenchmarkError(f"the process exited ({process.returncode}) during {what}; its log:\n{log_tail(log_path)}")
    try:
        return task.result()
    except TimeoutError:
        raise BenchmarkError(f"no reply in time during {what}; the process log:\n{log_tail(log_path)}") from None


async def run_target(target: Target) -> RunResult:
    """Start the process with a first /start waiting, calibrate, load it, check, stop it."""
    with tempfile.TemporaryDirectory(prefix="alumaura-bench-") as tmp:
        async with TimedStandIn() as standin:
            log_path = Path(tmp) / "process.log"
            calibrator = standin.new_user("Calibration")
            standin.act(calibrator, target.script[0])
            started = time.perf_counter()
            with log_path.open("wb") as log:
                process = await asyncio.create_subprocess_exec(
                    *process_command(target),
                    cwd=tmp,  # no stray .env is read
                    env=process_env(standin, Path(tmp) / "bot.sqlite3", target.rate_limiter),
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                )
            sampler = Sampler(process.pid).start()
            try:
                calibration = await while_running(process, log_path, calibrate(standin, calibrator, target.script, started), "calibration")
                result = await while_running(process, log_path, load(standin, target, calibration, sampler), "the load")
                if target.paced_rate:
                    paced_run = paced(standin, target.paced_rate, PACED_SECONDS, PACED_STEP)
                    result.paced = await while_running(process, log_path, paced_run, "the paced phase")
            finally:
                await stop_process(process)
                sampler.stop()
            if process.returncode not in (0, -signal.SIGTERM):
                print(f"  ! {target.name} exited with {process.returncode}; log tail:\n{log_tail(log_path)}")
            return result


async def load(standin: TimedStandIn, target: Target, calibration: Calibration, sampler: Sampler) -> RunResult:
    """All people at once, each waiting for the full reply before the next step; bounded by the deadline."""
    people = [standin.new_user(f"P{index}") for index in range(target.users)]
    harness = psutil.Process()
    harness_cpu = harness.cpu_times()
    rss_idle = sampler.last
    sampler.reset_peak()
    cpu_before = sampler.cpu_seconds()
    started = time.perf_counter()
    deadline = started + target.deadline
    results = await asyncio.gather(*(person(standin, user, target.script, calibration.counts, deadline) for user in people))
    wall = time.perf_counter() - started
    cpu = sampler.cpu_seconds() - cpu_before
    harness_after = harness.cpu_times()
    await asyncio.sleep(GRACE)
    extra = sum(max(0, len(standin.arrivals[user.id]) - result.expected_total) for user, result in zip(people, results, strict=True) if result.failure is None)
    return RunResult(
        name=target.name,
        users=target.users,
        steps=len(target.script),
        turns=sum(r.turns for r in results),
        messages=sum(r.messages for r in results),
        wall_s=wall,
        first_ms=[ms for r in results for ms in r.first_ms],
        turn_ms=[ms for r in results for ms in r.turn_ms],
        failures=[r.failure for r in results if r.failure],
        extra_messages=extra,
        truncated=any(r.turns < len(target.script) and r.failure is None for r in results),
        cpu_s=cpu,
        harness_cpu_s=(harness_after.user + harness_after.system) - (harness_cpu.user + harness_cpu.system),
        rss_idle=rss_idle,
        rss_peak=sampler.peak,
        calibration=calibration,
    )


# ---------------------------------------------------------------- report


COLUMNS: Final = (
    ("run", "name", "{}"),
    ("users", "users", "{}"),
    ("turns", "turns", "{}"),
    ("msgs", "messages", "{}"),
    ("wall s", "wall_s", "{:.1f}"),
    ("turns/s", "turns_per_s", "{:.0f}"),
    ("msgs/s", "messages_per_s", "{:.0f}"),
    ("first p50", "first_p50_ms", "{:.0f} ms"),
    ("first p99", "first_p99_ms", "{:.0f} ms"),
    ("turn p50", "turn_p50_ms", "{:.0f} ms"),
    ("turn p99", "turn_p99_ms", "{:.0f} ms"),
    ("CPU/turn", "cpu_ms_per_turn", "{:.1f} ms"),
    ("turns/CPU-s", "turns_per_cpu_s", "{:.0f}"),
    ("bot CPU", "bot_cpu_share", "{:.0%}"),
    ("harness CPU", "harness_cpu_share", "{:.0%}"),
    ("RSS idle", "rss_idle_mib", "{:.0f} MiB"),
    ("RSS peak", "rss_peak_mib", "{:.0f} MiB"),
    ("lost", "failures", "{}"),
    ("extra", "extra_messages", "{}"),
)


def table(rows: Sequence[dict[str, Any]]) -> str:
    """Rows of figures as an aligned text table."""
    cells = [[title for title, _, _ in COLUMNS]] + [[fmt.format(row[key]) for _, key, fmt in COLUMNS] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    lines = ["  ".join(cell.ljust(width) if i == 0 else cell.rjust(width) for i, (cell, width) in enumerate(zip(line, widths, strict=True))) for line in cells]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def report(results: Sequence[RunResult]) -> dict[str, Any]:
    """Print the table, start-up times, the ratios and any failure; return the figures."""
    rows = [result.summary() for result in results]
    print(table(rows))
    print()
    for row in rows:
        print(
            f"{row['name']:<22} start-up: ready (first getUpdates) {row['ready_s']:.2f} s, first reply to /start {row['first_reply_s']:.2f} s;"
            f" idle single-person first-reply p50 {row['idle_first_p50_ms']:.0f} ms; {row['messages_per_conversation']} messages per conversation"
        )
        if row["paced_people"]:
            print(
                f"{'':<22} paced after the load: {row['paced_people']} new people at {PACED_RATE:.0f}/s"
                f" ({row['paced_messages_per_s']:.0f} bot messages/s), first reply"
                f" p50 {row['paced_p50_ms']:.0f} ms, p99 {row['paced_p99_ms']:.0f} ms, {row['paced_lost']} without a reply"
            )
    by_name = {row["name"]: row for row in rows}
    figures: dict[str, Any] = {"runs": rows}
    bot, echo = by_name.get("bot"), by_name.get("echo bot")
    if bot and echo and echo["turns_per_s"]:
        figures["ratio_turns"] = bot["turns_per_s"] / echo["turns_per_s"]
        figures["ratio_messages"] = bot["messages_per_s"] / echo["messages_per_s"]
        figures["ratio_capacity"] = bot["turns_per_cpu_s"] / echo["turns_per_cpu_s"] if echo["turns_per_cpu_s"] else 0.0
        per_turn = bot["messages"] / bot["turns"] if bot["turns"] else 0.0
        print(
            f"\nbot / echo bot: turns/s x{figures['ratio_turns']:.2f}, turns per CPU-second x{figures['ratio_capacity']:.2f}"
            f" (target >= 0.5), messages/s x{figures['ratio_messages']:.2f} (the bot sends {per_turn:.1f} messages per turn, the echo 1)."
            f"\nbot vs Telegram's ~30 messages/s per bot: x{bot['messages_per_s'] / 30:.1f} as measured here,"
            f" x{bot['turns_per_cpu_s'] * per_turn / 30:.1f} on one free core"
        )
    limited = by_name.get("bot, limiter on")
    if limited:
        burst = " (too few messages to reach it: the limiter lets a first burst of 30 through)" if limited["messages"] < 120 else ""
        print(f"bot with AIORateLimiter on: {limited['messages_per_s']:.0f} msgs/s, capped by Telegram's limits by design (30 requests/s overall){burst}")
    for result in results:
        for failure in result.failures[:5]:
            print(f"  ! {result.name}: {failure}")
        if len(result.failures) > 5:
            print(f"  ! {result.name}: ... {len(result.failures) - 5} more")
        if result.truncated:
            print(f"  ! {result.name}: stopped at the deadline; figures cover the turns completed")
    return figures


def print_profile(path: Path, limit: int = 25) -> None:
    """The bot process's hottest functions, by own time and by cumulative time."""
    import pstats

    stats = pstats.Stats(str(path))
    stats.strip_dirs().sort_stats("tottime").print_stats(limit)
    stats.sort_stats("cumulative").print_stats(limit)


# ---------------------------------------------------------------- entry points


def targets(users: int, steps: int, limited_users: int, limited_steps: int, deadline: float, profile: Path | None) -> list[Target]:
    script = BOT_SCRIPT[:steps]
    return [
        Target("bot", "bot", script, users, rate_limiter=False, deadline=deadline, paced_rate=PACED_RATE, profile_to=profile),
        Target("echo bot", "echo", echo_script(script), users, rate_limiter=False, deadline=deadline, paced_rate=PACED_RATE),
        Target("bot, limiter on", "bot", BOT_SCRIPT[:limited_steps], limited_users, rate_limiter=True, deadline=deadline),
    ]


async def run(chosen: Sequence[Target]) -> list[RunResult]:
    results = []
    for target in chosen:
        print(f"  running {target.name}: {target.users} people x {len(target.script)} steps (limiter {'on' if target.rate_limiter else 'off'}) ...", flush=True)
        try:
            results.append(await run_target(target))
        except BenchmarkError as error:
            print(f"  ! {target.name} gave no figures: {error}")
    return results


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--users", type=int, default=500, help="simulated people at once (default 500)")
    parser.add_argument("--steps", type=int, default=DEFAULT_STEPS, help=f"steps of the conversation each person takes (default {DEFAULT_STEPS}, max {len(BOT_SCRIPT)})")
    parser.add_argument("--limited-users", type=int, default=100, help="people in the rate-limited run (default 100)")
    parser.add_argument("--limited-steps", type=int, default=2, help="steps each takes in the rate-limited run (default 2)")
    parser.add_argument("--deadline", type=float, default=60.0, help="seconds of load after which people stop starting new turns (default 60)")
    parser.add_argument("--only", choices=["bot", "echo", "limited"], action="append", help="run only these variants")
    parser.add_argument("--profile", nargs="?", const="", metavar="FILE", help="run the bot under cProfile, print where its time goes (and keep the stats in FILE)")
    args = parser.parse_args(argv)
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    check_echo_matches_bot()
    steps = max(1, min(args.steps, len(BOT_SCRIPT)))
    with tempfile.TemporaryDirectory(prefix="alumaura-profile-") as profile_dir:
        profiled = Path(args.profile) if args.profile else Path(profile_dir) / "bot.prof"
        limited_steps = max(1, min(args.limited_steps, len(BOT_SCRIPT)))
        chosen = targets(args.users, steps, args.limited_users, limited_steps, args.deadline, profiled if args.profile is not None else None)
        names = {"bot": "bot", "echo": "echo bot", "limited": "bot, limiter on"}
        if args.only:
            chosen = [target for target in chosen if target.name in {names[o] for o in args.only}]
        print(f"end-to-end benchmark: real bot process <-> loopback Bot API stand-in <-> simulated people (closed loop)")
        results = asyncio.run(run(chosen))
        print()
        figures = report(results)
        if args.profile is not None and profiled.exists():
            print("\nbot process profile (under load):")
            print_profile(profiled)
    return figures


if __name__ == "__main__":
    main()
