"""A stand-in for the Telegram Bot API, served over HTTP on 127.0.0.1 by the tests themselves.

It answers the way Telegram does where the bot can notice the difference: getUpdates
long-polls and honours offset, limit, timeout and allowed_updates (and a second poller
ends the first with 409); dates are Unix seconds; sendMessage refuses empty or over-long
texts (counted in UTF-16 units, as Telegram does), callback data over 64 bytes, bad
HTML/MarkdownV2, and answers 403 for a person who blocked the bot; editMessageText
returns the edited message and refuses an identical edit with 400 "message is not
modified". Parameters arrive as JSON or form data (python-telegram-bot sends form data,
with objects such as reply_markup as JSON strings).

Tests play the people: `user_sends`, `user_presses`, `user_sends_media`, `user_edits`,
`group_message`; then read what a person would see (`shown`, `events`, `answered_queries`)
or wait for it. A `FaultPlan` answers chosen calls with 429 + retry_after, 500, 401, a dropped
connection (never processed, so a retry is not a duplicate) or a slow answer, and can take
the whole sending side down for a while (`outage`). `raw_update` hands the bot any JSON as
an update (one python-telegram-bot cannot read, odd characters).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
import re
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from aiohttp import ClientSession, ClientTimeout, web

JSON = dict[str, Any]
MAX_TEXT_UNITS: Final = 4096
MAX_CALLBACK_BYTES: Final = 64
DEFAULT_TOKEN: Final = "123456789:STANDIN-token-for-tests"
BOT_ID: Final = 123456789

# Bot API parameters that are strings; every other form value is JSON (python-telegram-bot json.dumps them).
STRING_FIELDS: Final = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "url",
        "secret_token",
        "name",
        "action",
        "language_code",
        "inline_message_id",
        "icon_custom_emoji_id",
        "ip_address",
        "business_connection_id",
    }
)
NOT_MODIFIED: Final = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD: Final = "Bad Request: query is too old and response timeout expired or query ID is invalid"


class ApiError(Exception):
    """A Bot API error answer: HTTP status = error_code, with Telegram's description."""

    def __init__(self, code: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


def utf16_units(text: str) -> int:
    """Telegram's message length: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def now_seconds() -> int:
    """Bot API dates are Unix time in whole seconds."""
    return int(time.time())


# ---------------------------------------------------------------- entity parsing checks

_HTML_TAGS: Final = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a", "code", "pre", "blockquote", "tg-emoji"}
)
_HTML_TAG = re.compile(r"<(/?)([a-z-]+)((?:\s+[a-z-]+(?:=\"[^\"]*\"|='[^']*')?)*)\s*>")
_HTML_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")
_MDV2_RESERVED: Final = frozenset("_*[]()~`>#+-=|{}.!")
_MDV2_FORMAT: Final = frozenset("_*~`|")


def html_problem(text: str) -> str | None:
    """Why Telegram would refuse `text` with parse_mode=HTML, or None."""
    stack: list[str] = []
    position = 0
    while position < len(text):
        char = text[position]
        offset = len(text[:position].encode("utf-8"))
        if char == "<":
            match = _HTML_TAG.match(text, position)
            if match is None or match.group(2) not in _HTML_TAGS:
                return f"Bad Request: can't parse entities: Unsupported start tag at byte offset {offset}"
            closing, name = match.group(1), match.group(2)
            if closing:
                if not stack or stack[-1] != name:
                    return f"Bad Request: can't parse entities: Unexpected end tag at byte offset {offset}"
                stack.pop()
            else:
                stack.append(name)
            position = match.end()
            continue
        if char == "&" and _HTML_ENTITY.match(text, position) is None:
            return f"Bad Request: can't parse entities: Can't find end of the entity starting at byte offset {offset}"
        position += 1
    if stack:
        return f"Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"{stack[-1]}\""
    return None


def markdown_v2_problem(text: str) -> str | None:
    """Why Telegram would refuse `text` with parse_mode=MarkdownV2, or None (a reasonable subset)."""
    open_marks: dict[str, int] = {}
    escaped = False
    for char in text:
        if escaped:
            escaped = False
            continue
        if char == "\\":
            escaped = True
            continue
        if char in _MDV2_FORMAT:
            open_marks[char] = open_marks.get(char, 0) ^ 1
        elif char in _MDV2_RESERVED:
            return f"Bad Request: can't parse entities: Character '{char}' is reserved and must be escaped with the preceding '\\'"
    unclosed = [mark for mark, state in open_marks.items() if state]
    if unclosed:
        return f"Bad Request: can't parse entities: Can't find end of {unclosed[0]} entity"
    return None


# ---------------------------------------------------------------- faults


@dataclass(frozen=True)
class Fault:
    """How to misbehave on one call."""

    kind: Literal["flood", "server_error", "drop", "slow", "bad_request", "unauthorized"]
    retry_after: int = 1
    delay: float = 0.0
    description: str = ""

    @classmethod
    def flood(cls, retry_after: int = 1) -> Fault:
        return cls("flood", retry_after=retry_after)

    @classmethod
    def server_error(cls) -> Fault:
        return cls("server_error")

    @classmethod
    def unauthorized(cls) -> Fault:
        """401, what Telegram answers for a revoked token."""
        return cls("unauthorized")

    @classmethod
    def drop(cls) -> Fault:
        return cls("drop")

    @classmethod
    def slow(cls, delay: float) -> Fault:
        return cls("slow", delay=delay)

    @classmethod
    def bad_request(cls, description: str = "Bad Request: message can't be edited") -> Fault:
        return cls("bad_request", description=description)


@dataclass
class FaultPlan:
    """Which calls misbehave: scripted per method (next N calls), plus a random share of some methods."""

    script: dict[str, deque[Fault]] = field(default_factory=dict)
    share: float = 0.0
    methods: frozenset[str] = frozenset({"sendmessage", "editmessagetext", "answercallbackquery"})
    mix: tuple[Fault, ...] = (Fault.flood(1), Fault.server_error(), Fault.drop())
    seed: int = 7
    injected: list[tuple[str, str]] = field(default_factory=list)
    # An outage: until this time.monotonic(), every method but `spared` answers 500.
    down_until: float = 0.0
    spared: frozenset[str] = frozenset({"getupdates"})

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def then(self, method: str, *faults: Fault) -> FaultPlan:
        """Answer the next calls of `method` with `faults`, in order."""
        self.script.setdefault(method.lower(), deque()).extend(faults)
        return self

    def outage(self, seconds: float, *, spared: frozenset[str] = frozenset({"getupdates"})) -> FaultPlan:
        """From now on, for `seconds`, every call but `spared` ones answers 500 (updates still arrive)."""
        self.down_until = time.monotonic() + seconds
        self.spared = frozenset(method.lower() for method in spared)
        return self

    @property
    def down(self) -> bool:
        """Whether an outage is going on."""
        return time.monotonic() < self.down_until

    def next_fault(self, method: str) -> Fault | None:
        """The fault for this call of `method`, if any (an outage, scripted, then the random share)."""
        if self.down and method not in self.spared:
            self.injected.append((method, "outage"))
            return Fault.server_error()
        queued = self.script.get(method)
        fault: Fault | None = None
        if queued:
            fault = queued.popleft()
        elif method in self.methods and self.share and self._rng.random() < self.share:
            fault = self._rng.choice(self.mix)
        if fault is not None:
            self.injected.append((method, fault.kind))
        return fault


# ---------------------------------------------------------------- people, chats, records


@dataclass(frozen=True)
class TgUser:
    """A person on Telegram."""

    id: int
    first_name: str
    username: str | None = None
    language_code: str = "en"

    def to_dict(self) -> JSON:
        data: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name, "language_code": self.language_code}
        if self.username:
            data["username"] = self.username
        return data


@dataclass
class ChatState:
    """A chat the stand-in knows: its messages (by id), forum topics, and whether it blocked the bot."""

    id: int
    type: str
    title: str | None = None
    first_name: str | None = None
    username: str | None = None
    is_forum: bool = False
    blocked: bool = False
    messages: dict[int, JSON] = field(default_factory=dict)
    topics: dict[int, str] = field(default_factory=dict)
    closed_topics: set[int] = field(default_factory=set)
    members: dict[int, str] = field(default_factory=dict)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def next_message_id(self) -> int:
        return next(self._ids)

    def to_dict(self) -> JSON:
        data: JSON = {"id": self.id, "type": self.type}
        for key in ("title", "first_name", "username"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        if self.is_forum:
            data["is_forum"] = True
        return data


@dataclass(frozen=True)
class Shown:
    """Something the bot showed in a chat: a new message ("sent") or a change to one ("edited")."""

    kind: Literal["sent", "edited"]
    chat_id: int
    message_id: int
    text: str
    buttons: tuple[tuple[str, ...], ...] = ()
    callback_data: tuple[tuple[str, ...], ...] = ()
    keyboard: tuple[tuple[str, ...], ...] = ()
    requests_contact: bool = False
    removes_keyboard: bool = False
    thread_id: int | None = None

    @property
    def labels(self) -> list[str]:
        """Every inline button label, in reading order."""
        return [label for row in self.buttons for label in row]


@dataclass(frozen=True)
class Call:
    """One Bot API call as received, and how it was answered."""

    method: str
    params: JSON
    outcome: str
    at: float


def _inline_rows(markup: JSON | None, key: str) -> tuple[tuple[str, ...], ...]:
    if not markup or "inline_keyboard" not in markup:
        return ()
    return tuple(tuple(str(button.get(key, "")) for button in row) for row in markup["inline_keyboard"])


def shown_from(kind: Literal["sent", "edited"], chat_id: int, message: JSON, markup: JSON | None) -> Shown:
    """What a person sees of a bot message, from the message and the markup it was sent with."""
    keyboard: tuple[tuple[str, ...], ...] = ()
    requests_contact = False
    if markup and "keyboard" in markup:
        keyboard = tuple(tuple(str(b.get("text", b) if isinstance(b, dict) else b) for b in row) for row in markup["keyboard"])
        requests_contact = any(isinstance(b, dict) and b.get("request_contact") for row in markup["keyboard"] for b in row)
    return Shown(
        kind=kind,
        chat_id=chat_id,
        message_id=int(message["message_id"]),
        text=str(message.get("text", "")),
        buttons=_inline_rows(markup, "text"),
        callback_data=_inline_rows(markup, "callback_data"),
        keyboard=keyboard,
        requests_contact=requests_contact,
        removes_keyboard=bool(markup and markup.get("remove_keyboard")),
        thread_id=message.get("message_thread_id"),
    )


# ---------------------------------------------------------------- parameter decoding


def decode_params(raw: Mapping[str, Any]) -> JSON:
    """Form values -> typed values: strings stay strings, everything else is JSON-decoded."""
    params: JSON = {}
    for key, value in raw.items():
        if not isinstance(value, str) or key in STRING_FIELDS:
            params[key] = value
            continue
        try:
            params[key] = json.loads(value)
        except ValueError:
            params[key] = value
    return params


def check_reply_markup(markup: Any) -> None:
    """Telegram's checks on reply_markup that a bot can trip over."""
    if markup is None:
        return
    if not isinstance(markup, dict):
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        for row in markup["inline_keyboard"]:
            for button in row:
                if not button.get("text"):
                    raise ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")
                data = button.get("callback_data")
                if data is not None and not (1 <= len(str(data).encode("utf-8")) <= MAX_CALLBACK_BYTES):
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                if data is None and not any(k in button for k in ("url", "login_url", "switch_inline_query", "web_app", "copy_text", "pay")):
                    raise ApiError(400, "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
    elif "keyboard" in markup:
        if not markup["keyboard"] or not all(row for row in markup["keyboard"]):
            raise ApiError(400, "Bad Request: keyboard must be non-empty")
    elif not (markup.get("remove_keyboard") or markup.get("force_reply")):
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")


def check_text(text: Any, parse_mode: Any) -> str:
    """The message text, or Telegram's 400 for empty, too long, or unparsable formatting."""
    if not isinstance(text, str) or not text.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    if utf16_units(text) > MAX_TEXT_UNITS:
        raise ApiError(400, "Bad Request: message is too long")
    problem = None
    if parse_mode == "HTML":
        problem = html_problem(text)
    elif parse_mode == "MarkdownV2":
        problem = markdown_v2_problem(text)
    if problem:
        raise ApiError(400, problem)
    return text


# ---------------------------------------------------------------- the server


class BotApiStandIn:
    """The Bot API on 127.0.0.1, for one bot, with people the tests control."""

    def __init__(self, token: str = DEFAULT_TOKEN, bot_username: str = "alumaura_test_bot", faults: FaultPlan | None = None) -> None:
        self.token = token
        self.bot_username = bot_username
        self.faults = faults or FaultPlan()
        self.calls: list[Call] = []
        self.chats: dict[int, ChatState] = {}
        self.events: list[Shown] = []
        self.commands: list[JSON] = []
        # Menus set for one chat (`BotCommandScopeChat`), by chat id.
        self.chat_commands: dict[int, list[JSON]] = {}
        self.answered_queries: dict[str, JSON] = {}
        self.webhook: JSON = {}
        self.webhook_posts: list[int] = []
        self._updates: list[JSON] = []
        self._last_update_id = 0
        self._confirmed_below = 0
        self._update_ids = itertools.count(1000)
        self._user_ids = itertools.count(10_001)
        self._group_ids = itertools.count(1)
        self._query_ids = itertools.count(5_000_000)
        self._topic_ids = itertools.count(100)
        self._open_queries: dict[str, int] = {}
        self._allowed_updates: list[str] | None = None
        self._poller: asyncio.Future[None] | None = None
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._closing = False
        self._webhook_queue: asyncio.Queue[JSON] = asyncio.Queue()
        self._webhook_task: asyncio.Task[None] | None = None

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> BotApiStandIn:
        """Serve on a free port of 127.0.0.1."""
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._dispatch)
        app.router.add_route("*", "/file/bot{token}/{path:.*}", self._file)
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.5, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        address = self._runner.addresses[0]
        self._port = int(address[1])
        return self

    async def close(self) -> None:
        """Stop serving; long polls in flight end at once."""
        self._closing = True
        self._notify()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            await asyncio.gather(self._webhook_task, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> BotApiStandIn:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        """What TELEGRAM_BASE_URL should be; python-telegram-bot appends the token."""
        return f"http://127.0.0.1:{self._port}/bot"

    @property
    def bot_user(self) -> JSON:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Alumaura (stand-in)",
            "username": self.bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    # ------------------------------------------------------------ people and chats

    def new_user(self, first_name: str = "Asha", username: str | None = None) -> TgUser:
        """A new person; their private chat with the bot exists from their first message."""
        user = TgUser(id=next(self._user_ids), first_name=first_name, username=username)
        return user

    def _private_chat(self, user: TgUser) -> ChatState:
        chat = self.chats.get(user.id)
        if chat is None:
            chat = ChatState(id=user.id, type="private", first_name=user.first_name, username=user.username)
            self.chats[user.id] = chat
        return chat

    def add_group(self, title: str = "Friends", *, forum: bool = False, chat_id: int | None = None) -> ChatState:
        """A (super)group the bot is a member of; `forum` enables topics."""
        group_id = chat_id if chat_id is not None else -1_001_000_000_000 - next(self._group_ids)
        chat = ChatState(id=group_id, type="supergroup", title=title, is_forum=forum)
        self.chats[group_id] = chat
        return chat

    def block(self, user: TgUser) -> None:
        """The person blocks the bot: every send to them is 403 from now on."""
        self._private_chat(user).blocked = True

    # ------------------------------------------------------------ what people do

    def _user_message(self, user: TgUser, chat: ChatState, content: JSON, thread_id: int | None = None) -> JSON:
        message: JSON = {"message_id": chat.next_message_id(), "from": user.to_dict(), "chat": chat.to_dict(), "date": now_seconds(), **content}
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            message["is_topic_message"] = True
        chat.messages[message["message_id"]] = message
        return message

    @staticmethod
    def _text_content(text: str) -> JSON:
        content: JSON = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_units(command)}]
        return content

    def user_sends(self, user: TgUser, text: str) -> JSON:
        """The person writes `text` in their private chat; returns the message."""
        chat = self._private_chat(user)
        message = self._user_message(user, chat, self._text_content(text))
        self._enqueue({"message": message})
        return message

    def user_sends_media(self, user: TgUser, kind: str, caption: str | None = None, *, own_contact: bool = True) -> JSON:
        """The person sends a sticker, photo, voice, video, document, location or contact."""
        chat = self._private_chat(user)
        content = media_content(kind, user, own_contact=own_contact)
        if caption:
            content["caption"] = caption
        message = self._user_message(user, chat, content)
        self._enqueue({"message": message})
        return message

    def user_sends_sticker(self, user: TgUser) -> JSON:
        return self.user_sends_media(user, "sticker")

    def user_edits(self, user: TgUser, message: JSON, text: str) -> JSON:
        """The person edits one of their messages."""
        chat = self.chats[message["chat"]["id"]]
        edited = {**message, **self._text_content(text), "edit_date": now_seconds()}
        chat.messages[message["message_id"]] = edited
        self._enqueue({"edited_message": edited})
        return edited

    def current_message(self, chat_id: int, message_id: int) -> JSON:
        """A message as it is now (after edits)."""
        return self.chats[chat_id].messages[message_id]

    def user_presses(self, user: TgUser, shown: Shown | JSON, label: str) -> str:
        """The person presses the inline button `label` on a bot message; returns the callback query id."""
        message_id = shown.message_id if isinstance(shown, Shown) else int(shown["message_id"])
        chat_id = shown.chat_id if isinstance(shown, Shown) else int(shown["chat"]["id"])
        message = self.current_message(chat_id, message_id)
        for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
            for button in row:
                if button.get("text") == label and "callback_data" in button:
                    return self.user_presses_data(user, message, str(button["callback_data"]))
        labels = [b.get("text") for row in (message.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]
        raise AssertionError(f"no button {label!r} on message {message_id}; buttons: {labels}")

    def user_presses_data(self, user: TgUser, message: JSON | Shown, data: str) -> str:
        """A callback query with arbitrary data (what a modified client can send)."""
        if isinstance(message, Shown):
            message = self.current_message(message.chat_id, message.message_id)
        query_id = str(next(self._query_ids))
        self._open_queries[query_id] = user.id
        query = {"id": query_id, "from": user.to_dict(), "message": message, "chat_instance": f"ci{message['chat']['id']}", "data": data}
        self._enqueue({"callback_query": query})
        return query_id

    def add_member(self, group: ChatState, user: TgUser, status: str = "member") -> None:
        """`user` joins `group` ("member", "administrator", "creator"; "left" or "kicked" to remove)."""
        group.members[user.id] = status

    def group_message(
        self,
        user: TgUser,
        group: ChatState,
        text: str,
        *,
        thread_id: int | None = None,
        reply_to: Shown | JSON | None = None,
    ) -> JSON:
        """Someone writes in a group the bot is in (in a forum topic, or as a reply to a message)."""
        content = self._text_content(text)
        if reply_to is not None:
            replied_id = reply_to.message_id if isinstance(reply_to, Shown) else int(reply_to["message_id"])
            content["reply_to_message"] = self._public(group.messages[replied_id])
        elif thread_id is not None:
            # In a topic, Telegram presents a plain message as a reply to the topic's first message.
            content["reply_to_message"] = {"message_id": thread_id, "chat": group.to_dict(), "date": now_seconds(), "forum_topic_created": {"name": group.topics.get(thread_id, "topic"), "icon_color": 7322096}}
        message = self._user_message(user, group, content, thread_id=thread_id)
        self._enqueue({"message": message})
        return message

    def raw_update(self, body: JSON) -> int:
        """Hand the bot `body` as an update (any JSON: fields python-telegram-bot cannot read, lone surrogates)."""
        return self._enqueue(body)

    def _enqueue(self, body: JSON) -> int:
        update = {"update_id": next(self._update_ids), **body}
        self._last_update_id = int(update["update_id"])
        if self.webhook.get("url"):
            self._webhook_queue.put_nowait(update)
            if self._webhook_task is None:
                self._webhook_task = asyncio.get_running_loop().create_task(self._post_webhooks())
        else:
            self._updates.append(update)
            self._notify()
        return int(update["update_id"])

    @property
    def last_update_id(self) -> int:
        """The id of the newest update people caused (0 before any)."""
        return self._last_update_id

    # ------------------------------------------------------------ what the bot showed

    def shown(self, chat_id: int) -> list[Shown]:
        """The bot's messages in a chat as they look now (edits applied), oldest first."""
        chat = self.chats.get(chat_id)
        if chat is None:
            return []
        return [shown_from("sent", chat_id, m, m.get("_markup")) for m in chat.messages.values() if m.get("from", {}).get("id") == BOT_ID]

    def events_in(self, chat_id: int, after: int = 0) -> list[Shown]:
        """Everything shown in a chat, sends and edits, in order; `after` skips the first events."""
        return [event for event in self.events if event.chat_id == chat_id][after:]

    def mark(self, chat_id: int) -> int:
        """A bookmark for `events_in(chat_id, after=...)`."""
        return len(self.events_in(chat_id))

    def calls_of(self, method: str) -> list[Call]:
        """Recorded calls of one method (case-insensitive)."""
        return [call for call in self.calls if call.method == method.lower()]

    def _notify(self) -> None:
        """Wake everyone waiting for a change (a call answered, an update queued)."""
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Wait until `predicate()` holds after some call or update; AssertionError on timeout."""

        async def _wait() -> None:
            while not predicate():
                # Also look again now and then: the predicate may watch the bot's side too.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), 0.05)

        try:
            await asyncio.wait_for(_wait(), timeout)
        except TimeoutError:
            raise AssertionError(f"stand-in: condition not met within {timeout}s") from None

    async def wait_for_messages(self, chat_id: int, n: int, timeout: float = 5.0) -> list[Shown]:
        """Wait until the bot has sent at least `n` messages to `chat_id`; returns them as they look now."""
        await self.wait_until(lambda: len(self.shown(chat_id)) >= n, timeout)
        return self.shown(chat_id)

    async def wait_confirmed(self, update_id: int, timeout: float = 5.0) -> None:
        """Wait until the bot confirmed `update_id` (its next getUpdates offset is past it)."""
        await self.wait_until(lambda: self._confirmed_below > update_id, timeout)

    # ------------------------------------------------------------ HTTP

    async def _file(self, request: web.Request) -> web.Response:
        return self._answer_error(ApiError(404, "Not Found"))

    async def _read_params(self, request: web.Request) -> JSON:
        raw: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                body = await request.json()
                raw.update(body if isinstance(body, dict) else {})
                return raw
            form = await request.post()
            raw.update({key: value for key, value in form.items() if isinstance(value, str)})
        return decode_params(raw)

    @staticmethod
    def _answer_error(error: ApiError) -> web.Response:
        body: JSON = {"ok": False, "error_code": error.code, "description": error.description}
        if error.parameters:
            body["parameters"] = error.parameters
        return web.json_response(body, status=error.code)

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"].lower()
        params = await self._read_params(request)
        if request.match_info["token"] != self.token:
            self._record(method, params, "401")
            return self._answer_error(ApiError(401, "Unauthorized"))
        fault = self.faults.next_fault(method)
        if fault is not None and fault.kind != "slow":
            return self._misbehave(request, method, params, fault)
        if fault is not None:
            await asyncio.sleep(fault.delay)
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            self._record(method, params, "404")
            return self._answer_error(ApiError(404, "Not Found: method not found"))
        try:
            result = await handler(params)
        except ApiError as error:
            self._record(method, params, str(error.code))
            self._notify()
            return self._answer_error(error)
        self._record(method, params, "ok")
        self._notify()
        return web.json_response({"ok": True, "result": result})

    def _misbehave(self, request: web.Request, method: str, params: JSON, fault: Fault) -> web.StreamResponse:
        self._record(method, params, f"fault:{fault.kind}")
        if fault.kind == "flood":
            return self._answer_error(
                ApiError(429, f"Too Many Requests: retry after {fault.retry_after}", {"retry_after": fault.retry_after})
            )
        if fault.kind == "server_error":
            return self._answer_error(ApiError(500, "Internal Server Error"))
        if fault.kind == "bad_request":
            return self._answer_error(ApiError(400, fault.description))
        if fault.kind == "unauthorized":
            return self._answer_error(ApiError(401, "Unauthorized"))
        # A dropped connection: nothing processed, nothing answered.
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=204)

    def _record(self, method: str, params: JSON, outcome: str) -> None:
        self.calls.append(Call(method=method, params=params, outcome=outcome, at=time.monotonic()))

    # ------------------------------------------------------------ Bot API methods

    async def _api_getme(self, params: JSON) -> JSON:
        return self.bot_user

    async def _api_logout(self, params: JSON) -> bool:
        return True

    async def _api_close(self, params: JSON) -> bool:
        return True

    async def _api_deletewebhook(self, params: JSON) -> bool:
        self.webhook = {}
        if params.get("drop_pending_updates"):
            self._confirmed_below = max(self._confirmed_below, (self.last_update_id or 0) + 1)
        return True

    async def _api_setwebhook(self, params: JSON) -> bool:
        url = params.get("url") or ""
        if url and not str(url).startswith(("https://", "http://127.0.0.1")):
            raise ApiError(400, "Bad Request: bad webhook: HTTPS url must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        self.webhook = {"url": url, "secret_token": secret, "allowed_updates": params.get("allowed_updates")}
        return True

    async def _api_getwebhookinfo(self, params: JSON) -> JSON:
        return {"url": self.webhook.get("url", ""), "has_custom_certificate": False, "pending_update_count": self._webhook_queue.qsize()}

    async def _api_getupdates(self, params: JSON) -> list[JSON]:
        if self.webhook.get("url"):
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first")
        offset = int(params.get("offset") or 0)
        limit = max(1, min(100, int(params.get("limit") or 100)))
        timeout = max(0.0, float(params.get("timeout") or 0))
        if "allowed_updates" in params:
            allowed = params["allowed_updates"]
            self._allowed_updates = list(allowed) if allowed else None
        if offset > self._confirmed_below:
            self._confirmed_below = offset
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            self._notify()
        if self._poller is not None and not self._poller.done():
            self._poller.set_result(None)  # the older poller ends with 409, as on Telegram
        poller: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._poller = poller
        deadline = time.monotonic() + timeout
        while True:
            ready = self._ready_updates(offset, limit)
            remaining = deadline - time.monotonic()
            if ready or remaining <= 0 or self._closing:
                return ready
            waiter = asyncio.ensure_future(self._changed.wait())
            done, _ = await asyncio.wait({waiter, poller}, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            if poller in done:
                raise ApiError(409, "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running")

    def _ready_updates(self, offset: int, limit: int) -> list[JSON]:
        allowed = self._allowed_updates
        ready = [
            u
            for u in self._updates
            if u["update_id"] >= max(offset, self._confirmed_below) and (allowed is None or any(kind in u for kind in allowed))
        ]
        return ready[:limit]

    def _chat_for_send(self, params: JSON) -> ChatState:
        chat_id = params.get("chat_id")
        chat = self.chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        if chat.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def _bot_message(self, chat: ChatState, text: str, markup: JSON | None, thread_id: int | None) -> JSON:
        message: JSON = {"message_id": chat.next_message_id(), "from": self.bot_user, "chat": chat.to_dict(), "date": now_seconds(), "text": text}
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            message["is_topic_message"] = True
        if markup and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        message["_markup"] = markup
        chat.messages[message["message_id"]] = message
        return message

    @staticmethod
    def _public(message: JSON) -> JSON:
        return {key: value for key, value in message.items() if not key.startswith("_")}

    async def _api_sendmessage(self, params: JSON) -> JSON:
        chat = self._chat_for_send(params)
        text = check_text(params.get("text"), params.get("parse_mode"))
        markup = params.get("reply_markup")
        check_reply_markup(markup)
        thread_id = params.get("message_thread_id")
        if thread_id is not None and chat.is_forum and thread_id not in chat.topics:
            raise ApiError(400, "Bad Request: message thread not found")
        if thread_id is not None and thread_id in chat.closed_topics:
            raise ApiError(400, "Bad Request: TOPIC_CLOSED")
        message = self._bot_message(chat, text, markup, thread_id if chat.is_forum else None)
        self.events.append(shown_from("sent", chat.id, message, markup))
        return self._public(message)

    def _message_to_edit(self, params: JSON) -> tuple[ChatState, JSON]:
        chat = self._chat_for_send(params)
        message = chat.messages.get(params.get("message_id"))  # type: ignore[arg-type]
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if message.get("from", {}).get("id") != BOT_ID:
            raise ApiError(400, "Bad Request: message can't be edited")
        return chat, message

    def _apply_edit(self, chat: ChatState, message: JSON, text: str, markup: JSON | None) -> JSON:
        if markup is not None and "inline_keyboard" not in markup:
            raise ApiError(400, "Bad Request: inline keyboard expected")
        if text == message.get("text") and (markup or None) == (message.get("reply_markup") or None):
            raise ApiError(400, NOT_MODIFIED)
        updated = {**message, "text": text, "edit_date": now_seconds(), "_markup": markup}
        updated.pop("reply_markup", None)
        if markup:
            updated["reply_markup"] = markup
        chat.messages[message["message_id"]] = updated
        self.events.append(shown_from("edited", chat.id, updated, markup))
        return self._public(updated)

    async def _api_editmessagetext(self, params: JSON) -> JSON | bool:
        if params.get("inline_message_id"):
            return True
        chat, message = self._message_to_edit(params)
        text = check_text(params.get("text"), params.get("parse_mode"))
        markup = params.get("reply_markup")
        check_reply_markup(markup)
        return self._apply_edit(chat, message, text, markup)

    async def _api_editmessagereplymarkup(self, params: JSON) -> JSON | bool:
        if params.get("inline_message_id"):
            return True
        chat, message = self._message_to_edit(params)
        markup = params.get("reply_markup")
        check_reply_markup(markup)
        return self._apply_edit(chat, message, str(message.get("text", "")), markup)

    async def _api_deletemessage(self, params: JSON) -> bool:
        chat = self._chat_for_send(params)
        if chat.messages.pop(params.get("message_id"), None) is None:  # type: ignore[arg-type]
            raise ApiError(400, "Bad Request: message to delete not found")
        return True

    async def _api_answercallbackquery(self, params: JSON) -> bool:
        query_id = str(params.get("callback_query_id"))
        if query_id not in self._open_queries:
            raise ApiError(400, QUERY_TOO_OLD)
        text = params.get("text")
        if text is not None and len(str(text)) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self._open_queries.pop(query_id)
        self.answered_queries[query_id] = params
        return True

    async def _api_setmycommands(self, params: JSON) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: commands must be a list of at most 100 commands")
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(command.get("command", ""))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise ApiError(400, "Bad Request: command description must be 1-256 characters")
        scope = params.get("scope") or {"type": "default"}
        if scope.get("type") == "chat":
            self.chat_commands[int(scope["chat_id"])] = commands
        elif scope.get("type") == "default":
            self.commands = commands
        else:
            raise ApiError(400, "Bad Request: unsupported scope in this stand-in")
        return True

    async def _api_getmycommands(self, params: JSON) -> list[JSON]:
        return self.commands

    async def _api_getchat(self, params: JSON) -> JSON:
        chat_id = params.get("chat_id")
        chat = self.chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        gifts = {"unlimited_gifts": True, "limited_gifts": True, "unique_gifts": True, "premium_subscription": True, "gifts_from_channels": True}
        return {**chat.to_dict(), "accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": gifts}

    async def _api_sendchataction(self, params: JSON) -> bool:
        self._chat_for_send(params)
        return True

    async def _api_createforumtopic(self, params: JSON) -> JSON:
        chat = self._chat_for_send(params)
        if not chat.is_forum:
            raise ApiError(400, "Bad Request: the chat is not a forum")
        name = str(params.get("name") or "")
        if not 1 <= len(name) <= 128:
            raise ApiError(400, "Bad Request: TOPIC_TITLE_EMPTY")
        thread_id = next(self._topic_ids)
        chat.topics[thread_id] = name
        return {"message_thread_id": thread_id, "name": name, "icon_color": 7322096}

    def delete_topic(self, chat: ChatState, thread_id: int) -> None:
        """Staff delete a forum topic: later sends to it are 400 "message thread not found"."""
        chat.topics.pop(thread_id, None)
        chat.closed_topics.discard(thread_id)

    def close_topic(self, chat: ChatState, thread_id: int) -> None:
        """Staff close a forum topic: later sends to it are 400 "TOPIC_CLOSED" until it is reopened."""
        chat.closed_topics.add(thread_id)

    def _topic(self, params: JSON) -> tuple[ChatState, int]:
        chat = self._chat_for_send(params)
        thread_id = params.get("message_thread_id")
        if not chat.is_forum:
            raise ApiError(400, "Bad Request: the chat is not a forum")
        if not isinstance(thread_id, int) or thread_id not in chat.topics:
            raise ApiError(400, "Bad Request: TOPIC_ID_INVALID")
        return chat, thread_id

    async def _api_closeforumtopic(self, params: JSON) -> bool:
        chat, thread_id = self._topic(params)
        if thread_id in chat.closed_topics:
            raise ApiError(400, "Bad Request: TOPIC_NOT_MODIFIED")
        chat.closed_topics.add(thread_id)
        return True

    async def _api_reopenforumtopic(self, params: JSON) -> bool:
        chat, thread_id = self._topic(params)
        if thread_id not in chat.closed_topics:
            raise ApiError(400, "Bad Request: TOPIC_NOT_MODIFIED")
        chat.closed_topics.discard(thread_id)
        return True

    async def _api_editforumtopic(self, params: JSON) -> bool:
        chat, thread_id = self._topic(params)
        if params.get("name"):
            chat.topics[thread_id] = str(params["name"])
        return True

    async def _api_deleteforumtopic(self, params: JSON) -> bool:
        chat, thread_id = self._topic(params)
        self.delete_topic(chat, thread_id)
        return True

    async def _api_getchatmember(self, params: JSON) -> JSON:
        chat_id, user_id = params.get("chat_id"), params.get("user_id")
        chat = self.chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        if user_id == BOT_ID:
            # The bot is an admin unless a test set its status with add_member.
            return chat_member(self.bot_user, chat.members.get(BOT_ID, "administrator"))
        status = chat.members.get(user_id, "left") if isinstance(user_id, int) else "left"
        user = {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"}
        return chat_member(user, status)

    # ------------------------------------------------------------ webhook delivery

    async def _post_webhooks(self) -> None:
        """Deliver updates to the webhook one at a time, as Telegram does, with its secret header."""
        async with ClientSession(timeout=ClientTimeout(total=10)) as session:
            while True:
                update = await self._webhook_queue.get()
                headers = {}
                if self.webhook.get("secret_token"):
                    headers["X-Telegram-Bot-Api-Secret-Token"] = str(self.webhook["secret_token"])
                async with session.post(str(self.webhook["url"]), json=update, headers=headers) as response:
                    self.webhook_posts.append(response.status)
                self._notify()


def media_content(kind: str, user: TgUser, *, own_contact: bool = True) -> JSON:
    """The Bot API fields of a message carrying `kind` of media."""
    file = {"file_id": f"F-{kind}-{user.id}", "file_unique_id": f"U-{kind}-{user.id}"}
    contents: dict[str, JSON] = {
        "sticker": {"sticker": {**file, "type": "regular", "width": 512, "height": 512, "is_animated": False, "is_video": False, "emoji": "🙂"}},
        "photo": {"photo": [{**file, "width": 90, "height": 90}, {**file, "file_id": file["file_id"] + "b", "width": 800, "height": 800}]},
        "voice": {"voice": {**file, "duration": 4, "mime_type": "audio/ogg"}},
        "video": {"video": {**file, "width": 640, "height": 360, "duration": 5}},
        "video_note": {"video_note": {**file, "length": 240, "duration": 5}},
        "audio": {"audio": {**file, "duration": 120}},
        "document": {"document": {**file, "file_name": "notes.pdf", "mime_type": "application/pdf"}},
        "animation": {
            "animation": {**file, "width": 320, "height": 240, "duration": 2},
            "document": {**file, "file_name": "a.mp4"},
        },
        "location": {"location": {"latitude": 12.97, "longitude": 77.59}},
        "contact": {
            "contact": {
                "phone_number": "+919800000000",
                "first_name": user.first_name if own_contact else "Someone",
                **({"user_id": user.id} if own_contact else {}),
            }
        },
    }
    if kind not in contents:
        raise ValueError(f"unknown media kind {kind!r}; known: {sorted(contents)}")
    return contents[kind]


def chat_member(user: JSON, status: str) -> JSON:
    """A ChatMember object as the Bot API returns it for `status`."""
    if status == "administrator":
        rights = (
            "can_be_edited can_manage_chat can_change_info can_delete_messages can_invite_users can_restrict_members "
            "can_pin_messages can_promote_members can_manage_video_chats can_post_stories can_edit_stories "
            "can_delete_stories can_manage_topics"
        ).split()
        return {"user": user, "status": status, "is_anonymous": False, **{right: right != "can_be_edited" for right in rights}}
    if status == "creator":
        return {"user": user, "status": status, "is_anonymous": False}
    if status == "kicked":
        return {"user": user, "status": status, "until_date": 0}
    return {"user": user, "status": status}
