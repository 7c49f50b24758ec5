"""`python -m bot doctor`: it says in plain words what is wrong with a deployment."""

from __future__ import annotations

import io
from pathlib import Path

from bot.catalog.loader import Catalog
from bot.catalog.models import CentreTopic
from bot.doctor import centre_placeholders, run_doctor
from tests.botapi_standin import BOT_ID, BotApiStandIn, TgUser
from tests.conftest import make_settings
from tests.telegram_helpers import make_settings as standin_settings
from tests.telegram_helpers import standin  # noqa: F401 - fixture


async def doctor(settings) -> tuple[int, str]:  # noqa: ANN001
    out = io.StringIO()
    code = await run_doctor(settings, out)
    return code, out.getvalue()


async def test_a_fresh_terminal_setup_is_not_broken_but_lists_what_to_fill_in(tmp_path: Path) -> None:
    code, report = await doctor(make_settings(tmp_path))
    assert code == 0
    assert "✓ The content is valid" in report
    assert "schema version" in report and "writable" in report
    assert "TELEGRAM_BOT_TOKEN is not set" in report
    assert "placeholders" in report, "the centre is reminded to fill in its details"
    assert "crisis lines" in report, "and to confirm the crisis lines"


async def test_placeholders_left_in_the_centre_topic_facts_are_named(tmp_path: Path, catalog: Catalog) -> None:
    _, report = await doctor(make_settings(tmp_path))
    assert "topics.fees.fact" in report, "the shipped fees fact is a placeholder"
    topics = {
        "fees": CentreTopic(fact="₹2,000 for 50 minutes", fact_in={"hi": "[placeholder: Hindi fee]"}, words=["fees"]),
        "online": CentreTopic(fact="[Placeholder: online]", words=["online"]),
        "location": CentreTopic(words=["where"]),
    }
    filled = catalog.centre.model_copy(update={"address": "12 MG Road", "topics": topics})
    found = centre_placeholders(filled)
    assert "address" not in found and "topics.fees.fact" not in found, "a filled-in detail is not flagged"
    assert "topics.fees.fact_in.hi" in found and "topics.online.fact" in found
    assert not any(name.startswith("topics.location") for name in found), "a topic without a fact has nothing to fill"


async def test_bad_configuration_is_named(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path, webhook_url="http://example.org/hook", data_encryption_key="not-a-key", database_path=tmp_path
    )
    code, report = await doctor(settings)
    assert code == 1
    assert "✗ WEBHOOK_URL must be an https:// address" in report
    assert "✗ WEBHOOK_SECRET is not set" in report
    assert "✗ DATA_ENCRYPTION_KEY is not a valid Fernet key" in report
    assert "✗ The database at" in report


async def test_telegram_checks_token_staff_group_and_topic_rights(standin: BotApiStandIn, tmp_path: Path) -> None:  # noqa: F811
    group = standin.add_group("Staff", forum=True)
    bot_user = TgUser(id=BOT_ID, first_name="bot")
    standin.add_member(group, bot_user, "administrator")
    code, report = await doctor(standin_settings(standin, tmp_path, staff_chat_id=group.id))
    assert code == 0, report
    assert f"✓ The token is valid: the bot is @{standin.bot_username}" in report
    assert "✓ The staff group is reachable" in report
    assert "can create topics" in report
    assert standin.token not in report


async def test_a_forum_without_topic_rights_and_a_wrong_token_are_failures(standin: BotApiStandIn, tmp_path: Path) -> None:  # noqa: F811
    group = standin.add_group("Staff", forum=True)
    standin.add_member(group, TgUser(id=BOT_ID, first_name="bot"), "member")
    code, report = await doctor(standin_settings(standin, tmp_path, staff_chat_id=group.id))
    assert code == 1
    assert "not an admin" in report and "cannot manage topics" in report
    wrong = standin_settings(standin, tmp_path, telegram_bot_token="999:WRONG")
    code, report = await doctor(wrong)
    assert code == 1 and "rejects the token" in report
