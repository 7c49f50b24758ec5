"""Webhook mode: python-telegram-bot's own server, registered with the secret token, refusing strangers."""

from __future__ import annotations

import socket
from pathlib import Path

from aiohttp import ClientSession

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
