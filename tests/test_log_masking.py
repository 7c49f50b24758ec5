"""The logs never show the bot's secrets, at any level, and never a library's payload at INFO.

The secrets are the token (python-telegram-bot logs its API URL, which holds it, at DEBUG;
httpx logs every request URL), the webhook secret (logged with setWebhook's parameters) and
the encryption key. The real python-telegram-bot runs against the stand-in Bot API with the
root logger at DEBUG, httpx included, and everything written is read back.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import signal
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import ClientSession
from cryptography.fernet import Fernet

from bot.config import REPO_ROOT
from bot.logs import QUIET_LIBRARIES, configure_logging
from bot.telegram.application import Webhook, build_application, derive_webhook_secret, start_application, stop_application
from tests.botapi_standin import BotApiStandIn
from tests.telegram_helpers import FakeEngine, make_settings, standin  # noqa: F401 - the fixture

TOKEN = "987654321:AAF-sEcReT_tokenpart-0123456789abcde"
WEBHOOK_SECRET = "hook-secret-Kx81"
DATA_KEY = Fernet.generate_key().decode()
PAYLOAD_PHRASE = "marmalade lighthouse 4711"


class Captured:
    """What two root handlers wrote: one at DEBUG (everything) and one at INFO (what production shows)."""

    def __init__(self) -> None:
        self.debug = io.StringIO()
        self.info = io.StringIO()

    def everything(self) -> str:
        return self.debug.getvalue()

    def at_info(self) -> str:
        return self.info.getvalue()


@pytest.fixture
def captured() -> Iterator[Captured]:
    """configure_logging at DEBUG with the secrets, writing to buffers; the root logger restored after."""
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in ("", *QUIET_LIBRARIES)}
    out = Captured()
    info_handler = logging.StreamHandler(out.info)
    info_handler.setLevel(logging.INFO)
    info_handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root.addHandler(info_handler)  # added first: configure_logging must filter every root handler
    added = configure_logging("DEBUG", [TOKEN, WEBHOOK_SECRET, DATA_KEY, None], stream=out.debug)
    try:
        yield out
    finally:
        for handler in (info_handler, added):
            if handler is not None:
                root.removeHandler(handler)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def listening(port: int, attempts: int = 300) -> None:
    """Wait until something accepts connections on 127.0.0.1:port."""
    for _ in range(attempts):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        await writer.wait_closed()
        return
    raise AssertionError(f"nothing listens on port {port}")


def test_secrets_are_masked_in_messages_arguments_and_tracebacks_at_every_level(captured: Captured) -> None:
    log = logging.getLogger("telegram.ext.ExtBot")
    log.debug("Set Bot API URL: %s", f"https://api.telegram.org/bot{TOKEN}")
    log.debug("url %s/getMe", f"https://api.telegram.org/bot{TOKEN.replace(':', '%3A')}")
    logging.getLogger("bot.telegram").warning(f"settings key={DATA_KEY} secret={WEBHOOK_SECRET}")
    try:
        raise RuntimeError(f"POST https://api.telegram.org/bot{TOKEN}/setWebhook secret_token={WEBHOOK_SECRET}")
    except RuntimeError:
        logging.getLogger("telegram.ext.Updater").exception("polling failed")
    logging.getLogger("somewhere").error("another bot's token 1234567:%s", "A" * 35, stack_info=True)
    written = captured.everything() + captured.at_info()
    for secret in (TOKEN, "sEcReT_tokenpart", TOKEN.replace(":", "%3A"), WEBHOOK_SECRET, DATA_KEY, "A" * 35):
        assert secret not in written
    assert "Set Bot API URL: https://api.telegram.org/bot***" in written, "the line is kept, the token masked"
    assert "RuntimeError: POST https://api.telegram.org/bot***/setWebhook secret_token=***" in written
    assert "Traceback" in captured.at_info(), "the traceback itself is still written"


def test_a_librarys_payload_is_withheld_at_info_but_the_bots_decisions_are_kept(captured: Captured) -> None:
    update = {"update_id": 7, "message": {"text": f"he texts {PAYLOAD_PHRASE} every night"}}
    logging.getLogger("telegram.ext.Application").critical("Error while building CallbackContext for update %s.", update)
    logging.getLogger("telegram.Bot").critical("Error while parsing updates! Received data was %r", [update])
    logging.getLogger("telegram.request").error('Can not load invalid JSON data: "%s"', f"{update}" * 3)
    logging.getLogger("telegram.ext.AIORateLimiter").info("Rate limit hit. Retrying after %f seconds", 1.5)
    logging.getLogger("bot.engine").info("turn user=%s route=%s intent=%s", "3f2a9c1b", "faq", "rebuild_trust")
    logging.getLogger("telegram.ext.Application").debug("Processing update %s", update)
    at_info = captured.at_info()
    assert PAYLOAD_PHRASE not in at_info
    assert "Error while building CallbackContext for update <withheld dict>." in at_info
    assert "Received data was <withheld list>" in at_info
    assert "Retrying after 1.500000 seconds" in at_info, "numbers are no payload"
    assert "turn user=3f2a9c1b route=faq intent=rebuild_trust" in at_info, "the bot's own lines are untouched"
    assert PAYLOAD_PHRASE in captured.everything(), "at DEBUG, a library may show what it received"


def test_a_record_whose_arguments_do_not_fit_is_still_written_and_never_breaks_the_caller(captured: Captured) -> None:
    logging.getLogger("bot.engine").warning("two %s %s", TOKEN)
    assert "two %s %s <arguments not shown" in captured.at_info()
    assert TOKEN not in captured.everything()


async def test_python_telegram_bot_at_debug_never_writes_the_token_or_the_webhook_secret(
    standin: BotApiStandIn,  # noqa: F811
    tmp_path: Path,
    captured: Captured,
) -> None:
    """A real webhook bot: set up, one person answered, one malformed update refused, stopped."""
    configure_logging("DEBUG", [standin.token])
    for name in QUIET_LIBRARIES:  # even if a library logs its request URLs, the token is masked
        logging.getLogger(name).setLevel(logging.DEBUG)
    port = free_port()
    url = f"http://127.0.0.1:{port}/alumaura-hook"
    settings = make_settings(standin, tmp_path, webhook_url=url, webhook_listen="127.0.0.1", webhook_port=port, webhook_secret=WEBHOOK_SECRET)
    application = build_application(settings, FakeEngine())
    await start_application(application, Webhook(url=url, listen="127.0.0.1", port=port, secret_token=WEBHOOK_SECRET))
    try:
        asha = standin.new_user("Asha")
        standin.user_sends(asha, "hello")
        (reply,) = await standin.wait_for_messages(asha.id, 1)
        assert reply.text == "echo text: hello"
        # An update that cannot be read (python-telegram-bot alone logs what it received, at CRITICAL).
        broken = {"update_id": 99, "message": {"message_id": 1, "date": 1, "chat": PAYLOAD_PHRASE, "text": PAYLOAD_PHRASE}}
        async with ClientSession() as session:
            async with session.post(url, json=broken, headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}) as response:
                assert response.status < 500
    finally:
        await stop_application(application)
    everything = captured.everything()
    assert "HTTP Request: POST" in everything and "setWebhook" in everything, "the requests were logged (else this proves nothing)"
    assert f"Set Bot API URL: {standin.base_url}***" in everything, "the URL is kept, with the token masked"
    for secret in (standin.token, standin.token.split(":")[1], WEBHOOK_SECRET):
        assert secret not in everything
    assert PAYLOAD_PHRASE not in captured.at_info()


async def test_the_run_command_at_debug_masks_the_token_and_the_derived_webhook_secret(standin: BotApiStandIn, tmp_path: Path) -> None:  # noqa: F811
    """`python -m bot run` in webhook mode without WEBHOOK_SECRET: the secret it derives is masked too."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("TELEGRAM_", "WEBHOOK_", "STAFF_", "DATABASE_", "CONTENT_"))}
    env.update(
        PYTHONPATH=str(REPO_ROOT),
        TELEGRAM_BOT_TOKEN=standin.token,
        TELEGRAM_BASE_URL=standin.base_url,
        WEBHOOK_URL=f"http://127.0.0.1:{port}/hook",
        WEBHOOK_LISTEN="127.0.0.1",
        WEBHOOK_PORT=str(port),
        DATABASE_PATH=str(tmp_path / "bot.sqlite3"),
        LOG_LEVEL="DEBUG",
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        await standin.wait_until(lambda: bool(standin.webhook), timeout=30)
        await listening(port)  # python-telegram-bot registers the webhook before its server listens
        asha = standin.new_user("Asha")
        standin.user_sends(asha, "/start")
        await standin.wait_for_messages(asha.id, 1, timeout=15)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
    log = stderr.decode()
    assert process.returncode == 0, log[-2000:]
    assert "Set Bot API URL" in log and "setWebhook" in log, "DEBUG lines were written (else this proves nothing)"
    derived = derive_webhook_secret(standin.token)
    assert standin.webhook["secret_token"] == derived
    for secret in (standin.token, standin.token.split(":")[1], derived):
        assert secret not in log
