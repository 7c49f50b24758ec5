"""What arrives from Telegram, made safe before python-telegram-bot and the bot read it.

Two kinds of odd update could stop the bot for everyone:

* an update python-telegram-bot cannot read (a field of an unexpected type): its
  getUpdates raises for the whole batch, the updater logs it and asks for the same batch
  again, forever, and the webhook answers 400, so Telegram delivers it again. Here it is
  replaced by an empty update with the same id, which the channel ignores and confirms.
* a lone UTF-16 surrogate (JSON allows `"\\ud800"`): no valid text contains one, and it
  cannot be encoded as UTF-8, so storing the update or replying would fail. It becomes
  U+FFFD, the replacement character, wherever it occurs.

Log lines name the update id and the error type, never what the update says.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Final

from telegram import Bot, Update
from telegram.request import HTTPXRequest

LOGGER: Final = logging.getLogger("bot.telegram.updates")
LONE_SURROGATE: Final = re.compile("[\ud800-\udfff]")
# A lone surrogate can only arrive as a JSON escape: raw UTF-8 cannot encode one.
_SURROGATE_ESCAPES: Final = (b"\\ud", b"\\uD")
# getUpdates' own connection, as python-telegram-bot's builder makes it: one request at a time.
GET_UPDATES_POOL: Final = 1

JSON = dict[str, Any]


def may_hold_surrogates(payload: bytes) -> bool:
    """Cheap test on the raw body: only then is the parsed data walked (valid pairs are joined by json)."""
    return any(escape in payload for escape in _SURROGATE_ESCAPES)


def without_lone_surrogates(value: Any) -> Any:
    """`value` (parsed JSON) with every lone surrogate in its strings and keys replaced by U+FFFD."""
    if isinstance(value, str):
        return LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [without_lone_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {without_lone_surrogates(key): without_lone_surrogates(item) for key, item in value.items()}
    return value


def update_id_of(data: object) -> int | None:
    """The update id of Bot API JSON, or None when it is not an update at all."""
    if not isinstance(data, dict):
        return None
    value = data.get("update_id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _parsed(data: JSON, update_id: int, bot: Bot | None) -> Update | None:
    try:
        return Update.de_json(data, bot)
    except Exception as error:  # noqa: BLE001 - any failure of the library's parser means "unreadable"
        LOGGER.warning("update=%s unreadable error=%s; skipped", update_id, type(error).__name__)
        return None


def readable(data: object, bot: Bot | None = None) -> Update | None:
    """The update python-telegram-bot makes of `data`; an empty one with the same id when it cannot read it.

    None when `data` has no update id (nothing to confirm, nothing to handle).
    """
    update_id = update_id_of(data)
    if update_id is None or not isinstance(data, dict):
        return None
    return _parsed(data, update_id, bot) or Update(update_id)


def readable_batch(result: list[Any]) -> list[Any]:
    """A getUpdates result in which every update python-telegram-bot cannot read is an empty one (same id)."""
    batch: list[Any] = []
    for item in result:
        update_id = update_id_of(item)
        if update_id is None:
            continue
        batch.append(item if _parsed(item, update_id, None) is not None else {"update_id": update_id})
    return batch


class UpdatesRequest(HTTPXRequest):
    """The getUpdates connection: cleans the surrogates and unsticks a batch python-telegram-bot could not read.

    Reading every update twice would double the parsing cost of each one, so a batch is
    checked update by update only when it comes back: the updater asks for the same batch
    again only after it failed to read it (otherwise it confirmed it with its offset). Should
    it come back once more all the same, its first update is skipped, so polling always moves on.
    """

    def __init__(self, **options: Any) -> None:
        options.setdefault("connection_pool_size", GET_UPDATES_POOL)
        super().__init__(**options)
        self._last_first_id: int | None = None
        self._repeats = 0

    def parse_json_payload(self, payload: bytes) -> JSON:
        """python-telegram-bot's parse, then the checks described on the class."""
        data = super().parse_json_payload(payload)
        if may_hold_surrogates(payload):
            data = without_lone_surrogates(data)
        result = data.get("result") if isinstance(data, dict) and data.get("ok") else None
        if not isinstance(result, list) or not result:
            return data
        first = update_id_of(result[0])
        self._repeats = self._repeats + 1 if first is not None and first == self._last_first_id else 0
        self._last_first_id = first
        if self._repeats:
            data["result"] = readable_batch(result)
        if self._repeats > 1 and first is not None:
            LOGGER.error("update=%s could not be taken by python-telegram-bot; skipped", first)
            data["result"][0] = {"update_id": first}
        return data
