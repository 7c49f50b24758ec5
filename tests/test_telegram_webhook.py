"""Webhook mode: the bot's own tornado server, registered with the secret token, refusing strangers unread."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from pathlib import Path

import pytest
from aiohttp import ClientSession

from bot.config import Settings, load_settings
from bot.errors import ConfigError

from bot.telegram.application import (
    Webhook,
    build_application,
    derive_webhook_secret,
    file_base_url,
    start_application,
    stop_application,
    webhook_from_settings,
    webhook_path,
)
from tests.botapi_standin import BotApiStandIn
from tests.telegram_helpers import FakeEngine, make_settings, standin  # noqa: F401


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_webhook_mode_answers_telegram_and_refuses_anyone_without_the_secret(standin: BotApiStandIn, tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/alumaura-hook"
    settings = make_settings(standin, tmp_path, webhook_url=url, webhook_listen="127.0.0.1", webhook_port=port, webhook_secret="s3cret-Token")
    webhook = webhook_from_settings(settings)
    assert webhook == Webhook(url=url, listen="127.0.0.1", port=port, secret_token="s3cret-Token")
    application = build_application(settings, FakeEngine())
    await start_application(application, webhook)
    try:
        assert standin.webhook["url"] == url and standin.webhook["secret_token"] == "s3cret-Token"
        asha = standin.new_user("Asha")
        standin.user_sends(asha, "hello")
        (reply,) = await standin.wait_for_messages(asha.id, 1)
        assert reply.text == "echo text: hello"

        forged = {"update_id": 1, "message": {"message_id": 9, "date": 1, "chat": {"id": asha.id, "type": "private"}, "text": "hi"}}
        async with ClientSession() as session:
            async with session.post(url, json=forged) as response:
                assert response.status == 403
            async with session.post(url, json=forged, headers={"X-Telegram-Bot-Api-Secret-Token": "guess"}) as response:
                assert response.status == 403
    finally:
        await stop_application(application)
    assert len(standin.events_in(asha.id)) == 1, "forged updates were never processed"
    assert standin.webhook_posts == [200]


def test_an_unset_webhook_secret_is_derived_so_the_webhook_is_never_open(standin: BotApiStandIn, tmp_path: Path) -> None:
    settings = make_settings(standin, tmp_path, webhook_url="https://bot.example.org/tg/hook")
    webhook = webhook_from_settings(settings)
    assert webhook is not None
    assert webhook.secret_token == derive_webhook_secret(standin.token) and len(webhook.secret_token) >= 32
    assert webhook_path(webhook.url) == "tg/hook"
    assert webhook_from_settings(make_settings(standin, tmp_path)) is None


def test_a_local_bot_api_server_gets_its_file_url() -> None:
    assert file_base_url("http://127.0.0.1:8081/bot") == "http://127.0.0.1:8081/file/bot"
    assert file_base_url("http://127.0.0.1:8081/bot/") == "http://127.0.0.1:8081/file/bot"


async def test_a_big_post_is_refused_before_its_body_is_read(standin: BotApiStandIn, tmp_path: Path) -> None:
    """A stranger declaring 100 MB gets 413 while almost none of it was sent: the server never waited to read it."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/alumaura-hook"
    settings = make_settings(standin, tmp_path, webhook_url=url, webhook_listen="127.0.0.1", webhook_port=port, webhook_secret="s3cret-Token")
    webhook = webhook_from_settings(settings)
    assert webhook is not None
    application = build_application(settings, FakeEngine())
    await start_application(application, webhook)
    try:
        for secret in ("s3cret-Token", None, "guess"):
            assert await first_status_line(port, declared=100 * 1024 * 1024, sent=64 * 1024, secret=secret) == b"HTTP/1.1 413 Request Entity Too Large"
        asha = standin.new_user("Asha")
        standin.user_sends(asha, "hello")
        (reply,) = await standin.wait_for_messages(asha.id, 1)
    finally:
        await stop_application(application)
    assert reply.text == "echo text: hello", "the webhook still serves Telegram"


async def test_a_chunked_body_beyond_the_cap_is_cut_off_unread(standin: BotApiStandIn, tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/alumaura-hook"
    engine = FakeEngine()
    application = build_application(make_settings(standin, tmp_path), engine)
    await start_application(application, Webhook(url=url, listen="127.0.0.1", port=port, secret_token="s3cret-Token"))
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        head = "POST /alumaura-hook HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n"
        head += "X-Telegram-Bot-Api-Secret-Token: s3cret-Token\r\nTransfer-Encoding: chunked\r\n\r\n"
        writer.write(head.encode())
        chunk = b"10000\r\n" + b" " * 0x10000 + b"\r\n"
        with contextlib.suppress(ConnectionError):
            for _ in range(40):  # 2.5 MiB
                writer.write(chunk)
                await writer.drain()
        with contextlib.suppress(ConnectionError):
            answer = await asyncio.wait_for(reader.read(), 10)
            assert not answer.startswith(b"HTTP/1.1 200"), answer[:80]
        writer.close()
    finally:
        await stop_application(application)
    assert engine.handled == []


async def first_status_line(port: int, *, declared: int, sent: int, secret: str | None) -> bytes:
    """POST a body declared `declared` bytes long, send only `sent` of it, and read the status line."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = f"POST /alumaura-hook HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\nContent-Length: {declared}\r\n"
    if secret is not None:
        head += f"X-Telegram-Bot-Api-Secret-Token: {secret}\r\n"
    writer.write(head.encode() + b"\r\n" + b"{" + b" " * (sent - 1))
    try:
        return (await asyncio.wait_for(reader.readline(), 10)).rstrip(b"\r\n")
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


def test_the_webhook_listens_on_localhost_unless_told_otherwise() -> None:
    assert Settings.model_fields["webhook_listen"].default == "127.0.0.1"


@pytest.mark.parametrize("secret", ["has space", "ümlaut", "x" * 257, "semi;colon"])
def test_a_webhook_secret_telegram_would_refuse_is_one_line_at_start(secret: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(_env_file=None, webhook_secret=secret)
    assert raised.value.problems == ["WEBHOOK_SECRET must be 1 to 256 characters, each A-Z, a-z, 0-9, _ or - (what Telegram accepts)"]
    assert secret not in str(raised.value)


def test_a_webhook_secret_telegram_accepts_is_taken() -> None:
    settings = load_settings(_env_file=None, webhook_secret="A-z_09" * 40)
    assert settings.webhook_secret is not None and len(settings.webhook_secret.get_secret_value()) == 240
