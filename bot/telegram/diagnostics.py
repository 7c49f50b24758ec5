"""Telegram checks for `python -m bot doctor`: token, staff group, rights, webhook."""

from __future__ import annotations

from typing import Literal

from telegram import Bot
from telegram.error import Forbidden, InvalidToken, NetworkError, TelegramError

from bot.config import Settings

Finding = tuple[Literal["ok", "warn", "fail"], str]


def _bot(settings: Settings) -> Bot:
    assert settings.telegram_bot_token is not None
    token = settings.telegram_bot_token.get_secret_value()
    if settings.telegram_base_url:
        return Bot(token, base_url=settings.telegram_base_url)
    return Bot(token)


async def diagnose_telegram(settings: Settings) -> list[Finding]:
    """Ask the Bot API what it knows; never prints the token."""
    findings: list[Finding] = []
    bot = _bot(settings)
    try:
        async with bot:
            me = bot.bot
            findings.append(("ok", f"The token is valid: the bot is @{me.username}."))
            await _staff_checks(bot, settings, findings)
            await _webhook_checks(bot, settings, findings)
    except InvalidToken:
        findings.append(("fail", "Telegram rejects the token: copy it again from BotFather."))
    except (Forbidden, TelegramError) as error:
        if isinstance(error, NetworkError):
            findings.append(("fail", f"Telegram cannot be reached ({type(error).__name__}); check the network or TELEGRAM_BASE_URL."))
        else:
            findings.append(("fail", f"Telegram refused a check: {error.message}"))
    return findings


async def _staff_checks(bot: Bot, settings: Settings, findings: list[Finding]) -> None:
    if settings.staff_chat_id is None:
        return
    try:
        chat = await bot.get_chat(settings.staff_chat_id)
    except TelegramError as error:
        findings.append(("fail", f"The staff group {settings.staff_chat_id} cannot be reached: {error.message}. Is the bot a member?"))
        return
    except Exception as error:  # noqa: BLE001 - e.g. a Bot API server answering in a form the library does not know
        findings.append((
            "warn",
            f"The staff group's details could not be read ({type(error).__name__}): the bot posts there as in a "
            "plain group, without topics. Check TELEGRAM_BASE_URL's Bot API server and python-telegram-bot versions.",
        ))
        return
    findings.append(("ok", f"The staff group is reachable: {chat.title or chat.id}."))
    member = await bot.get_chat_member(settings.staff_chat_id, bot.bot.id)
    if member.status != "administrator":
        findings.append(("warn", "The bot is not an admin of the staff group: make it one so it can post and manage topics."))
    if chat.is_forum:
        can_manage = bool(getattr(member, "can_manage_topics", False))
        if can_manage:
            findings.append(("ok", "The staff group is a forum and the bot can create topics: one topic per person."))
        else:
            findings.append(("fail", "The staff group is a forum but the bot cannot manage topics: give it that right."))
    else:
        findings.append(("ok", "The staff group is a plain group: handoff messages carry a header saying who they are from."))


async def _webhook_checks(bot: Bot, settings: Settings, findings: list[Finding]) -> None:
    info = await bot.get_webhook_info()
    if settings.webhook_url:
        if info.url != settings.webhook_url:
            findings.append(("warn", "Telegram's webhook is not yet set to WEBHOOK_URL; it is set when the bot starts."))
        elif info.last_error_message:
            findings.append(("warn", f"Telegram reports a webhook error: {info.last_error_message}"))
        else:
            findings.append(("ok", "The webhook is set and Telegram reports no error."))
    elif info.url:
        findings.append(("warn", "A webhook is set at Telegram but WEBHOOK_URL is empty; polling will remove it on start."))
