"""A fake Telegram Bot API server on 127.0.0.1, answering python-telegram-bot as Telegram does.

It speaks the real wire format (the `{"ok": ..., "result": ...}` envelope, error codes and
descriptions, `getUpdates` offsets and long polling), records every call the bot makes,
and lets a test inject messages, commands, deep-link starts and button presses.

It is as strict as Telegram where delivery code can go wrong:

- flood limits: `rate_limit` sends a second per bot, 20 a minute per group (HTTP 429);
- size and markup limits: 4,096 characters of text and 1,024 of caption after HTML parsing,
  no empty text, Telegram's own HTML subset, 64 bytes of callback data (HTTP 400);
- one poller at a time, and no `getUpdates` while a webhook is set (HTTP 409);
- scheduled faults (`fault()`): a gateway error before or after the message is stored,
  a response held past the client's timeout, refused connections;
- chats that refuse every message (`reject_always()`);
- files a person sends (`document()`): `getFile` gives a file path for up to 20 MB (bots
  may not download more: HTTP 400 "file is too big"), valid for an hour, and the file is
  downloaded from `/file/bot<token>/<file_path>` (404 for any other path).

Serve it with `await fake.start()` (needed for "refuse", which closes the listening socket)
or with `tests.telegram_world.serve_fake(fake)`, which serves `fake.app()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import re
import socket
import time
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT = {
    "id": 424242,
    "is_bot": True,
    "first_name": "Wholehearted",
    "username": "WholeheartedBot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
    "can_connect_to_business": False,
    "has_main_web_app": False,
}
TOKEN = "424242:TEST-token-for-the-fake-server"

# Telegram's limits (https://core.telegram.org/bots/api#sendmessage, #inlinekeyboardbutton,
# https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this).
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
# https://core.telegram.org/bots/api#getfile: bots download files of up to 20 MB, through
# a link valid for at least an hour.
DOWNLOAD_LIMIT = 20 * 1024 * 1024
FILE_LINK_LIFETIME = 3600.0
GROUP_PERIOD = 60.0  # seconds over which `group_rate_limit` sends are allowed

# Methods that send a message, besides every `send*`: all of them count against flood limits.
_SENDING_BESIDES_SEND = frozenset(
    {"copyMessage", "copyMessages", "forwardMessage", "forwardMessages"}
)

FAULT_MODES = frozenset(
    {"5xx_before", "5xx_after", "500_json_after", "timeout_after", "timeout_before", "refuse"}
)
_BEFORE_MODES = frozenset({"5xx_before", "timeout_before"})

BAD_GATEWAY_HTML = (
    "<html>\r\n"
    "<head><title>502 Bad Gateway</title></head>\r\n"
    "<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n"
    "<hr><center>nginx/1.18.0</center>\r\n"
    "</body>\r\n"
    "</html>\r\n"
)

CONFLICT_POLLER = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)

# Telegram's HTML subset (https://core.telegram.org/bots/api#html-style).
HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "code",
        "pre",
        "blockquote",
        "tg-emoji",
    }
)
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY = re.compile(r"&(?:#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,8})|([A-Za-z][A-Za-z0-9]{0,31}));")
_NAME_TOKEN = re.compile(r"[A-Za-z0-9.\-]*")


def is_sending(method: str) -> bool:
    """Whether a Bot API method sends a message, and so counts against the flood limits."""
    return method.startswith("send") or method in _SENDING_BESIDES_SEND


class EntityError(ValueError):
    """Text that Telegram's HTML parser refuses; the message is Telegram's own wording."""


def _entity_at(text: str, index: int) -> tuple[str, int] | None:
    """The character an HTML entity at `index` stands for, and where the entity ends.

    Telegram knows every numeric entity and only the named &lt; &gt; &amp; &quot;; any other
    `&` is an ordinary character.
    """
    match = _ENTITY.match(text, index)
    if match is None:
        return None
    decimal, hexadecimal, name = match.groups()
    if name is not None:
        character = _NAMED_ENTITIES.get(name)
        return None if character is None else (character, match.end())
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code), match.end()


def parse_html(text: str) -> str:
    """The visible text of a message sent with parse_mode HTML, as Telegram parses it.

    Tags are removed and entities decoded. An unknown, unclosed or mismatched tag, a `<`
    that opens no tag, or a `<span>` without class "tg-spoiler" raises `EntityError` with
    Telegram's description (offsets in bytes of UTF-8, as Telegram gives them).
    """
    out: list[str] = []
    open_tags: list[str] = []
    length = len(text)

    def at(index: int) -> str:
        return text[index] if index < length else ""

    def offset(index: int) -> int:
        return len(text[:index].encode("utf-8", "surrogatepass"))

    def skip_spaces(index: int) -> int:
        while index < length and text[index].isspace():
            index += 1
        return index

    i = 0
    while i < length:
        character = text[i]
        if character == "&":
            entity = _entity_at(text, i)
            if entity is not None:
                out.append(entity[0])
                i = entity[1]
                continue
        if character != "<":
            out.append(character)
            i += 1
            continue
        begin = i
        i += 1
        if at(i) != "/":
            while i < length and not text[i].isspace() and text[i] != ">":
                i += 1
            if i >= length:
                raise EntityError(f"Unclosed start tag at byte offset {offset(begin)}")
            tag = text[begin + 1 : i].lower()
            if tag not in HTML_TAGS:
                raise EntityError(f'Unsupported start tag "{tag}" at byte offset {offset(begin)}')
            attributes: dict[str, str] = {}
            while True:
                i = skip_spaces(i)
                if i >= length:
                    raise EntityError(f'Unclosed start tag "{tag}" at byte offset {offset(begin)}')
                if text[i] == ">":
                    i += 1
                    break
                name_begin = i
                while i < length and not text[i].isspace() and text[i] not in "=>":
                    i += 1
                name = text[name_begin:i].lower()
                if not name:
                    raise EntityError(
                        f'Empty attribute name in the tag "{tag}" at byte offset {offset(begin)}'
                    )
                i = skip_spaces(i)
                if tag == "blockquote" and name == "expandable" and at(i) != "=":
                    attributes[name] = ""  # the one attribute Telegram takes without a value
                    continue
                if at(i) != "=":
                    raise EntityError(
                        "Expected equal sign in declaration of an attribute of the tag "
                        f'"{tag}" at byte offset {offset(begin)}'
                    )
                i = skip_spaces(i + 1)
                if i >= length:
                    raise EntityError(f'Unclosed start tag "{tag}" at byte offset {offset(begin)}')
                if text[i] in "'\"":
                    quote = text[i]
                    i += 1
                    value: list[str] = []
                    while i < length and text[i] != quote:
                        entity = _entity_at(text, i) if text[i] == "&" else None
                        if entity is not None:
                            value.append(entity[0])
                            i = entity[1]
                        else:
                            value.append(text[i])
                            i += 1
                    if i < length:
                        i += 1
                    attributes[name] = "".join(value)
                else:
                    token = _NAME_TOKEN.match(text, i)
                    assert token is not None  # the pattern matches the empty string
                    if token.end() < length and not (
                        text[token.end()].isspace() or text[token.end()] == ">"
                    ):
                        raise EntityError(
                            f"Unexpected end of name token at byte offset {offset(i)}"
                        )
                    attributes[name] = token.group().lower()
                    i = token.end()
                if i >= length:
                    raise EntityError(f"Unclosed start tag at byte offset {offset(begin)}")
            if tag == "span" and attributes.get("class") != "tg-spoiler":
                raise EntityError(
                    f'Tag "span" must have class "tg-spoiler" at byte offset {offset(begin)}'
                )
            open_tags.append(tag)
        else:
            if not open_tags:
                raise EntityError(f"Unexpected end tag at byte offset {offset(begin)}")
            i += 1
            while i < length and not text[i].isspace() and text[i] != ">":
                i += 1
            closing = text[begin + 2 : i].lower()
            i = skip_spaces(i)
            if at(i) != ">":
                raise EntityError(f"Unclosed end tag at byte offset {offset(begin)}")
            i += 1
            expected = open_tags.pop()
            if closing and closing != expected:
                raise EntityError(
                    f'Unmatched end tag at byte offset {offset(begin)}, expected "</{expected}>", '
                    f'found "</{closing}>"'
                )
    if open_tags:
        raise EntityError(f'Can\'t find end tag corresponding to start tag "{open_tags[-1]}"')
    return "".join(out)


def _json_param(value: Any) -> Any:
    """A parameter as python-telegram-bot sends it: JSON text in a form, or JSON itself."""
    return json.loads(value) if isinstance(value, str) else value


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float


@dataclass
class TokenBucket:
    """`capacity` tokens, refilled at `refill` a second; each send takes one."""

    capacity: float
    refill: float
    tokens: float = -1.0
    at: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        if self.tokens < 0:
            self.tokens = self.capacity

    def wait(self, now: float) -> float:
        """Seconds until a token is there (0 if one is there now)."""
        if now > self.at:
            self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.refill)
            self.at = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.refill


@dataclass
class Fault:
    """A fault scheduled by `FakeTelegram.fault()`."""

    mode: str
    until: float | None  # monotonic end of the window, None for no time limit
    calls: int | None  # matching calls left, None for no count limit
    methods: frozenset[str] | None  # None: every method
    hold: float

    def over(self, now: float) -> bool:
        return (self.until is not None and now >= self.until) or self.calls == 0

    def matches(self, method: str) -> bool:
        return self.methods is None or method in self.methods


@dataclass
class FakeTelegram:
    updates: list[dict[str, Any]] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    # chat id -> list of (status, description, retry_after) to answer sendMessage with, in turn
    failures: dict[int, list[tuple[int, str, int | None]]] = field(default_factory=dict)
    admins: set[tuple[int, int]] = field(default_factory=set)
    # (group, user) pairs Telegram counts as members: whoever wrote in the group, the
    # admins, and any a test adds. getChatMember says "left" for anyone else.
    members: set[tuple[int, int]] = field(default_factory=set)
    # Users who opened a private chat with the bot (wrote or pressed a button there): a bot
    # cannot start a conversation, so a send to anyone else is a 403, as on Telegram.
    # None: everybody counts as having started the bot (benchmarks seed people directly).
    private_chats: set[int] | None = None
    delivered: list[dict[str, Any]] = field(default_factory=list)
    webhook: dict[str, Any] = field(default_factory=dict)
    # Scope type ("all_private_chats", …) -> the (command, description) menu set for it.
    command_menus: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    # Telegram holds a long poll up to its timeout; a short cap keeps shutdowns quick.
    long_poll_cap: float = 0.2
    _new: asyncio.Event = field(default_factory=asyncio.Event)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _message_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))
    url: str = ""
    # Sends a second over the whole bot (bucket of `rate_limit`, refilled `rate_limit`/s);
    # None: no overall limit.
    rate_limit: float | None = 30.0
    # Sends a minute to one group (negative chat id), likewise a bucket; None: no group limit.
    group_rate_limit: float | None = 20.0
    # 429s answered because a flood limit was reached (not those planned in `failures`).
    served_429: int = 0
    # Fault mode -> how many calls it answered ("refuse": how many refusal windows opened).
    faults_served: Counter[str] = field(default_factory=Counter)
    # 409s answered to getUpdates: a newer poll, or a webhook in place.
    conflicts: int = 0
    # Whether a webhook is set: setWebhook with a url sets it, deleteWebhook removes it.
    # (`webhook` keeps the last setWebhook's parameters either way.)
    webhook_active: bool = False
    # What getWebhookInfo reports as Telegram's last failure to post to the webhook:
    # (Unix time, message), as a test sets it.
    webhook_last_error: tuple[int, str] | None = None
    # chat id -> (status, description) every send to that chat is answered with.
    rejections: dict[int, tuple[int, str]] = field(default_factory=dict)
    _faults: list[Fault] = field(default_factory=list)
    _overall: TokenBucket | None = None
    _groups: dict[int, TokenBucket] = field(default_factory=dict)
    _send_times: list[float] = field(default_factory=list)
    _poll: asyncio.Event | None = None
    _closing: asyncio.Event = field(default_factory=asyncio.Event)
    _runner: web.AppRunner | None = None
    _listener: asyncio.Server | None = None
    _port: int = 0
    _refusal_end: asyncio.TimerHandle | None = None
    _serving: asyncio.Task[None] | None = None
    # file_id -> (file name, bytes) of files people sent; file path -> (file_id, issued at).
    _files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    _file_paths: dict[str, tuple[str, float]] = field(default_factory=dict)
    # How many times the bot downloaded a file (the file path was fetched).
    downloads: int = 0

    # --- server -------------------------------------------------------------------------

    def app(self) -> web.Application:
        application = web.Application()
        application.router.add_route("*", "/bot{token}/{method}", self._handle)
        application.router.add_get("/file/bot{token}/{path:.*}", self._download)
        return application

    async def start(self) -> str:
        """Serve on a free port of 127.0.0.1; the base URL for python-telegram-bot.

        The URL ends in `/bot`, as `base_url` wants it (the token follows), and is kept in
        `url`. The fake owns its listening socket, so "refuse" faults can close and reopen it
        on the same port.
        """
        if self._runner is not None:
            raise RuntimeError("the fake is already serving")
        self._closing.clear()
        runner = web.AppRunner(self.app(), shutdown_timeout=1.0, access_log=None)
        await runner.setup()
        self._runner = runner
        self._port = 0
        await self._serve(self._bind())
        self.url = f"http://127.0.0.1:{self._port}/bot"
        return self.url

    async def stop(self) -> None:
        """Stop serving: held responses are let go, open connections closed."""
        self._closing.set()
        self._new.set()
        if self._refusal_end is not None:
            self._refusal_end.cancel()
            self._refusal_end = None
        if self._serving is not None:
            await self._serving
            self._serving = None
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _bind(self) -> socket.socket:
        """A socket listening on `_port` (a free one if 0): from now on, connecting works."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self._port))
        sock.listen(128)
        sock.setblocking(False)
        self._port = sock.getsockname()[1]
        return sock

    async def _serve(self, sock: socket.socket) -> None:
        assert self._runner is not None and self._runner.server is not None
        loop = asyncio.get_running_loop()
        self._listener = await loop.create_server(self._runner.server, sock=sock)

    def _reopen(self) -> None:
        """Listen again on the same port (at once; serving starts a loop turn later)."""
        self._refusal_end = None
        self._serving = asyncio.get_running_loop().create_task(self._serve(self._bind()))

    def _stop_listening(self) -> None:
        """Close the listening socket and every open connection: new ones are refused."""
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        assert self._runner is not None and self._runner.server is not None
        for connection in self._runner.server.connections:
            # Shut the socket down now (closing a transport waits a loop turn), so that a
            # client checking its kept-alive connection sees it gone and connects anew.
            if connection.transport is not None:
                sock = connection.transport.get_extra_info("socket")
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)
            connection.force_close()

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != TOKEN:
            return self._error(401, "Unauthorized")
        method = request.match_info["method"]
        params = await self._params(request)
        self.calls.append(Call(method, params, time.monotonic()))
        fault = self._take_fault(method)
        if fault is not None and fault.mode in _BEFORE_MODES:
            if fault.mode == "timeout_before":
                await self._hold(request, fault.hold)
            return self._bad_gateway()
        response = await self._answer(method, params)
        if fault is None:
            return response
        if fault.mode == "timeout_after":
            await self._hold(request, fault.hold)
            return response
        if fault.mode == "500_json_after":
            return self._error(500, "Internal Server Error")
        return self._bad_gateway()

    async def _answer(self, method: str, params: dict[str, Any]) -> web.Response:
        """What Telegram itself answers (as opposed to a proxy in front of it)."""
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return self._error(404, "Not Found: method not found")
        if is_sending(method):
            limited = self._flood_check(params)
            if limited is not None:
                return limited
        result = await handler(params)
        if isinstance(result, web.Response):
            return result
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    async def _params(request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            data: dict[str, Any] = await request.json()
            return data
        form = await request.post()
        params: dict[str, Any] = {}
        for key, value in form.items():
            if isinstance(value, web.FileField):
                params[key] = {"filename": value.filename, "data": value.file.read()}
            else:
                params[key] = str(value)
        return params

    @staticmethod
    def _error(code: int, description: str, retry_after: int | None = None) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        return web.json_response(body, status=code)

    @staticmethod
    def _bad_gateway() -> web.Response:
        return web.Response(status=502, text=BAD_GATEWAY_HTML, content_type="text/html")

    # --- faults -------------------------------------------------------------------------

    def fault(
        self,
        mode: str,
        *,
        seconds: float | None = None,
        calls: int | None = None,
        methods: Collection[str] | None = None,
        hold: float = 30.0,
    ) -> None:
        """Make the next calls fail as Telegram or the network in front of it can fail.

        The fault lasts `seconds` (monotonic, from now) or for the next `calls` calls to one
        of `methods`, whichever ends first; with neither it lasts until `clear_faults()`.
        `methods=None` means every method: a whole outage, getMe and getUpdates included.
        When several faults are scheduled, the first one still running that matches answers.
        Every call that reaches the server is in `calls` (the attribute), faulted or not.

        - "5xx_before": 502 with nginx's HTML page; Telegram never saw the call.
        - "5xx_after": Telegram did what was asked (a message is stored, in `delivered`),
          then the answer is a 502 HTML page.
        - "500_json_after": likewise, then `{"ok": false, "error_code": 500, ...}`, status 500.
        - "timeout_after": Telegram did what was asked; the answer is held for `hold` seconds
          (longer than the client waits, so it times out).
        - "timeout_before": held for `hold` seconds with nothing done, then a 502.
        - "refuse": the listening socket is closed for `seconds` (only `seconds`; needs
          `start()`): every open connection is closed and new ones are refused; afterwards
          the fake listens again on the same port.

        A held answer is let go early when the client hangs up or the fake stops. "After"
        modes replace whatever Telegram answered, refusals included. `faults_served` counts
        calls answered by each mode (for "refuse": windows opened).
        """
        if mode not in FAULT_MODES:
            raise ValueError(f"unknown fault mode {mode!r}; known: {sorted(FAULT_MODES)}")
        if mode == "refuse":
            if seconds is None or calls is not None or methods is not None:
                raise ValueError("a refusal lasts a number of seconds, for every method")
            if self._runner is None:
                raise RuntimeError("refusing connections needs the fake served by start()")
            if self._refusal_end is not None:  # already refusing: the new window counts
                self._refusal_end.cancel()
            else:
                self._stop_listening()
            loop = asyncio.get_running_loop()
            self._refusal_end = loop.call_later(seconds, self._reopen)
            self.faults_served[mode] += 1
            return
        until = None if seconds is None else time.monotonic() + seconds
        chosen = None if methods is None else frozenset(methods)
        self._faults.append(Fault(mode, until, calls, chosen, hold))

    def clear_faults(self) -> None:
        """End every scheduled fault now; a refusal ends with the port listening again."""
        self._faults.clear()
        if self._refusal_end is not None:
            self._refusal_end.cancel()
            self._reopen()

    def _take_fault(self, method: str) -> Fault | None:
        now = time.monotonic()
        self._faults = [f for f in self._faults if not f.over(now)]
        for fault in self._faults:
            if fault.matches(method):
                if fault.calls is not None:
                    fault.calls -= 1
                self.faults_served[fault.mode] += 1
                return fault
        return None

    async def _hold(self, request: web.Request, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self._closing.is_set():
            left = deadline - time.monotonic()
            transport = request.transport
            if left <= 0 or transport is None or transport.is_closing():
                return
            await asyncio.sleep(min(0.02, left))

    # --- Telegram's limits --------------------------------------------------------------

    def reject_always(
        self,
        chat_id: int,
        description: str = "Bad Request: can't parse entities: unsupported start tag",
        *,
        status: int = 400,
    ) -> None:
        """Answer every send to `chat_id` with `status` (400: Bad Request) and `description`.

        Nothing is stored; it lasts until the entry is removed from `rejections`.
        """
        self.rejections[chat_id] = (status, description)

    def _flood_check(self, params: dict[str, Any]) -> web.Response | None:
        """A 429 if a send now would go over a flood limit; else the send takes its tokens."""
        now = time.monotonic()
        buckets: list[TokenBucket] = []
        if self.rate_limit is not None:
            if self._overall is None or self._overall.refill != self.rate_limit:
                self._overall = TokenBucket(max(1.0, self.rate_limit), self.rate_limit)
            buckets.append(self._overall)
        chat_id = _chat_id(params)
        if self.group_rate_limit is not None and chat_id is not None and chat_id < 0:
            refill = self.group_rate_limit / GROUP_PERIOD
            group = self._groups.get(chat_id)
            if group is None or group.refill != refill:
                group = self._groups[chat_id] = TokenBucket(max(1.0, self.group_rate_limit), refill)
            buckets.append(group)
        wait = max((bucket.wait(now) for bucket in buckets), default=0.0)
        if wait > 0:
            self.served_429 += 1
            retry_after = max(1, math.ceil(wait))
            return self._error(429, f"Too Many Requests: retry after {retry_after}", retry_after)
        for bucket in buckets:
            bucket.tokens -= 1
        return None

    @staticmethod
    def _problem(params: dict[str, Any], text_field: str) -> str | None:
        """Why Telegram would refuse this message (400), or None.

        `text_field` is "text" (required, 1-4,096 characters) or "caption" (optional, up to
        1,024), counted after HTML parsing and with surrounding white space stripped, as
        Telegram counts them; callback data must be 1-64 bytes.
        """
        raw = params.get(text_field)
        text = "" if raw is None else str(raw)
        if str(params.get("parse_mode") or "").lower() == "html":
            try:
                text = parse_html(text)
            except EntityError as error:
                return f"Bad Request: can't parse entities: {error}"
        text = text.strip()
        if text_field == "text":
            if not text:
                return "Bad Request: message text is empty"
            if len(text) > TEXT_LIMIT:
                return "Bad Request: message is too long"
        elif len(text) > CAPTION_LIMIT:
            return "Bad Request: message caption is too long"
        markup = params.get("reply_markup")
        if markup:
            try:
                data = json.loads(markup) if isinstance(markup, str) else markup
            except ValueError:
                return "Bad Request: can't parse reply keyboard markup JSON object"
            for row in data.get("inline_keyboard") or []:
                for button in row:
                    callback = button.get("callback_data")
                    if (
                        callback is not None
                        and not 1
                        <= len(str(callback).encode("utf-8", "surrogatepass"))
                        <= CALLBACK_DATA_LIMIT
                    ):
                        return "Bad Request: BUTTON_DATA_INVALID"
            for row in data.get("keyboard") or []:  # a reply keyboard
                for button in row:
                    if not str(button.get("text") or "").strip():
                        return "Bad Request: keyboard button text is empty"
                    private = int(params["chat_id"]) > 0
                    if button.get("request_location") and not private:
                        return "Bad Request: location can be requested in a private chats only"
        return None

    # --- Bot API methods ----------------------------------------------------------------

    async def _m_getMe(self, params: dict[str, Any]) -> Any:
        return BOT

    async def _m_deleteWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook_active = False
        return True

    async def _m_setWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = params
        self.webhook_active = bool(params.get("url"))
        return True

    async def _m_getWebhookInfo(self, params: dict[str, Any]) -> Any:
        info: dict[str, Any] = {
            "url": str(self.webhook.get("url") or "") if self.webhook_active else "",
            "has_custom_certificate": False,
            "pending_update_count": 0,
        }
        if self.webhook_last_error is not None:
            info["last_error_date"], info["last_error_message"] = self.webhook_last_error
        return info

    async def _m_setMyCommands(self, params: dict[str, Any]) -> Any:
        """Checked as Telegram checks it, and kept per scope type in `command_menus`."""
        commands = _json_param(params.get("commands"))
        scope = _json_param(params.get("scope") or '{"type": "default"}')
        if not isinstance(commands, list) or len(commands) > 100:
            return self._error(400, "Bad Request: too many commands")
        for command in commands:
            name, description = command.get("command", ""), command.get("description", "")
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                return self._error(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                return self._error(400, "Bad Request: command description is invalid")
        self.command_menus[scope["type"]] = [(c["command"], c["description"]) for c in commands]
        return True

    async def _m_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        return True

    async def _m_getUpdates(self, params: dict[str, Any]) -> Any:
        if self.webhook_active:
            self.conflicts += 1
            return self._error(409, CONFLICT_WEBHOOK)
        if self._poll is not None:  # a poll is waiting: the newer one wins
            self._poll.set()
            self._new.set()
        mine = self._poll = asyncio.Event()
        try:
            offset = int(params.get("offset") or 0)
            timeout = float(params.get("timeout") or 0)
            deadline = time.monotonic() + min(timeout, self.long_poll_cap)
            while True:
                if mine.is_set():
                    self.conflicts += 1
                    return self._error(409, CONFLICT_POLLER)
                pending = [u for u in self.updates if u["update_id"] >= offset]
                if pending or time.monotonic() >= deadline:
                    return pending[: int(params.get("limit") or 100)]
                self._new.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._new.wait(), deadline - time.monotonic())
        finally:
            if self._poll is mine:
                self._poll = None

    async def _m_getChatMember(self, params: dict[str, Any]) -> Any:
        chat_id, user_id = int(params["chat_id"]), int(params["user_id"])
        if (chat_id, user_id) in self.admins:
            status = "administrator"
        elif (chat_id, user_id) in self.members:
            status = "member"
        else:
            status = "left"
        user = {"id": user_id, "is_bot": False, "first_name": f"U{user_id}"}
        member: dict[str, Any] = {"status": status, "user": user}
        if status == "administrator":
            member.update(
                {
                    "can_be_edited": False,
                    "is_anonymous": False,
                    "can_manage_chat": True,
                    "can_delete_messages": True,
                    "can_manage_video_chats": True,
                    "can_restrict_members": True,
                    "can_promote_members": False,
                    "can_change_info": True,
                    "can_invite_users": True,
                    "can_post_stories": False,
                    "can_edit_stories": False,
                    "can_delete_stories": False,
                }
            )
        return member

    async def _m_getFile(self, params: dict[str, Any]) -> Any:
        file_id = str(params.get("file_id", ""))
        if file_id not in self._files:
            return self._error(400, "Bad Request: invalid file_id")
        name, data = self._files[file_id]
        if len(data) > DOWNLOAD_LIMIT:
            return self._error(400, "Bad Request: file is too big")
        path = f"documents/file_{len(self._file_paths)}{name[name.rfind('.') :]}"
        self._file_paths[path] = (file_id, time.monotonic())
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_size": len(data),
            "file_path": path,
        }

    async def _download(self, request: web.Request) -> web.Response:
        issued = self._file_paths.get(request.match_info["path"])
        if request.match_info["token"] != TOKEN or issued is None:
            return self._error(404, "Not Found")
        if time.monotonic() - issued[1] > FILE_LINK_LIFETIME:
            return self._error(404, "Not Found: file link expired")
        self.downloads += 1
        return web.Response(body=self._files[issued[0]][1])

    async def _m_sendMessage(self, params: dict[str, Any]) -> Any:
        return self._send(params, {"text": params.get("text", "")}, "text")

    async def _m_sendDocument(self, params: dict[str, Any]) -> Any:
        document = params.get("document") or {}
        return self._send(
            params,
            {
                "caption": params.get("caption", ""),
                "document": {
                    "file_id": "doc1",
                    "file_unique_id": "u1",
                    "file_name": document.get("filename"),
                },
            },
        )

    async def _m_sendPhoto(self, params: dict[str, Any]) -> Any:
        photo = {"file_id": "photo1", "file_unique_id": "p1", "width": 1, "height": 1}
        return self._send(params, {"caption": params.get("caption", ""), "photo": [photo]})

    async def _m_copyMessage(self, params: dict[str, Any]) -> Any:
        sent = self._send(params, {})
        return sent if isinstance(sent, web.Response) else {"message_id": sent["message_id"]}

    async def _m_forwardMessage(self, params: dict[str, Any]) -> Any:
        return self._send(params, {})

    def _send(
        self, params: dict[str, Any], content: dict[str, Any], text_field: str = "caption"
    ) -> Any:
        chat_id = int(params["chat_id"])
        planned = self.failures.get(chat_id)
        if planned:
            status, description, retry_after = planned.pop(0)
            return self._error(status, description, retry_after)
        if chat_id in self.rejections:
            return self._error(*self.rejections[chat_id])
        if chat_id > 0 and self.private_chats is not None and chat_id not in self.private_chats:
            return self._error(403, "Forbidden: bot can't initiate conversation with a user")
        problem = self._problem(params, text_field)
        if problem is not None:
            return self._error(400, problem)
        chat = (
            {"id": chat_id, "type": "private", "first_name": "U"}
            if chat_id > 0
            else {"id": chat_id, "type": "supergroup", "title": "Group"}
        )
        message_id = next(self._message_ids)
        self.delivered.append({**params, "message_id": message_id})
        self._send_times.append(time.monotonic())
        return {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": chat,
            "from": BOT,
            **content,
        }

    # --- what tests use -----------------------------------------------------------------

    def build_message(self, user_id: int, name: str, text: str) -> dict[str, Any]:
        """An update carrying a private message, without queueing it for getUpdates."""
        self.message(user_id, name, text)
        return self.updates.pop()

    def _push(self, update: dict[str, Any]) -> None:
        update["update_id"] = next(self._ids)
        self.updates.append(update)
        self._new.set()

    @staticmethod
    def user(user_id: int, name: str) -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": name}

    def message(
        self,
        user_id: int,
        name: str,
        text: str,
        *,
        chat_id: int | None = None,
        reply_to: int | None = None,
    ) -> None:
        chat = (
            {"id": user_id, "type": "private", "first_name": name}
            if chat_id is None
            else {"id": chat_id, "type": "supergroup", "title": "Workshop group"}
        )
        self._contact(user_id, chat_id)
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": self.user(user_id, name),
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
            ]
        if reply_to is not None:
            message["reply_to_message"] = {
                "message_id": reply_to,
                "date": int(time.time()),
                "chat": chat,
                "from": BOT,
                "text": "practice",
            }
        self._push({"message": message})

    def document(
        self,
        user_id: int,
        name: str,
        filename: str,
        data: bytes,
        *,
        chat_id: int | None = None,
        caption: str | None = None,
    ) -> None:
        """A file sent in the private chat (or in a group), as Telegram delivers it: the
        message names the file (id, name, size, type); the bytes come only through getFile."""
        chat = (
            {"id": user_id, "type": "private", "first_name": name}
            if chat_id is None
            else {"id": chat_id, "type": "supergroup", "title": "Workshop group"}
        )
        self._contact(user_id, chat_id)
        file_id = f"BQACAgQAAxkBAAI{len(self._files)}"
        self._files[file_id] = (filename, data)
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": self.user(user_id, name),
            "document": {
                "file_id": file_id,
                "file_unique_id": f"u{file_id}",
                "file_name": filename,
                "mime_type": "application/octet-stream",
                "file_size": len(data),
            },
        }
        if caption:
            message["caption"] = caption
        self._push({"message": message})

    def location(self, user_id: int, name: str, latitude: float, longitude: float) -> None:
        """A location shared in the private chat, as a reply keyboard's request_location
        button (or the attachment menu) sends it: a message with `location` and no text."""
        self._contact(user_id, None)
        self._push(
            {
                "message": {
                    "message_id": next(self._message_ids),
                    "date": int(time.time()),
                    "chat": {"id": user_id, "type": "private", "first_name": name},
                    "from": self.user(user_id, name),
                    "location": {"latitude": latitude, "longitude": longitude},
                }
            }
        )

    def press(
        self, user_id: int, name: str, data: str, *, message_id: int = 1, chat_id: int | None = None
    ) -> None:
        chat = (
            {"id": user_id, "type": "private", "first_name": name}
            if chat_id is None
            else {"id": chat_id, "type": "supergroup", "title": "Workshop group"}
        )
        self._contact(user_id, chat_id)
        self._push(
            {
                "callback_query": {
                    "id": str(next(self._ids)),
                    "from": self.user(user_id, name),
                    "chat_instance": "ci",
                    "data": data,
                    "message": {
                        "message_id": message_id,
                        "date": int(time.time()),
                        "chat": chat,
                        "from": BOT,
                        "text": "old message",
                    },
                }
            }
        )

    def _contact(self, user_id: int, chat_id: int | None) -> None:
        """Writing in a chat makes one a member of it; writing privately opens that chat."""
        if chat_id is not None:
            self.members.add((chat_id, user_id))
        elif self.private_chats is not None:
            self.private_chats.add(user_id)

    def raw(self, update: dict[str, Any]) -> None:
        self._push(update)

    def sent(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """What the bot sent successfully, to one chat or to all."""
        return [p for p in self.delivered if chat_id is None or int(p["chat_id"]) == chat_id]

    def texts(self, chat_id: int) -> list[str]:
        return [p.get("text") or p.get("caption") or "" for p in self.sent(chat_id)]

    def deliveries_per_chat(self) -> Counter[int]:
        """How many messages were stored for each chat (a practice card can be several)."""
        return Counter(int(p["chat_id"]) for p in self.delivered)

    def send_times(self) -> list[float]:
        """The monotonic time each stored message was stored, in order: for measuring rates."""
        return list(self._send_times)

    def buttons(
        self, params: dict[str, Any], kind: str = "inline_keyboard"
    ) -> list[dict[str, Any]]:
        """A sent message's inline buttons, or with `kind="keyboard"` its reply keyboard's."""
        markup = params.get("reply_markup")
        if not markup:
            return []
        data = json.loads(markup) if isinstance(markup, str) else markup
        return [button for row in data.get(kind) or [] for button in row]

    @staticmethod
    def removes_keyboard(params: dict[str, Any]) -> bool:
        """Whether a sent message takes the reply keyboard away."""
        markup = params.get("reply_markup")
        data = json.loads(markup) if isinstance(markup, str) else markup or {}
        return bool(data.get("remove_keyboard"))

    async def wait_for(self, predicate: Any, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError("the bot did not do what was expected in time")
            await asyncio.sleep(0.02)


def _chat_id(params: dict[str, Any]) -> int | None:
    with contextlib.suppress(KeyError, TypeError, ValueError):
        return int(params["chat_id"])
    return None
