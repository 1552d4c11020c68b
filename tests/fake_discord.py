"""A fake Discord (REST API + gateway) on 127.0.0.1 that the real discord.py client talks to.

Point discord.py at it with ``discord.http.Route.BASE = f"{fake.url}/api/v10"`` and log in with
``fake.token``. ``GET /gateway/bot`` hands out the fake's own websocket URL, so an
``AutoShardedBot`` (``shard_count=None``) connects here too and never touches the network.

What it speaks, as Discord does:

* REST: the routes a bot uses (login, gateway discovery, application commands, channel and
  DM messages with JSON or multipart bodies, interaction callbacks with ``?with_response=1``,
  follow-ups and ``@original`` edits). Every response carries Discord's rate-limit headers;
  errors use Discord's JSON (``{"message": ..., "code": ...}``). Unknown routes get
  ``404: Not Found`` and are recorded in ``unknown_routes``.
* Gateway: HELLO, IDENTIFY -> READY + GUILD_CREATE, heartbeats (op 1 -> op 11), dispatched
  events with sequence numbers, RESUME (op 6 -> replay of the missed events, then RESUMED)
  and ``zlib-stream`` transport compression (one compressor per connection, every payload
  ended with a ``Z_SYNC_FLUSH``). Anything the fake does not support (another compression,
  ETF, another API version, an unknown opcode, a resume of an unknown session) closes the
  socket with an error code and is recorded in ``errors``, so a test can fail loudly.

Paths in ``requests`` and ``unknown_routes`` are relative to ``/api/v10`` and carry no query.
``channel_messages``/``dms`` list what the bot posted with ``POST /channels/{id}/messages``
(latest state, after edits); interaction replies are in ``responses(interaction_id)``.

As strict as Discord about message delivery, so delivery code meets Discord's limits and faults:

* Nonces: ``POST /channels/{id}/messages`` with ``nonce`` and ``enforce_nonce: true`` returns
  the message already created with that nonce in that channel within ``nonce_window`` seconds
  instead of creating another. discord.py's ``channel.send()`` sends both, with a random nonce
  unless ``nonce=`` is given: its own retries are safe, a re-send by the bot is not unless the
  bot passes the same ``nonce=``.
* Rate limits: a global token bucket (``global_rate_limit`` requests per second per bot, across
  the bot's routes; interaction and webhook routes are exempt, as on Discord) and the
  per-channel message bucket (``channel_message_limit`` per ``channel_message_period``,
  announced truthfully in the ``X-RateLimit-*`` headers so discord.py paces itself). Every 429
  answered is counted in ``served_429``.
* Faults: ``fault(mode, ...)`` schedules proxy 502s, 500s after the work was done, responses
  held past the client's patience, or a port that refuses connections for a while.
* Inspection: ``dm_counts()`` and ``message_times()`` count and time the messages the bot
  created, to measure duplicates and rates.
* Attachments: a person's DM can carry files (``dm(..., files=...)``), up to
  ``attachment_size_limit`` each. As on Discord's CDN, an attachment URL is signed and
  expires (``?ex=<hex unix time>&is=<hex>&hm=<signature>``): the file is served only at
  that exact URL before it expires, and anything else is a 404.
* Shards: ``GET /gateway/bot`` recommends ``shard_count`` shards; each IDENTIFY with
  ``shard: [id, count]`` gets its own session; DMs go to shard 0, guild events to shard
  ``(guild_id >> 22) % count``.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hashlib
import inspect
import json
import logging
import math
import re
import secrets
import time
import zlib
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from aiohttp import WSMsgType, web

log = logging.getLogger(__name__)

DISCORD_EPOCH_MS = 1420070400000

# Gateway intents (https://discord.com/developers/docs/events/gateway#gateway-intents).
INTENT_GUILDS = 1 << 0
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_PRESENCES = 1 << 8
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_DIRECT_MESSAGES = 1 << 12
INTENT_MESSAGE_CONTENT = 1 << 15
PRIVILEGED_INTENTS = INTENT_GUILD_MEMBERS | INTENT_GUILD_PRESENCES | INTENT_MESSAGE_CONTENT

# Permission bits.
ADMINISTRATOR = 1 << 3
MANAGE_GUILD = 1 << 5
EVERYONE_PERMISSIONS = (
    (1 << 0)  # create instant invite
    | (1 << 6)  # add reactions
    | (1 << 10)  # view channel
    | (1 << 11)  # send messages
    | (1 << 14)  # embed links
    | (1 << 15)  # attach files
    | (1 << 16)  # read message history
    | (1 << 18)  # use external emojis
    | (1 << 26)  # change nickname
    | (1 << 31)  # use application commands
    | (1 << 38)  # send messages in threads
)
BOT_ROLE_PERMISSIONS = EVERYONE_PERMISSIONS | (1 << 13) | (1 << 35)  # manage messages, threads
DM_APP_PERMISSIONS = EVERYONE_PERMISSIONS

# Message flags.
FLAG_SUPPRESS_EMBEDS = 1 << 2
FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7
FLAG_SUPPRESS_NOTIFICATIONS = 1 << 12
FLAG_COMPONENTS_V2 = 1 << 15
SELECT_TYPES = (3, 5, 6, 7, 8)  # string, user, role, mentionable and channel selects
SENDABLE_FLAGS = FLAG_SUPPRESS_EMBEDS | FLAG_SUPPRESS_NOTIFICATIONS | FLAG_COMPONENTS_V2

# Interaction and callback types.
PING, APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 1, 2, 3, 4, 5
CHANNEL_MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE = 4, 5, 6, 7
AUTOCOMPLETE_RESULT, MODAL = 8, 9
ALLOWED_CALLBACKS: dict[int, set[int]] = {
    APPLICATION_COMMAND: {CHANNEL_MESSAGE, DEFERRED_MESSAGE, MODAL},
    MESSAGE_COMPONENT: {CHANNEL_MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE, MODAL},
    AUTOCOMPLETE: {AUTOCOMPLETE_RESULT},
    MODAL_SUBMIT: {CHANNEL_MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE},
}

# Application command option types.
OPT_SUB_COMMAND, OPT_SUB_COMMAND_GROUP = 1, 2
OPT_STRING, OPT_INTEGER, OPT_BOOLEAN, OPT_USER, OPT_CHANNEL, OPT_ROLE = 3, 4, 5, 6, 7, 8
OPT_MENTIONABLE, OPT_NUMBER, OPT_ATTACHMENT = 9, 10, 11

COMMAND_NAME = re.compile(r"^[-_\w]{1,32}$")
FILE_FIELD = re.compile(r"^files\[(\d+)\]$")
JSON_TYPE = "application/json"
NONCE_MAX_LENGTH = 25

# Fault modes for FakeDiscord.fault().
FAULT_MODES = ("5xx_before", "5xx_after", "timeout_after", "refuse")
PROXY_502 = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n"
    "</body>\r\n</html>\r\n"
)


class ApiError(Exception):
    """An error answered the way Discord does: an HTTP status plus ``{"message", "code"}``."""

    def __init__(
        self, status: int, code: int, message: str, errors: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status, self.code, self.message, self.errors = status, code, message, errors

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors:
            body["errors"] = self.errors
        return body


def _invalid_form(field_name: str, message: str) -> ApiError:
    errors = {field_name: {"_errors": [{"code": "BASE_TYPE_INVALID", "message": message}]}}
    return ApiError(400, 50035, "Invalid Form Body", errors)


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


def _dumps(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def _walk_components(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every component in a (possibly nested) component tree, depth first."""
    found: list[dict[str, Any]] = []
    for component in components:
        found.append(component)
        found.extend(_walk_components(component.get("components") or []))
        for key in ("component", "accessory"):
            if isinstance(component.get(key), dict):
                found.extend(_walk_components([component[key]]))
    return found


@dataclass(eq=False)
class _Connection:
    ws: web.WebSocketResponse
    compressor: Any  # zlib compress object, or None for uncompressed text frames
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    session: _Session | None = None
    sent: int = 0

    async def send(self, payload: dict[str, Any]) -> bool:
        raw = _dumps(payload)
        async with self.lock:
            if self.ws.closed:
                return False
            try:
                if self.compressor is None:
                    await self.ws.send_str(raw)
                else:
                    blob = self.compressor.compress(raw.encode())
                    blob += self.compressor.flush(zlib.Z_SYNC_FLUSH)
                    await self.ws.send_bytes(blob)
            except (ConnectionError, RuntimeError):
                return False
        self.sent += 1
        return True


@dataclass
class _Session:
    id: str
    shard: list[int]
    intents: int
    seq: int = 0
    log: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)
    conn: _Connection | None = None


@dataclass
class _Fault:
    """A scheduled REST fault: active until ``until`` (monotonic) or for ``calls`` more requests."""

    mode: str
    paths: str | None
    until: float | None
    calls: int | None
    hold: float

    def active(self, now: float) -> bool:
        return (self.until is None or now < self.until) and (self.calls is None or self.calls > 0)


@dataclass
class _Interaction:
    id: int
    token: str
    type: int
    user_id: int
    channel_id: int
    in_guild: bool
    payload: dict[str, Any]
    created: float
    message_id: int | None = None  # the message a component/modal interaction came from
    callback_type: int | None = None
    original_id: int | None = None
    responses: list[dict[str, Any]] = field(default_factory=list)


class FakeDiscord:
    """One application, one bot, one guild with the text channel #workshop.

    Events (``slash``, ``autocomplete``, ``press``, ``submit_modal``, ``dm``) go out over the
    live gateway; while the socket is down they are kept and replayed on RESUME. The helpers
    raise (LookupError, ValueError, PermissionError) where Discord's own client would not let a
    user do the thing at all: an unsynced command, a missing required option, a command the
    member may not see, a button that is not on the message, a missing required modal input.

    Answering an interaction after ``callback_deadline`` seconds gets Discord's 404 "Unknown
    interaction". The bot's own messages come back as MESSAGE_CREATE when its intents ask for
    them (DMs with ``dm_messages``), as on Discord.

    Extras beyond the core API: ``token`` (log in with it), ``ws_url``, ``errors`` (protocol
    violations and fake crashes; a test should assert it is empty), ``unknown_routes``,
    ``dm_channel_id(user_id)``, ``allow_dm(user_id)``, ``message(id)``, ``global_commands``,
    ``guild_commands``, ``intents``, ``heartbeats``, ``replayed``, ``presence_updates``.

    Delivery strictness (see the module docstring): ``nonce_window``, ``global_rate_limit``,
    ``channel_message_limit``/``channel_message_period``, ``served_429``, ``fault()``,
    ``clear_faults()``, ``faults_served``, ``listening``, ``shard_count``,
    ``identified_shards``, ``undelivered``, ``dm_counts()``, ``message_times()``.
    """

    application_id: int = 900100
    bot_id: int = 900101
    guild_id: int = 500100
    channel_id: int = 600100  # the text channel "#workshop"
    manager_role_id: int = 500101  # has MANAGE_GUILD; add_member(manage_guild=True) gives it
    bot_role_id: int = 500102  # the bot's managed role
    owner_id: int = 500199
    token: str = "fake-bot-token.for-the-fake-discord"
    bot_name: str = "Wholehearted"
    guild_name: str = "Wholehearted Workshops"
    heartbeat_interval_ms: int = 1000
    callback_deadline: float = 3.0  # Discord forgets an unanswered interaction after 3 s
    attachment_size_limit: int = 10 * 1024 * 1024
    # How long a signed attachment URL works (Discord's last about a day).
    attachment_url_lifetime: float = 24 * 3600.0
    # A POST /channels/{id}/messages with ``nonce`` and ``enforce_nonce: true`` returns the
    # message created with the same nonce in the same channel within this many seconds.
    nonce_window: float = 300.0
    # Requests per second per bot across its routes (a token bucket holding this many
    # requests); None switches the global limit off.
    global_rate_limit: float | None = 50.0
    # Discord's per-channel message bucket: this many POST /channels/{id}/messages per period.
    channel_message_limit: int = 5
    channel_message_period: float = 5.0
    # What GET /gateway/bot recommends; guild events go to shard (guild_id >> 22) % count.
    shard_count: int = 1

    def __init__(self) -> None:
        self.url = ""
        self.ws_url = ""
        self.port = 0
        self.ready = asyncio.Event()
        self.requests: list[tuple[str, str, float]] = []
        self.unknown_routes: list[tuple[str, str]] = []
        self.errors: list[str] = []
        self.synced_commands: list[dict[str, Any]] = []
        self.global_commands: list[dict[str, Any]] = []
        self.guild_commands: dict[int, list[dict[str, Any]]] = {}
        self.identifies = 0
        self.resumes = 0
        self.replayed = 0
        self.heartbeats = 0
        self.intents: int | None = None
        self.presence_updates: list[dict[str, Any]] = []
        self._users: dict[int, dict[str, Any]] = {}
        self._members: dict[int, dict[str, Any]] = {}
        self._channels: dict[int, dict[str, Any]] = {}
        self._dm_channels: dict[int, int] = {}  # user id -> DM channel id
        self._messages: dict[int, dict[str, Any]] = {}
        self._posted: dict[int, list[int]] = {}  # channel id -> ids of messages the bot posted
        self._attachments: dict[int, bytes] = {}
        self._cdn_key = secrets.token_bytes(16)
        self.attachment_downloads = 0
        self._interactions: dict[int, _Interaction] = {}
        self._by_token: dict[str, _Interaction] = {}
        self._modals: dict[str, tuple[_Interaction, dict[str, Any]]] = {}
        self._dm_failures: dict[int, tuple[int, int]] = {}
        self._rate_limits: list[tuple[str, float, str]] = []
        self._command_ids: dict[tuple[int | None, str, int], int] = {}
        self.served_429 = 0
        self.faults_served: dict[str, int] = dict.fromkeys(FAULT_MODES, 0)
        self.identified_shards: list[tuple[int, int]] = []
        self.undelivered: list[tuple[str, int]] = []  # (event, shard) with no session to take it
        self._sessions: dict[int, _Session] = {}  # shard id -> its latest session
        self._connections: set[_Connection] = set()
        self._nonces: dict[tuple[int, str], tuple[float, int]] = {}
        self._created: list[tuple[float, int, int]] = []  # (monotonic, channel id, message id)
        self._global_tokens: float | None = None
        self._global_at = 0.0
        self._message_windows: dict[int, tuple[float, int]] = {}  # channel -> (start, used)
        self._faults: list[_Fault] = []
        self._listener: asyncio.Server | None = None
        self._refusal: asyncio.Task[None] | None = None
        self._refusal_over = asyncio.Event()
        self._stopping = asyncio.Event()
        self._busy: set[Any] = set()  # aiohttp RequestHandlers serving a request right now
        self._changed = asyncio.Event()
        self._last_id = 0
        self._runner: web.AppRunner | None = None
        self._routes = self._route_table()
        self._users[self.bot_id] = self._bot_user()
        self._users[self.owner_id] = self._make_user(self.owner_id, "Owner")
        self._channels[self.channel_id] = self._text_channel()

    # --- server --------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/resume-gateway", self._gateway)
        app.router.add_get("/attachments/{channel}/{attachment}/{filename}", self._attachment)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        app.router.add_route("*", "/{tail:.*}", self._unversioned)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        await self._listen()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/gateway"

    async def _listen(self) -> None:
        """Listen on 127.0.0.1: a free port the first time, the same port ever after."""
        assert self._runner is not None and self._runner.server is not None
        loop = asyncio.get_running_loop()
        for attempt in range(20):
            try:
                self._listener = await loop.create_server(
                    self._runner.server, "127.0.0.1", self.port, reuse_address=True
                )
                break
            except OSError:  # the port is briefly unavailable: try again
                if attempt == 19:
                    raise
                await asyncio.sleep(0.05)
        assert self._listener is not None
        self.port = self._listener.sockets[0].getsockname()[1]
        self._notify()

    @property
    def listening(self) -> bool:
        """Whether the port accepts connections (False while a "refuse" fault lasts)."""
        return self._listener is not None

    async def stop(self) -> None:
        self._stopping.set()  # releases responses held by "timeout_after"
        if self._refusal is not None:
            self._refusal.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refusal
            self._refusal = None
        for conn in list(self._connections):
            with contextlib.suppress(Exception):
                await conn.ws.close(code=1001, message=b"fake discord stopping")
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for(
        self, predicate: Callable[[], Any | Awaitable[Any]], timeout: float = 10.0
    ) -> None:
        """Wait until ``predicate()`` (no arguments, may be async) is truthy."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = predicate()
            if inspect.isawaitable(result):
                result = await result
            if result:
                return
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout} s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.02))

    # --- world ---------------------------------------------------------------------------

    def add_member(self, user_id: int, name: str, *, manage_guild: bool = False) -> None:
        user = self._make_user(user_id, name)
        self._users[user_id] = user
        roles = [str(self.manager_role_id)] if manage_guild else []
        self._members[user_id] = self._make_member(user, roles)

    def dm_channel_id(self, user_id: int) -> int:
        """The id of the DM channel between the bot and that user (created on first use)."""
        self._user(user_id)
        if user_id not in self._dm_channels:
            channel_id = self._snowflake()
            self._dm_channels[user_id] = channel_id
            self._channels[channel_id] = {
                "id": str(channel_id),
                "type": 1,
                "last_message_id": None,
                "flags": 0,
                "recipients": [self._user(user_id)],
            }
        return self._dm_channels[user_id]

    def fail_dm(self, user_id: int, code: int = 50007, status: int = 403) -> None:
        self._dm_failures[user_id] = (code, status)

    def allow_dm(self, user_id: int) -> None:
        self._dm_failures.pop(user_id, None)

    def rate_limit_next(
        self, path_contains: str, retry_after: float, *, scope: str = "user"
    ) -> None:
        """Answer the next REST request whose path contains ``path_contains`` with a 429.

        ``scope`` is the ``X-RateLimit-Scope`` Discord names: "user" (the bot's own bucket) or
        "shared" (a per-resource limit shared with everyone, which the bot cannot foresee)."""
        if scope not in ("user", "shared"):
            raise ValueError(f"scope must be 'user' or 'shared', not {scope!r}")
        self._rate_limits.append((path_contains, retry_after, scope))

    def fault(
        self,
        mode: str,
        *,
        seconds: float | None = None,
        calls: int | None = None,
        paths: str | None = None,
        hold: float = 30.0,
    ) -> None:
        """Schedule a fault on REST requests whose path contains ``paths`` (None: every route).

        It lasts the next ``seconds``, or the next ``calls`` matching requests, whichever ends
        first (neither: until ``clear_faults()``). Modes:

        * ``"5xx_before"``: the proxy in front of Discord answers 502 with an HTML page; the API
          never sees the request, so nothing is created and no rate limit is spent.
        * ``"5xx_after"``: the request is carried out exactly as a success would be (a message
          is created and dispatched), then answered 500 with Discord's JSON
          ``{"message": "500: Internal Server Error", "code": 0}``.
        * ``"timeout_after"``: the request is carried out, then its answer is held ``hold``
          seconds (or until ``stop()``) before it is sent.
        * ``"refuse"``: the port stops listening for ``seconds`` (required; ``calls`` and
          ``paths`` do not apply) and open connections are closed once idle, so new requests
          fail with "connection refused"; then the fake listens on the same port again. Live
          gateway sockets stay up.

        ``faults_served[mode]`` counts the requests a fault answered (for "refuse": the outages).
        """
        if mode not in FAULT_MODES:
            raise ValueError(f"unknown fault mode {mode!r}; one of {FAULT_MODES}")
        if seconds is not None and seconds <= 0:
            raise ValueError("seconds must be positive")
        if calls is not None and calls <= 0:
            raise ValueError("calls must be positive")
        if mode == "refuse":
            if seconds is None or calls is not None or paths is not None:
                raise ValueError("a 'refuse' fault takes seconds, and neither calls nor paths")
            self._refuse(seconds)
            return
        until = None if seconds is None else time.monotonic() + seconds
        self._faults.append(_Fault(mode, paths, until, calls, hold))

    def clear_faults(self) -> None:
        """Cancel every scheduled fault; a refusing port listens again (see ``listening``)."""
        self._faults.clear()
        self._refusal_over.set()

    def _take_fault(self, path: str, modes: tuple[str, ...]) -> _Fault | None:
        """The first active fault in ``modes`` matching ``path``, spending one of its calls."""
        now = time.monotonic()
        self._faults = [f for f in self._faults if f.active(now)]
        for fault in self._faults:
            if fault.mode in modes and (fault.paths is None or fault.paths in path):
                if fault.calls is not None:
                    fault.calls -= 1
                self.faults_served[fault.mode] += 1
                return fault
        return None

    def _refuse(self, seconds: float) -> None:
        if self._runner is None or self._runner.server is None:
            raise RuntimeError("the fake is not running")
        if self._refusal is not None:
            self._refusal.cancel()
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        for handler in self._runner.server.connections:
            if handler in self._busy:
                handler.close()  # a gateway socket or a request in flight: close when done
            else:
                handler.force_close()  # an idle keep-alive connection: close now
        self.faults_served["refuse"] += 1
        self._refusal_over = asyncio.Event()
        self._refusal = asyncio.get_running_loop().create_task(self._listen_after(seconds))
        self._notify()

    async def _listen_after(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._refusal_over.wait(), seconds)
        if self._listener is None and not self._stopping.is_set():
            await self._listen()

    # --- inspection ----------------------------------------------------------------------

    def responses(self, interaction_id: str | int) -> list[dict[str, Any]]:
        """Every callback, follow-up and edit for that interaction, in order.

        Each entry: ``kind`` ("callback", "followup", "edit", "delete"), ``type`` (the callback
        type, or None), ``data`` (callback data, or the follow-up/edit message payload),
        ``files`` ([{"filename", "content_type", "data": bytes}]), ``message`` (the message
        created or edited, as returned to the client, or None), ``target`` ("@original" or a
        message id for edits), ``status`` (the HTTP status answered).
        """
        record = self._interactions.get(int(interaction_id))
        return copy.deepcopy(record.responses) if record else []

    def channel_messages(self, channel_id: int) -> list[dict[str, Any]]:
        ids = self._posted.get(int(channel_id), [])
        return [copy.deepcopy(self._messages[i]) for i in ids if i in self._messages]

    def dms(self, user_id: int) -> list[dict[str, Any]]:
        channel_id = self._dm_channels.get(user_id)
        return [] if channel_id is None else self.channel_messages(channel_id)

    def message(self, message_id: int | str) -> dict[str, Any] | None:
        found = self._messages.get(int(message_id))
        return copy.deepcopy(found) if found else None

    def dm_counts(self) -> Counter[int]:
        """User id -> how many messages the bot created in that user's DM channel.

        Counts creations by ``POST /channels/{id}/messages`` (a nonce-deduplicated retry creates
        nothing; a deleted message still counts), so a duplicate delivery shows as a 2."""
        users = {channel: user for user, channel in self._dm_channels.items()}
        return Counter(users[channel] for _, channel, _ in self._created if channel in users)

    def message_times(self, channel_id: int | None = None) -> list[float]:
        """The ``time.monotonic()`` at which each message was created by the bot with
        ``POST /channels/{id}/messages`` (in ``channel_id`` only, if given), in order."""
        return [at for at, channel, _ in self._created if channel_id in (None, channel)]

    # --- events --------------------------------------------------------------------------

    async def slash(
        self,
        user_id: int,
        command: str,
        options: dict[str, object] | None = None,
        *,
        subcommand: str | None = None,
        in_guild: bool = False,
    ) -> str:
        cmd = self._find_command(command, in_guild)
        self._check_can_use(cmd, user_id, in_guild)
        data = self._command_data(cmd, options or {}, subcommand, in_guild, focused=None)
        channel_id = self.channel_id if in_guild else self.dm_channel_id(user_id)
        record = self._new_interaction(APPLICATION_COMMAND, user_id, channel_id, in_guild, data)
        await self._dispatch_interaction(record)
        return str(record.id)

    async def autocomplete(
        self,
        user_id: int,
        command: str,
        option: str,
        value: str,
        *,
        in_guild: bool = False,
        subcommand: str | None = None,
        options: dict[str, object] | None = None,
    ) -> str:
        cmd = self._find_command(command, in_guild)
        self._check_can_use(cmd, user_id, in_guild)
        values = dict(options or {})
        values[option] = value
        data = self._command_data(cmd, values, subcommand, in_guild, focused=option)
        channel_id = self.channel_id if in_guild else self.dm_channel_id(user_id)
        record = self._new_interaction(AUTOCOMPLETE, user_id, channel_id, in_guild, data)
        await self._dispatch_interaction(record)
        return str(record.id)

    async def press(
        self,
        user_id: int,
        custom_id: str,
        *,
        message: dict[str, Any],
        in_guild: bool = False,
        values: list[str] | None = None,
    ) -> str:
        """Click a button (or pick ``values`` in a select) on a message the fake recorded."""
        stored = self._messages.get(int(message["id"]))
        if stored is None:
            stored = copy.deepcopy(message)
            self._messages[int(message["id"])] = stored
        channel_id = int(stored["channel_id"])
        in_guild = self._check_context(channel_id, in_guild)
        component = next(
            (
                c
                for c in _walk_components(stored.get("components") or [])
                if c.get("custom_id") == custom_id
            ),
            None,
        )
        if component is None:
            raise LookupError(f"message {stored['id']} has no component {custom_id!r}")
        if component.get("disabled"):
            raise ValueError(f"component {custom_id!r} is disabled; Discord would not send a click")
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": component["type"]}
        if "id" in component:
            data["id"] = component["id"]
        if component["type"] != 2:
            data["values"] = list(values or [])
        record = self._new_interaction(
            MESSAGE_COMPONENT, user_id, channel_id, in_guild, data, message=stored
        )
        await self._dispatch_interaction(record)
        return str(record.id)

    async def submit_modal(
        self,
        user_id: int,
        custom_id: str,
        values: dict[str, str],
        *,
        message: dict[str, Any] | None = None,
        in_guild: bool = False,
    ) -> str:
        """Submit a modal. If the bot opened it through the fake, the submission mirrors that
        modal's layout (action rows or labels) and happens where it was opened."""
        opened = self._modals.get(custom_id)
        if opened is not None:
            opener, modal = opened
            components = self._modal_submission(modal, values)
            channel_id, in_guild = opener.channel_id, opener.in_guild
            if message is None and opener.message_id is not None:
                message = self._messages.get(opener.message_id)
        else:
            components = [
                {"type": 1, "components": [{"type": 4, "custom_id": key, "value": value}]}
                for key, value in values.items()
            ]
            if message is not None:
                channel_id = int(message["channel_id"])
                in_guild = self._check_context(channel_id, in_guild)
            else:
                channel_id = self.channel_id if in_guild else self.dm_channel_id(user_id)
        data = {"custom_id": custom_id, "components": components}
        record = self._new_interaction(
            MODAL_SUBMIT, user_id, channel_id, in_guild, data, message=message
        )
        await self._dispatch_interaction(record)
        return str(record.id)

    async def dm(
        self, user_id: int, content: str, *, files: tuple[tuple[str, bytes], ...] = ()
    ) -> None:
        """A person's DM to the bot, with files attached as (file name, bytes)."""
        channel_id = self.dm_channel_id(user_id)
        author = self._public_user(user_id)
        attached = [
            {"index": i, "filename": name, "data": data, "content_type": "application/x-yaml"}
            for i, (name, data) in enumerate(files)
        ]
        message = self._new_message(channel_id, {"content": content}, attached, author=author)
        self._messages[int(message["id"])] = message
        self._channels[channel_id]["last_message_id"] = message["id"]
        await self._dispatch_message_create(message)

    async def disconnect(self, code: int = 4000, *, shard_id: int | None = None) -> None:
        """Close the live gateway socket of ``shard_id`` (None: of every shard); the client
        should reconnect and RESUME."""
        live = [
            s
            for s in self._sessions.values()
            if s.conn is not None and shard_id in (None, s.shard[0])
        ]
        if not live:
            raise RuntimeError("no live gateway connection to close")
        for session in live:
            conn, session.conn = session.conn, None
            assert conn is not None
            await conn.ws.close(code=code, message=b"fake disconnect")

    # --- helpers: objects ----------------------------------------------------------------

    def _snowflake(self) -> int:
        candidate = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        self._last_id = max(candidate, self._last_id + 1)
        return self._last_id

    def _make_user(self, user_id: int, name: str, *, bot: bool = False) -> dict[str, Any]:
        return {
            "id": str(user_id),
            "username": re.sub(r"[^a-z0-9_.]", "_", name.lower()) or "user",
            "discriminator": "0",
            "global_name": name,
            "avatar": None,
            "bot": bot,
            "system": False,
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
            "collectibles": None,
            "primary_guild": None,
            "clan": None,
        }

    def _bot_user(self) -> dict[str, Any]:
        user = self._make_user(self.bot_id, self.bot_name, bot=True)
        user.update(
            username=self.bot_name,
            global_name=None,
            verified=True,
            mfa_enabled=False,
            email=None,
            locale="en-US",
            premium_type=0,
        )
        return user

    def _public_user(self, user_id: int) -> dict[str, Any]:
        user = dict(self._user(user_id))
        for private in ("verified", "mfa_enabled", "email", "locale", "premium_type"):
            user.pop(private, None)
        return user

    def _user(self, user_id: int) -> dict[str, Any]:
        try:
            return self._users[user_id]
        except KeyError:
            raise LookupError(f"unknown user {user_id}; call add_member() first") from None

    def _make_member(self, user: dict[str, Any], roles: list[str]) -> dict[str, Any]:
        return {
            "user": user,
            "roles": roles,
            "joined_at": _now_iso(),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "nick": None,
            "avatar": None,
            "banner": None,
            "communication_disabled_until": None,
            "unusual_dm_activity_until": None,
            "avatar_decoration_data": None,
            "collectibles": None,
        }

    def _roles(self) -> list[dict[str, Any]]:
        def role(
            role_id: int, name: str, position: int, permissions: int, **extra: Any
        ) -> dict[str, Any]:
            return {
                "id": str(role_id),
                "name": name,
                "color": 0,
                "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
                "hoist": False,
                "icon": None,
                "unicode_emoji": None,
                "position": position,
                "permissions": str(permissions),
                "managed": False,
                "mentionable": False,
                "flags": 0,
                **extra,
            }

        return [
            role(self.guild_id, "@everyone", 0, EVERYONE_PERMISSIONS),
            role(self.manager_role_id, "Facilitators", 1, EVERYONE_PERMISSIONS | MANAGE_GUILD),
            role(
                self.bot_role_id,
                self.bot_name,
                2,
                BOT_ROLE_PERMISSIONS,
                managed=True,
                tags={"bot_id": str(self.bot_id)},
            ),
        ]

    def _permissions(self, role_ids: list[str]) -> int:
        total = 0
        for role in self._roles():
            if role["id"] == str(self.guild_id) or role["id"] in role_ids:
                total |= int(role["permissions"])
        return total

    def _text_channel(self) -> dict[str, Any]:
        return {
            "id": str(self.channel_id),
            "type": 0,
            "guild_id": str(self.guild_id),
            "name": "workshop",
            "position": 0,
            "permission_overwrites": [],
            "nsfw": False,
            "topic": None,
            "last_message_id": None,
            "parent_id": None,
            "rate_limit_per_user": 0,
            "flags": 0,
        }

    def _bot_member(self) -> dict[str, Any]:
        return self._make_member(self._public_user(self.bot_id), [str(self.bot_role_id)])

    def _guild(self, *, full: bool) -> dict[str, Any]:
        guild: dict[str, Any] = {
            "id": str(self.guild_id),
            "name": self.guild_name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "roles": self._roles(),
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": str(self.channel_id),
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "max_members": 500000,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "incidents_data": None,
        }
        if full:  # the GUILD_CREATE extras
            guild.update(
                joined_at=_now_iso(),
                large=False,
                unavailable=False,
                lazy=True,
                member_count=1 + len(self._members),
                members=[self._bot_member()],  # without GUILD_MEMBERS only the bot itself
                channels=[{k: v for k, v in self._text_channel().items() if k != "guild_id"}],
                threads=[],
                presences=[],
                voice_states=[],
                stage_instances=[],
                guild_scheduled_events=[],
                soundboard_sounds=[],
                embedded_activities=[],
                application_command_counts={},
                version=int(time.time() * 1000),
            )
        return guild

    def _application(self) -> dict[str, Any]:
        return {
            "id": str(self.application_id),
            "name": self.bot_name,
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "bot_public": False,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "flags": 0,
            "owner": self._public_user(self.owner_id),
            "team": None,
            "rpc_origins": [],
            "redirect_uris": [],
            "tags": [],
            "interactions_endpoint_url": None,
            "role_connections_verification_url": None,
            "approximate_guild_count": 1,
            "integration_types_config": {"0": {}},
            "bot": self._public_user(self.bot_id),
        }

    # --- helpers: interactions -----------------------------------------------------------

    def _check_context(self, channel_id: int, in_guild: bool) -> bool:
        channel = self._channels.get(channel_id)
        if channel is None:
            raise LookupError(f"unknown channel {channel_id}")
        guild_channel = "guild_id" in channel
        if in_guild and not guild_channel:
            raise ValueError(f"channel {channel_id} is a DM, not a guild channel")
        return guild_channel

    def _find_command(self, name: str, in_guild: bool) -> dict[str, Any]:
        candidates = list(self.guild_commands.get(self.guild_id, [])) if in_guild else []
        candidates += self.global_commands
        for cmd in candidates:
            if cmd["name"] == name and cmd.get("type", 1) == 1:
                return cmd
        where = "the guild or globally" if in_guild else "globally"
        known = sorted({c["name"] for c in candidates})
        raise LookupError(f"/{name} is not synced {where} (synced: {known})")

    def _check_can_use(self, cmd: dict[str, Any], user_id: int, in_guild: bool) -> None:
        context = 0 if in_guild else 1
        contexts = cmd.get("contexts")
        if contexts is not None and context not in contexts:
            raise PermissionError(f"/{cmd['name']} is not allowed in context {context}")
        if not in_guild and cmd.get("dm_permission") is False:
            raise PermissionError(f"/{cmd['name']} is not available in DMs")
        if in_guild:
            member = self._members.get(user_id)
            if member is None:
                raise LookupError(f"user {user_id} is not a guild member; call add_member()")
            required = cmd.get("default_member_permissions")
            have = self._permissions(member["roles"])
            lacking = required is not None and (int(required) & ~have or int(required) == 0)
            if lacking and not have & ADMINISTRATOR:
                raise PermissionError(f"user {user_id} cannot see /{cmd['name']}")

    def _command_data(
        self,
        cmd: dict[str, Any],
        values: dict[str, object],
        subcommand: str | None,
        in_guild: bool,
        focused: str | None,
    ) -> dict[str, Any]:
        resolved: dict[str, dict[str, Any]] = {}
        definitions = cmd.get("options") or []
        path: list[dict[str, Any]] = []
        for part in (subcommand or "").split():
            match = next(
                (
                    o
                    for o in definitions
                    if o["name"] == part and o["type"] in (OPT_SUB_COMMAND, OPT_SUB_COMMAND_GROUP)
                ),
                None,
            )
            if match is None:
                raise LookupError(f"/{cmd['name']} has no subcommand {part!r}")
            path.append(match)
            definitions = match.get("options") or []
        if any(o["type"] in (OPT_SUB_COMMAND, OPT_SUB_COMMAND_GROUP) for o in definitions):
            raise ValueError(f"/{cmd['name']} needs a subcommand")
        leaf = [
            self._option(cmd["name"], definitions, name, value, focused, resolved, in_guild)
            for name, value in values.items()
        ]
        if focused is None:
            for definition in definitions:
                if definition.get("required") and definition["name"] not in values:
                    raise ValueError(f"/{cmd['name']} needs option {definition['name']!r}")
        options = leaf
        for parent in reversed(path):
            options = [{"name": parent["name"], "type": parent["type"], "options": options}]
        data: dict[str, Any] = {
            "id": cmd["id"],
            "name": cmd["name"],
            "type": 1,
            "options": options,
        }
        if cmd.get("guild_id"):
            data["guild_id"] = cmd["guild_id"]
        if resolved:
            data["resolved"] = resolved
        return data

    def _option(
        self,
        command: str,
        definitions: list[dict[str, Any]],
        name: str,
        value: object,
        focused: str | None,
        resolved: dict[str, dict[str, Any]],
        in_guild: bool,
    ) -> dict[str, Any]:
        definition = next((d for d in definitions if d["name"] == name), None)
        if definition is None:
            known = [d["name"] for d in definitions]
            raise LookupError(f"/{command} has no option {name!r} (options: {known})")
        kind = definition["type"]
        option: dict[str, Any] = {"name": name, "type": kind}
        if name == focused:
            if not definition.get("autocomplete"):
                raise ValueError(f"option {name!r} of /{command} has no autocomplete")
            option.update(value=str(value), focused=True)
            return option
        if kind == OPT_STRING:
            option["value"] = str(value)
        elif kind == OPT_INTEGER:
            option["value"] = int(value)  # type: ignore[call-overload]
        elif kind == OPT_NUMBER:
            option["value"] = float(value)  # type: ignore[arg-type]
        elif kind == OPT_BOOLEAN:
            option["value"] = bool(value)
        elif kind in (OPT_USER, OPT_MENTIONABLE) and int(value) in self._users:  # type: ignore[call-overload]
            user_id = int(value)  # type: ignore[call-overload]
            option["value"] = str(user_id)
            resolved.setdefault("users", {})[str(user_id)] = self._public_user(user_id)
            if in_guild and user_id in self._members:
                member = {k: v for k, v in self._members[user_id].items() if k != "user"}
                member["permissions"] = str(self._permissions(member["roles"]))
                resolved.setdefault("members", {})[str(user_id)] = member
        elif kind in (OPT_ROLE, OPT_MENTIONABLE):
            role = next((r for r in self._roles() if r["id"] == str(value)), None)
            if role is None:
                raise LookupError(f"unknown role {value}")
            option["value"] = role["id"]
            resolved.setdefault("roles", {})[role["id"]] = role
        elif kind == OPT_CHANNEL:
            channel = self._channels.get(int(value))  # type: ignore[call-overload]
            if channel is None:
                raise LookupError(f"unknown channel {value}")
            option["value"] = channel["id"]
            partial = {k: channel[k] for k in ("id", "type", "name") if k in channel}
            partial["permissions"] = str(EVERYONE_PERMISSIONS)
            resolved.setdefault("channels", {})[channel["id"]] = partial
        elif kind == OPT_USER:
            raise LookupError(f"unknown user {value}; call add_member() first")
        else:
            raise NotImplementedError(f"option type {kind} is not supported by the fake")
        choices = definition.get("choices")
        if choices and option["value"] not in [c["value"] for c in choices]:
            raise ValueError(f"{value!r} is not one of the choices of option {name!r}")
        return option

    def _new_interaction(
        self,
        kind: int,
        user_id: int,
        channel_id: int,
        in_guild: bool,
        data: dict[str, Any],
        *,
        message: dict[str, Any] | None = None,
    ) -> _Interaction:
        if not self._sessions:
            raise RuntimeError("the client has not identified on the gateway yet")
        user = self._public_user(user_id)
        interaction_id = self._snowflake()
        token = f"{interaction_id}.{secrets.token_urlsafe(24)}"
        channel = dict(self._channels[channel_id])
        payload: dict[str, Any] = {
            "id": str(interaction_id),
            "application_id": str(self.application_id),
            "type": kind,
            "data": data,
            "token": token,
            "version": 1,
            "channel_id": str(channel_id),
            "locale": "en-US",
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": self.attachment_size_limit,
        }
        if in_guild:
            member = self._members.get(user_id)
            if member is None:
                raise LookupError(f"user {user_id} is not a guild member; call add_member()")
            permissions = self._permissions(member["roles"])
            app_permissions = self._permissions([str(self.bot_role_id)])
            channel["permissions"] = str(permissions)
            payload.update(
                guild_id=str(self.guild_id),
                guild={"id": str(self.guild_id), "locale": "en-US", "features": []},
                guild_locale="en-US",
                member={**member, "user": user, "permissions": str(permissions)},
                app_permissions=str(app_permissions),
                authorizing_integration_owners={"0": str(self.guild_id)},
                context=0,
            )
        else:
            payload.update(
                user=user,
                app_permissions=str(DM_APP_PERMISSIONS),
                authorizing_integration_owners={"0": "0"},
                context=1,
            )
        payload["channel"] = channel
        if message is not None:
            payload["message"] = copy.deepcopy(message)
        record = _Interaction(
            id=interaction_id,
            token=token,
            type=kind,
            user_id=user_id,
            channel_id=channel_id,
            in_guild=in_guild,
            payload=payload,
            created=time.monotonic(),
            message_id=int(message["id"]) if message is not None else None,
        )
        self._interactions[interaction_id] = record
        self._by_token[token] = record
        return record

    def _modal_submission(self, modal: dict[str, Any], values: dict[str, Any]) -> list[Any]:
        inputs = {
            c["custom_id"]: c
            for c in _walk_components(modal.get("components") or [])
            if c.get("type") in (3, 4) and "custom_id" in c
        }
        unknown = set(values) - set(inputs)
        if unknown:
            raise LookupError(f"modal {modal['custom_id']!r} has no inputs {sorted(unknown)}")

        def answer(component: dict[str, Any]) -> dict[str, Any]:
            custom_id = component["custom_id"]
            value = values.get(custom_id)
            if component["type"] == 4:
                text = "" if value is None else str(value)
                if component.get("required", True) and not text:
                    raise ValueError(f"modal input {custom_id!r} is required")
                if text and len(text) < component.get("min_length", 0):
                    raise ValueError(f"modal input {custom_id!r} is shorter than min_length")
                if len(text) > component.get("max_length", 4000):
                    raise ValueError(f"modal input {custom_id!r} is longer than max_length")
                return {"type": 4, "id": component.get("id"), "custom_id": custom_id, "value": text}
            picked = [] if value is None else [value] if isinstance(value, str) else list(value)
            return {
                "type": component["type"],
                "id": component.get("id"),
                "custom_id": custom_id,
                "values": picked,
            }

        submitted: list[Any] = []
        for top in modal.get("components") or []:
            if top["type"] == 1:
                submitted.append(
                    {
                        "type": 1,
                        "id": top.get("id"),
                        "components": [answer(c) for c in top["components"]],
                    }
                )
            elif top["type"] == 18:
                submitted.append(
                    {"type": 18, "id": top.get("id"), "component": answer(top["component"])}
                )
            elif top["type"] in (3, 4):
                submitted.append(answer(top))
            elif "id" in top:
                submitted.append({"type": top["type"], "id": top["id"]})
        return submitted

    # --- helpers: messages ---------------------------------------------------------------

    def _components(self, components: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Validate components like Discord does and number them (Discord assigns ids)."""
        if len(components) > 40:
            raise _invalid_form("components", "Must be 40 or fewer in length.")
        echoed = copy.deepcopy(components)
        seen: set[str] = set()
        next_id = 1 + max(
            (c["id"] for c in _walk_components(echoed) if isinstance(c.get("id"), int)), default=0
        )
        for component in _walk_components(echoed):
            if "id" not in component or component["id"] is None:
                component["id"] = next_id
                next_id += 1
            kind = component.get("type")
            if kind == 1 and not 1 <= len(component.get("components") or []) <= 5:
                raise _invalid_form("components", "An action row holds 1 to 5 components.")
            inside = component.get("components") or []
            if kind == 1 and len(inside) > 1 and any(c.get("type") in SELECT_TYPES for c in inside):
                raise _invalid_form("components", "A select menu fills its action row.")
            if kind == 3:
                self._check_select(component)
            custom_id = component.get("custom_id")
            if custom_id is not None:
                if not 1 <= len(custom_id) <= 100:
                    raise _invalid_form("custom_id", "Must be between 1 and 100 in length.")
                if custom_id in seen:
                    raise _invalid_form("custom_id", "Component custom id cannot be duplicated")
                seen.add(custom_id)
            if kind == 2:
                if component.get("style") in (5, 6):
                    continue
                if custom_id is None:
                    raise _invalid_form("custom_id", "A non-link button needs a custom_id.")
                if not component.get("label") and not component.get("emoji"):
                    raise _invalid_form("label", "A button needs a label or an emoji.")
                if len(component.get("label") or "") > 80:
                    raise _invalid_form("label", "Must be 80 or fewer in length.")
        return echoed

    @staticmethod
    def _check_select(select: dict[str, Any]) -> None:
        options = select.get("options") or []
        if not 1 <= len(options) <= 25:
            raise _invalid_form("options", "A select menu has 1 to 25 options.")
        values = [o.get("value") or "" for o in options]
        if len(set(values)) != len(values):
            raise _invalid_form("options", "Select option values must be unique.")
        for option in options:
            for key in ("label", "value"):
                if not 1 <= len(option.get(key) or "") <= 100:
                    raise _invalid_form("options", f"An option's {key} is 1 to 100 characters.")
        if len(select.get("placeholder") or "") > 150:
            raise _invalid_form("placeholder", "Must be 150 or fewer in length.")

    def _new_attachments(
        self,
        channel_id: int,
        listed: list[dict[str, Any]] | None,
        files: list[dict[str, Any]],
        existing: list[dict[str, Any]] | None = None,
    ) -> list[dict[str, Any]]:
        by_index = {f["index"]: f for f in files}
        keep = {str(a["id"]): a for a in existing or []}
        if listed is None:
            listed = [{"id": f["index"], "filename": f["filename"]} for f in files]
            listed = [*({"id": a} for a in keep), *listed] if existing else listed
        result: list[dict[str, Any]] = []
        for entry in listed:
            if str(entry.get("id")) in keep:
                result.append(keep[str(entry["id"])])
                continue
            upload = by_index.get(int(entry.get("id", -1)))
            if upload is None:
                raise _invalid_form("attachments", f"No file uploaded for attachment {entry}.")
            if len(upload["data"]) > self.attachment_size_limit:
                raise ApiError(413, 40005, "Request entity too large")
            attachment_id = self._snowflake()
            filename = entry.get("filename") or upload["filename"]
            url = self._signed_url(channel_id, attachment_id, filename)
            self._attachments[attachment_id] = upload["data"]
            attachment = {
                "id": str(attachment_id),
                "filename": filename,
                "size": len(upload["data"]),
                "url": url,
                "proxy_url": url,
                "content_type": upload["content_type"],
            }
            if entry.get("description"):
                attachment["description"] = entry["description"]
            result.append(attachment)
        return result

    def _check_message(self, payload: dict[str, Any], files: list[dict[str, Any]]) -> None:
        content = payload.get("content") or ""
        if len(content) > 2000:
            raise _invalid_form("content", "Must be 2000 or fewer in length.")
        if len(payload.get("embeds") or []) > 10:
            raise _invalid_form("embeds", "Must be 10 or fewer in length.")
        if not (
            content
            or payload.get("embeds")
            or payload.get("components")
            or files
            or payload.get("sticker_ids")
            or payload.get("poll")
        ):
            raise ApiError(400, 50006, "Cannot send an empty message")
        if int(payload.get("flags") or 0) & FLAG_COMPONENTS_V2 and (
            content or payload.get("embeds")
        ):
            raise _invalid_form("content", "Components V2 messages cannot have content or embeds.")
        rows = payload.get("components") or []
        if not int(payload.get("flags") or 0) & FLAG_COMPONENTS_V2 and (
            len(rows) > 5 or any(row.get("type") != 1 for row in rows)
        ):
            raise _invalid_form("components", "A message holds at most 5 action rows.")

    def _new_message(
        self,
        channel_id: int,
        payload: dict[str, Any],
        files: list[dict[str, Any]],
        *,
        author: dict[str, Any],
        message_type: int = 0,
        allowed_flags: int = SENDABLE_FLAGS,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        message_id = self._snowflake()
        message: dict[str, Any] = {
            "id": str(message_id),
            "channel_id": str(channel_id),
            "author": author,
            "content": payload.get("content") or "",
            "timestamp": _now_iso(),
            "edited_timestamp": None,
            "tts": bool(payload.get("tts")),
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": self._new_attachments(channel_id, payload.get("attachments"), files),
            "embeds": [{"type": "rich", **e} for e in payload.get("embeds") or []],
            "pinned": False,
            "type": message_type,
            "flags": int(payload.get("flags") or 0) & allowed_flags,
            "components": self._components(payload.get("components") or []),
        }
        if payload.get("nonce") is not None:
            message["nonce"] = payload["nonce"]
        if payload.get("message_reference"):
            message["message_reference"] = payload["message_reference"]
        message.update(extra or {})
        return message

    def _edit_message(
        self, message: dict[str, Any], payload: dict[str, Any], files: list[dict[str, Any]]
    ) -> dict[str, Any]:
        channel_id = int(message["channel_id"])
        if "content" in payload:
            message["content"] = payload["content"] or ""
            if len(message["content"]) > 2000:
                raise _invalid_form("content", "Must be 2000 or fewer in length.")
        if "embeds" in payload:
            message["embeds"] = [{"type": "rich", **e} for e in payload["embeds"] or []]
        if "components" in payload:
            message["components"] = self._components(payload["components"] or [])
        if "attachments" in payload or files:
            message["attachments"] = self._new_attachments(
                channel_id, payload.get("attachments"), files, message["attachments"]
            )
        if payload.get("flags") is not None:
            kept = message["flags"] & (FLAG_EPHEMERAL | FLAG_COMPONENTS_V2)
            message["flags"] = kept | (int(payload["flags"]) & SENDABLE_FLAGS)
        message["flags"] &= ~FLAG_LOADING
        message["edited_timestamp"] = _now_iso()
        return message

    async def _dispatch_message_create(self, message: dict[str, Any]) -> None:
        """MESSAGE_CREATE as the gateway sends it, to the shard that owns the channel (shard 0
        for a DM), if that session's intents ask for it."""
        if not self._sessions:
            return
        channel = self._channels.get(int(message["channel_id"]), {})
        in_guild = "guild_id" in channel
        guild_id = int(channel["guild_id"]) if in_guild else None
        wanted = INTENT_GUILD_MESSAGES if in_guild else INTENT_DIRECT_MESSAGES
        sessions = self._shard_sessions(guild_id)
        if not sessions:
            self._undeliverable("MESSAGE_CREATE", guild_id)
        for session in sessions:
            if not session.intents & wanted:
                log.info("MESSAGE_CREATE not sent: the client lacks intent %s", wanted)
                continue
            event = copy.deepcopy(message)
            if in_guild:
                event["guild_id"] = str(self.guild_id)
                author_id = int(message["author"]["id"])
                is_bot = author_id == self.bot_id
                member = self._bot_member() if is_bot else self._members.get(author_id)
                if member is not None:
                    event["member"] = {k: v for k, v in member.items() if k != "user"}
                privileged = session.intents & INTENT_MESSAGE_CONTENT
                if not privileged and author_id != self.bot_id:
                    event.update(content="", embeds=[], attachments=[], components=[])
            await self._send_event(session, "MESSAGE_CREATE", event)
        self._notify()

    async def _dispatch_interaction(self, record: _Interaction) -> None:
        """INTERACTION_CREATE to the guild's shard, or to shard 0 outside a guild."""
        guild_id = self.guild_id if record.in_guild else None
        await self._dispatch("INTERACTION_CREATE", record.payload, guild_id=guild_id)

    # --- gateway -------------------------------------------------------------------------

    @staticmethod
    def _shard_for(guild_id: int | None, count: int) -> int:
        """The shard Discord sends a guild's events to; DMs (no guild) go to shard 0."""
        return 0 if guild_id is None else (guild_id >> 22) % count

    def _shard_sessions(self, guild_id: int | None) -> list[_Session]:
        """The sessions that receive events of ``guild_id`` (None: DMs), by their own shard
        count; a session whose socket is down still logs them for RESUME."""
        if not self._sessions:
            raise RuntimeError("the client has not identified on the gateway yet")
        return [
            s
            for s in self._sessions.values()
            if s.shard[0] == self._shard_for(guild_id, s.shard[1])
        ]

    def _undeliverable(self, event: str, guild_id: int | None) -> None:
        shard = self._shard_for(guild_id, self.shard_count)
        log.warning("%s not sent: no session for shard %s", event, shard)
        self.undelivered.append((event, shard))

    async def _dispatch(
        self,
        event: str,
        data: dict[str, Any],
        *,
        guild_id: int | None = None,
        session: _Session | None = None,
    ) -> None:
        """Send a DISPATCH to ``session``, or else to the shard(s) owning ``guild_id`` (None:
        shard 0, as for DMs); each session numbers and keeps its events for RESUME."""
        sessions = [session] if session is not None else self._shard_sessions(guild_id)
        if not sessions:
            self._undeliverable(event, guild_id)
        for target in sessions:
            await self._send_event(target, event, data)
        self._notify()

    @staticmethod
    async def _send_event(session: _Session, event: str, data: dict[str, Any]) -> None:
        """Send a DISPATCH with the session's next sequence number; kept for replay."""
        session.seq += 1
        session.log.append((session.seq, event, data))
        conn = session.conn
        if conn is not None:
            await conn.send({"op": 0, "t": event, "s": session.seq, "d": data})

    def _protocol_error(self, message: str) -> None:
        log.error("fake discord: %s", message)
        self.errors.append(message)
        self._notify()

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True, compress=False, max_msg_size=0)
        await ws.prepare(request)
        query = request.query
        problems = []
        if query.get("v") != "10":
            problems.append(f"unsupported gateway version v={query.get('v')!r}")
        if query.get("encoding", "json") != "json":
            problems.append(f"unsupported encoding {query.get('encoding')!r}")
        compress = query.get("compress")
        if compress not in (None, "zlib-stream"):
            problems.append(f"unsupported transport compression compress={compress!r}")
        if problems:
            for problem in problems:
                self._protocol_error(problem)
            await ws.close(code=4012, message="; ".join(problems).encode()[:120])
            return ws
        conn = _Connection(ws, zlib.compressobj() if compress else None)
        self._connections.add(conn)
        self._busy.add(request.protocol)
        try:
            await conn.send(
                {
                    "op": 10,
                    "s": None,
                    "t": None,
                    "d": {
                        "heartbeat_interval": self.heartbeat_interval_ms,
                        "_trace": ['["gateway-prd-fake",{"micros":0}]'],
                    },
                }
            )
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    try:
                        payload = json.loads(msg.data)
                    except ValueError:
                        self._protocol_error(f"undecodable gateway payload {msg.data[:80]!r}")
                        await ws.close(code=4002, message=b"Error while decoding payload.")
                        break
                    await self._gateway_op(conn, payload)
                elif msg.type is WSMsgType.BINARY:
                    self._protocol_error("the client sent a binary gateway frame")
                    await ws.close(code=4002, message=b"Error while decoding payload.")
                else:
                    break
        except Exception as error:  # a bug in the fake: fail loudly
            log.exception("fake discord gateway crashed")
            self._protocol_error(f"fake gateway crashed: {error!r}")
            await ws.close(code=4000, message=b"fake crashed")
        finally:
            self._connections.discard(conn)
            self._busy.discard(request.protocol)
            session = conn.session
            if session is not None and session.conn is conn:
                session.conn = None
            self._notify()
        return ws

    async def _gateway_op(self, conn: _Connection, payload: dict[str, Any]) -> None:
        op, data = payload.get("op"), payload.get("d")
        if op == 1:
            self.heartbeats += 1
            await conn.send({"op": 11, "s": None, "t": None, "d": None})
        elif op == 2:
            await self._identify(conn, data or {})
        elif op == 6:
            await self._resume(conn, data or {})
        elif conn.session is None:
            self._protocol_error(f"opcode {op} before IDENTIFY")
            await conn.ws.close(code=4003, message=b"Not authenticated.")
        elif op == 3:
            self.presence_updates.append(data or {})
        elif op == 4:
            pass  # voice state updates: no voice here
        elif op == 8:
            await self._member_chunk(conn.session, data or {})
        else:
            self._protocol_error(f"unknown gateway opcode {op}")
            await conn.ws.close(code=4001, message=b"Unknown opcode.")

    async def _identify(self, conn: _Connection, data: dict[str, Any]) -> None:
        if conn.session is not None:
            self._protocol_error("IDENTIFY twice on one connection")
            await conn.ws.close(code=4005, message=b"Already authenticated.")
            return
        if data.get("token") != self.token:
            self._protocol_error("IDENTIFY with a wrong token")
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        intents = int(data.get("intents") or 0)
        if intents & PRIVILEGED_INTENTS:
            self._protocol_error(f"IDENTIFY asked for privileged intents ({intents})")
            await conn.ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        shard = data.get("shard")
        if shard is None:
            shard = [0, 1]
        valid_shard = (
            isinstance(shard, list)
            and len(shard) == 2
            and all(type(n) is int for n in shard)
            and 0 <= shard[0] < shard[1]
        )
        if not valid_shard:
            self._protocol_error(f"IDENTIFY with an invalid shard {shard!r}")
            await conn.ws.close(code=4010, message=b"Invalid shard.")
            return
        shard_id, count = shard
        self.identifies += 1
        self.intents = intents
        self.identified_shards.append((shard_id, count))
        session = _Session(id=secrets.token_hex(16), shard=[shard_id, count], intents=intents)
        session.conn = conn
        previous = self._sessions.get(shard_id)
        self._sessions[shard_id] = session
        conn.session = session
        if previous is not None and previous.conn is not None and previous.conn is not conn:
            old, previous.conn = previous.conn, None
            await old.ws.close(code=4000, message=b"Session replaced.")
        host = self.ws_url.removesuffix("/gateway")
        owns_guild = self._shard_for(self.guild_id, count) == shard_id
        await self._dispatch(
            "READY",
            {
                "v": 10,
                "user": self._users[self.bot_id],
                "guilds": [{"id": str(self.guild_id), "unavailable": True}] if owns_guild else [],
                "session_id": session.id,
                "resume_gateway_url": f"{host}/resume-gateway",
                "shard": [shard_id, count],
                "application": {"id": str(self.application_id), "flags": 0},
                "private_channels": [],
                "relationships": [],
                "presences": [],
                "guild_join_requests": [],
                "geo_ordered_rtc_regions": ["fake"],
                "user_settings": {},
                "session_type": "normal",
                "auth": {},
                "_trace": ['["gateway-prd-fake",{"micros":0}]'],
            },
            session=session,
        )
        if intents & INTENT_GUILDS and owns_guild:
            await self._dispatch("GUILD_CREATE", self._guild(full=True), session=session)
        self.ready.set()

    async def _resume(self, conn: _Connection, data: dict[str, Any]) -> None:
        wanted = data.get("session_id")
        session = next((s for s in self._sessions.values() if s.id == wanted), None)
        valid = (
            session is not None
            and data.get("session_id") == session.id
            and data.get("token") == self.token
            and conn.session is None
        )
        if not valid or session is None:
            # discord.py reacts to "invalid session" by dropping the resume URL and reconnecting
            # to the real gateway, so this is an error for a test, not a normal path.
            self._protocol_error(f"RESUME of an unknown session {data.get('session_id')!r}")
            await conn.send({"op": 9, "s": None, "t": None, "d": False})
            return
        self.resumes += 1
        if session.conn is not None and session.conn is not conn:
            old, session.conn = session.conn, None
            await old.ws.close(code=4000, message=b"Session resumed elsewhere.")
        conn.session = session
        last = int(data.get("seq") or 0)
        index = next(
            (i for i, (seq, _, _) in enumerate(session.log) if seq > last), len(session.log)
        )
        resumed_sent = False
        while True:
            while index < len(session.log):
                seq, event, payload = session.log[index]
                index += 1
                self.replayed += 1
                await conn.send({"op": 0, "t": event, "s": seq, "d": payload})
            if resumed_sent:
                break
            session.seq += 1
            await conn.send(
                {
                    "op": 0,
                    "t": "RESUMED",
                    "s": session.seq,
                    "d": {"_trace": ['["gateway-prd-fake",{"micros":0}]']},
                }
            )
            resumed_sent = True
        session.conn = conn  # no await since the last check: nothing dispatched in between
        self._notify()

    async def _member_chunk(self, session: _Session, data: dict[str, Any]) -> None:
        wanted = {int(u) for u in data.get("user_ids") or []}
        members = [self._bot_member(), *self._members.values()]
        if wanted:
            members = [m for m in members if int(m["user"]["id"]) in wanted]
        query = (data.get("query") or "").lower()
        members = [m for m in members if m["user"]["username"].startswith(query)]
        chunk = {
            "guild_id": str(self.guild_id),
            "members": members,
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if data.get("nonce"):
            chunk["nonce"] = data["nonce"]
        await self._dispatch("GUILD_MEMBERS_CHUNK", chunk, session=session)

    # --- REST ----------------------------------------------------------------------------

    def _route_table(self) -> list[tuple[str, re.Pattern[str], Any, bool]]:
        app = r"(?P<app_id>\d+)"
        hook = r"/webhooks/(?P<app_id>\d+)/(?P<token>[^/]+)"
        table: list[tuple[str, str, Any, bool]] = [
            ("GET", r"/users/@me", self._get_me, True),
            ("GET", r"/users/(?P<user_id>\d+)", self._get_user, True),
            ("POST", r"/users/@me/channels", self._open_dm, True),
            ("GET", r"/gateway", self._get_gateway, False),
            ("GET", r"/gateway/bot", self._get_gateway_bot, True),
            ("GET", r"/oauth2/applications/@me", self._get_application, True),
            ("GET", r"/applications/@me", self._get_application, True),
            ("GET", rf"/applications/{app}/commands", self._get_commands, True),
            ("PUT", rf"/applications/{app}/commands", self._put_commands, True),
            ("POST", rf"/applications/{app}/commands", self._post_command, True),
            (
                "GET",
                rf"/applications/{app}/guilds/(?P<guild_id>\d+)/commands",
                self._get_commands,
                True,
            ),
            (
                "PUT",
                rf"/applications/{app}/guilds/(?P<guild_id>\d+)/commands",
                self._put_commands,
                True,
            ),
            (
                "POST",
                rf"/applications/{app}/guilds/(?P<guild_id>\d+)/commands",
                self._post_command,
                True,
            ),
            ("GET", r"/channels/(?P<channel_id>\d+)", self._get_channel, True),
            ("POST", r"/channels/(?P<channel_id>\d+)/messages", self._create_message, True),
            (
                "GET",
                r"/channels/(?P<channel_id>\d+)/messages/(?P<message_id>\d+)",
                self._get_message,
                True,
            ),
            (
                "PATCH",
                r"/channels/(?P<channel_id>\d+)/messages/(?P<message_id>\d+)",
                self._patch_message,
                True,
            ),
            (
                "DELETE",
                r"/channels/(?P<channel_id>\d+)/messages/(?P<message_id>\d+)",
                self._delete_message,
                True,
            ),
            ("POST", r"/channels/(?P<channel_id>\d+)/typing", self._typing, True),
            ("GET", r"/guilds/(?P<guild_id>\d+)", self._get_guild, True),
            ("GET", r"/guilds/(?P<guild_id>\d+)/channels", self._get_guild_channels, True),
            ("GET", r"/guilds/(?P<guild_id>\d+)/roles", self._get_roles, True),
            ("GET", r"/guilds/(?P<guild_id>\d+)/members/(?P<user_id>\d+)", self._get_member, True),
            (
                "POST",
                r"/interactions/(?P<interaction_id>\d+)/(?P<token>[^/]+)/callback",
                self._callback,
                False,
            ),
            ("POST", hook, self._followup, False),
            ("GET", hook + r"/messages/(?P<message_id>@original|\d+)", self._get_hook_msg, False),
            (
                "PATCH",
                hook + r"/messages/(?P<message_id>@original|\d+)",
                self._edit_hook_msg,
                False,
            ),
            (
                "DELETE",
                hook + r"/messages/(?P<message_id>@original|\d+)",
                self._del_hook_msg,
                False,
            ),
        ]
        return [(m, re.compile(p), h, auth) for m, p, h, auth in table]

    @staticmethod
    def _headers(bucket: str) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "4",
            "X-RateLimit-Reset": f"{time.time() + 1:.3f}",
            "X-RateLimit-Reset-After": "1.000",
            "X-RateLimit-Bucket": hashlib.md5(bucket.encode()).hexdigest()[:16],
            "Via": "1.1 google",
        }

    def _json(self, status: int, body: Any, headers: dict[str, str]) -> web.Response:
        # Exactly "application/json": discord.py only parses JSON when the header says just that.
        return web.Response(
            status=status,
            body=_dumps(body).encode(),
            headers={**headers, "Content-Type": JSON_TYPE},
        )

    async def _unversioned(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        self.requests.append((request.method, path, time.monotonic()))
        self.unknown_routes.append((request.method, path))
        self._notify()
        return self._json(404, {"message": "404: Not Found", "code": 0}, {})

    def _find_route(
        self, method: str, path: str
    ) -> tuple[tuple[re.Match[str], Any, bool] | None, bool]:
        """(match, handler, needs_auth) of the route for ``method path``, and whether any route
        has that path (for 405 against 404)."""
        path_known = False
        for route_method, pattern, handler, needs_auth in self._routes:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            path_known = True
            if route_method == method:
                return (match, handler, needs_auth), True
        return None, path_known

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        self._busy.add(request.protocol)
        try:
            return await self._serve_rest(request)
        finally:
            self._busy.discard(request.protocol)

    async def _serve_rest(self, request: web.Request) -> web.StreamResponse:
        """Discord's REST front door, in Discord's order: the proxy (``5xx_before`` faults),
        the global rate limit, scheduled 429s, routing, authorization, the per-channel message
        bucket, the handler, then ``5xx_after``/``timeout_after`` faults on its answer."""
        method, path = request.method, "/" + request.match_info["tail"]
        self.requests.append((method, path, time.monotonic()))
        self._notify()
        if self._take_fault(path, ("5xx_before",)) is not None:
            return web.Response(
                status=502, text=PROXY_502, content_type="text/html", headers={"Via": "1.1 google"}
            )
        found, path_known = self._find_route(method, path)
        as_bot = request.headers.get("Authorization") == f"Bot {self.token}"
        # Interaction callbacks and webhooks are not bound by the bot's global rate limit.
        if as_bot and (found is None or found[2]):
            retry_after = self._spend_global_token()
            if retry_after is not None:
                return self._global_too_many(retry_after)
        for index, (needle, retry_after, scope) in enumerate(self._rate_limits):
            if needle in path:
                del self._rate_limits[index]
                return self._too_many(path, retry_after, scope)
        if found is None:
            self.unknown_routes.append((method, path))
            if path_known:
                return self._json(405, {"message": "405: Method Not Allowed", "code": 0}, {})
            return self._json(404, {"message": "404: Not Found", "code": 0}, {})
        match, handler, needs_auth = found
        headers = self._headers(f"{method} {match.re.pattern}")
        if needs_auth and not as_bot:
            return self._json(401, {"message": "401: Unauthorized", "code": 0}, headers)
        if handler == self._create_message:
            retry_after, headers = self._spend_message_bucket(
                int(match["channel_id"]), headers["X-RateLimit-Bucket"]
            )
            if retry_after is not None:
                return self._rate_limited(retry_after, headers, scope="user")
        fault = self._take_fault(path, ("5xx_after", "timeout_after"))
        response: web.Response
        try:
            result = await handler(request, **match.groupdict())
        except ApiError as error:
            response = self._json(error.status, error.body(), headers)
        except Exception as error:  # a bug in the fake: fail loudly, and without retries
            log.exception("fake discord crashed on %s %s", method, path)
            self._protocol_error(f"fake crashed on {method} {path}: {error!r}")
            return self._json(400, {"message": f"fake crashed: {error!r}", "code": 0}, {})
        else:
            if result is None:
                response = web.Response(status=204, headers=headers)
            else:
                response = self._json(200, result, headers)
        finally:
            self._notify()
        if fault is not None and fault.mode == "5xx_after":
            body = {"message": "500: Internal Server Error", "code": 0}
            return self._json(500, body, headers)
        if fault is not None and fault.mode == "timeout_after":
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), fault.hold)
        return response

    def _spend_global_token(self) -> float | None:
        """Take a token from the global bucket; None if there was one, else the seconds until
        the next one."""
        rate = self.global_rate_limit
        if rate is None:
            return None
        now = time.monotonic()
        if self._global_tokens is None:
            self._global_tokens = rate
        else:
            refill = (now - self._global_at) * rate
            self._global_tokens = min(rate, self._global_tokens + refill)
        self._global_at = now
        if self._global_tokens >= 1:
            self._global_tokens -= 1
            return None
        return (1 - self._global_tokens) / rate

    def _spend_message_bucket(
        self, channel_id: int, bucket: str
    ) -> tuple[float | None, dict[str, str]]:
        """Spend one request of the channel's message bucket (a window of
        ``channel_message_limit`` requests, reset ``channel_message_period`` seconds after its
        first): None if allowed, else the seconds until it resets; and the truthful headers."""
        limit, period = self.channel_message_limit, self.channel_message_period
        now = time.monotonic()
        start, used = self._message_windows.get(channel_id, (now, 0))
        if now >= start + period:
            start, used = now, 0
        over = used >= limit
        if not over:
            used += 1
        self._message_windows[channel_id] = (start, used)
        reset_after = math.ceil((start + period - now) * 1000) / 1000
        headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(limit - used),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            # One hash for the route, as on Discord: discord.py keys the bucket per channel by
            # adding the major parameter (the channel id) to it.
            "X-RateLimit-Bucket": bucket,
            "Via": "1.1 google",
        }
        return (reset_after if over else None), headers

    def _rate_limited(
        self, retry_after: float, headers: dict[str, str], *, scope: str
    ) -> web.Response:
        """A 429 as Discord answers it, counted in ``served_429``."""
        self.served_429 += 1
        self._notify()
        retry_after = math.ceil(retry_after * 1000) / 1000
        headers = {
            **headers,
            "Retry-After": str(max(1, math.ceil(retry_after))),
            "X-RateLimit-Scope": scope,
            "Via": "1.1 google",
        }
        body = {
            "message": "You are being rate limited.",
            "retry_after": retry_after,
            "global": scope == "global",
        }
        return self._json(429, body, headers)

    def _global_too_many(self, retry_after: float) -> web.Response:
        return self._rate_limited(retry_after, {"X-RateLimit-Global": "true"}, scope="global")

    def _too_many(self, path: str, retry_after: float, scope: str) -> web.Response:
        headers = {
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
            "X-RateLimit-Reset-After": f"{retry_after:.3f}",
            "X-RateLimit-Bucket": hashlib.md5(path.encode()).hexdigest()[:16],
        }
        return self._rate_limited(retry_after, headers, scope=scope)

    def _signature(self, attachment_id: int, expires: int) -> str:
        signed = f"{attachment_id}:{expires}".encode()
        return hashlib.sha256(self._cdn_key + signed).hexdigest()

    def _signed_url(self, channel_id: int, attachment_id: int, filename: str) -> str:
        issued = int(time.time())
        expires = int(issued + self.attachment_url_lifetime)
        signature = self._signature(attachment_id, expires)
        return (
            f"{self.url}/attachments/{channel_id}/{attachment_id}/{quote(filename)}"
            f"?ex={expires:x}&is={issued:x}&hm={signature}&"
        )

    async def _attachment(self, request: web.Request) -> web.Response:
        gone = web.Response(status=404, text="This content is no longer available.")
        attachment_id = int(request.match_info["attachment"])
        data = self._attachments.get(attachment_id)
        try:
            expires = int(request.query.get("ex", ""), 16)
        except ValueError:
            return gone
        signed = secrets.compare_digest(
            request.query.get("hm", ""), self._signature(attachment_id, expires)
        )
        if data is None or not signed or time.time() > expires:
            return gone
        self.attachment_downloads += 1
        return web.Response(body=data, content_type="application/octet-stream")

    @staticmethod
    async def _body(request: web.Request) -> tuple[Any, list[dict[str, Any]]]:
        """The JSON payload (``payload_json`` for multipart) and the uploaded files."""
        if request.content_type.startswith("multipart/"):
            payload: Any = {}
            files: list[dict[str, Any]] = []
            reader = await request.multipart()
            async for part in reader:
                name = getattr(part, "name", None) or ""
                if name == "payload_json":
                    payload = json.loads(await part.text())  # type: ignore[union-attr]
                elif (match := FILE_FIELD.match(name)) is not None:
                    files.append(
                        {
                            "index": int(match.group(1)),
                            "filename": part.filename,  # type: ignore[union-attr]
                            "content_type": part.headers.get("Content-Type"),
                            "data": bytes(await part.read()),  # type: ignore[union-attr]
                        }
                    )
                else:
                    raise _invalid_form(name, "Unexpected multipart field.")
            return payload, files
        raw = await request.read()
        if not raw:
            return None, []
        if request.content_type != JSON_TYPE:
            raise ApiError(400, 50109, "The request body contains invalid JSON.")
        try:
            return json.loads(raw), []
        except ValueError:
            raise ApiError(400, 50109, "The request body contains invalid JSON.") from None

    # --- REST: users, gateway, application -----------------------------------------------

    async def _get_me(self, request: web.Request) -> dict[str, Any]:
        return self._users[self.bot_id]

    async def _get_user(self, request: web.Request, user_id: str) -> dict[str, Any]:
        if int(user_id) not in self._users:
            raise ApiError(404, 10013, "Unknown User")
        return self._public_user(int(user_id))

    async def _open_dm(self, request: web.Request) -> dict[str, Any]:
        payload, _ = await self._body(request)
        recipient = int((payload or {}).get("recipient_id") or 0)
        if recipient not in self._users or recipient == self.bot_id:
            raise ApiError(400, 50033, "Invalid Recipient(s)")
        return self._channels[self.dm_channel_id(recipient)]

    async def _get_gateway(self, request: web.Request) -> dict[str, Any]:
        return {"url": self.ws_url}

    async def _get_gateway_bot(self, request: web.Request) -> dict[str, Any]:
        return {
            "url": self.ws_url,
            "shards": self.shard_count,
            "session_start_limit": {
                "total": 1000,
                "remaining": 999,
                "reset_after": 86_400_000,
                "max_concurrency": 1,
            },
        }

    async def _get_application(self, request: web.Request) -> dict[str, Any]:
        return self._application()

    # --- REST: application commands ------------------------------------------------------

    def _check_app(self, app_id: str) -> None:
        if int(app_id) != self.application_id:
            raise ApiError(
                403, 20012, "You are not authorized to perform this action on this application"
            )

    def _check_guild(self, guild_id: str | None) -> int | None:
        if guild_id is None:
            return None
        if int(guild_id) != self.guild_id:
            raise ApiError(404, 10004, "Unknown Guild")
        return int(guild_id)

    def _command(self, payload: dict[str, Any], guild_id: int | None) -> dict[str, Any]:
        kind = int(payload.get("type") or 1)
        name = payload.get("name") or ""
        if not COMMAND_NAME.match(name) or (kind == 1 and name != name.lower()):
            raise _invalid_form("name", f"Command name {name!r} is invalid.")
        description = payload.get("description") or ""
        if kind == 1 and not 1 <= len(description) <= 100:
            raise _invalid_form("description", "Must be between 1 and 100 in length.")
        self._check_options(payload.get("options") or [], depth=0)
        key = (guild_id, name, kind)
        command_id = self._command_ids.setdefault(key, self._snowflake())
        permissions = payload.get("default_member_permissions")
        command = {
            "id": str(command_id),
            "application_id": str(self.application_id),
            "version": str(self._snowflake()),
            "type": kind,
            "name": name,
            "name_localizations": payload.get("name_localizations"),
            "description": description,
            "description_localizations": payload.get("description_localizations"),
            "options": copy.deepcopy(payload.get("options") or []),
            "default_member_permissions": None if permissions is None else str(permissions),
            "dm_permission": payload.get("dm_permission", True),
            "contexts": payload.get("contexts"),
            "integration_types": payload.get("integration_types") or [0],
            "nsfw": bool(payload.get("nsfw", False)),
        }
        if guild_id is not None:
            command["guild_id"] = str(guild_id)
        return command

    def _check_options(self, options: list[dict[str, Any]], depth: int) -> None:
        if len(options) > 25:
            raise _invalid_form("options", "Must be 25 or fewer in length.")
        names: set[str] = set()
        optional_seen = False
        for option in options:
            name = option.get("name") or ""
            if not COMMAND_NAME.match(name) or name != name.lower() or name in names:
                raise _invalid_form("options", f"Option name {name!r} is invalid or duplicated.")
            names.add(name)
            if not 1 <= len(option.get("description") or "") <= 100:
                raise _invalid_form(
                    "options", f"Option {name!r} needs a 1-100 character description."
                )
            if option.get("type") in (OPT_SUB_COMMAND, OPT_SUB_COMMAND_GROUP):
                if depth >= 2:
                    raise _invalid_form("options", "Subcommands nest at most two levels.")
                self._check_options(option.get("options") or [], depth + 1)
                continue
            if option.get("autocomplete") and option.get("choices"):
                raise _invalid_form(
                    "options", f"Option {name!r}: autocomplete and choices are mutually exclusive."
                )
            if len(option.get("choices") or []) > 25:
                raise _invalid_form("options", "Must be 25 or fewer in length.")
            if option.get("required"):
                if optional_seen:
                    raise _invalid_form(
                        "options", "Required options must be placed before non-required options."
                    )
            else:
                optional_seen = True

    async def _get_commands(
        self, request: web.Request, app_id: str, guild_id: str | None = None
    ) -> list[dict[str, Any]]:
        self._check_app(app_id)
        gid = self._check_guild(guild_id)
        return self.global_commands if gid is None else self.guild_commands.get(gid, [])

    async def _put_commands(
        self, request: web.Request, app_id: str, guild_id: str | None = None
    ) -> list[dict[str, Any]]:
        self._check_app(app_id)
        gid = self._check_guild(guild_id)
        payload, _ = await self._body(request)
        if not isinstance(payload, list):
            raise _invalid_form("_root", "Expected a list of commands.")
        if len(payload) > 100:
            raise _invalid_form("_root", "Must be 100 or fewer in length.")
        commands = [self._command(c, gid) for c in payload]
        keys = [(c["name"], c["type"]) for c in commands]
        if len(set(keys)) != len(keys):
            raise _invalid_form("_root", "Application command names must be unique.")
        if gid is None:
            self.global_commands = commands
        else:
            self.guild_commands[gid] = commands
        self.synced_commands = copy.deepcopy(commands)
        return commands

    async def _post_command(
        self, request: web.Request, app_id: str, guild_id: str | None = None
    ) -> dict[str, Any]:
        self._check_app(app_id)
        gid = self._check_guild(guild_id)
        payload, _ = await self._body(request)
        command = self._command(payload or {}, gid)
        scope = self.global_commands if gid is None else self.guild_commands.setdefault(gid, [])
        scope[:] = [
            c for c in scope if (c["name"], c["type"]) != (command["name"], command["type"])
        ]
        scope.append(command)
        return command

    # --- REST: channels, messages, guild -------------------------------------------------

    def _channel(self, channel_id: str) -> dict[str, Any]:
        channel = self._channels.get(int(channel_id))
        if channel is None:
            raise ApiError(404, 10003, "Unknown Channel")
        return channel

    def _stored_message(self, channel_id: str, message_id: str) -> dict[str, Any]:
        message = self._messages.get(int(message_id))
        if message is None or message["channel_id"] != str(channel_id):
            raise ApiError(404, 10008, "Unknown Message")
        return message

    async def _get_channel(self, request: web.Request, channel_id: str) -> dict[str, Any]:
        return self._channel(channel_id)

    async def _create_message(self, request: web.Request, channel_id: str) -> dict[str, Any]:
        """POST /channels/{id}/messages. A ``nonce`` (an integer, or a string of at most 25
        characters) is echoed; with ``enforce_nonce: true`` a nonce the bot used in this channel
        within ``nonce_window`` seconds returns that message (200) and creates nothing."""
        channel = self._channel(channel_id)
        payload, files = await self._body(request)
        payload = payload or {}
        nonce = payload.get("nonce")
        if nonce is not None and (
            isinstance(nonce, bool)
            or not isinstance(nonce, int | str)
            or len(str(nonce)) > NONCE_MAX_LENGTH
        ):
            raise _invalid_form("nonce", f"Must be {NONCE_MAX_LENGTH} or fewer in length.")
        key = (int(channel_id), str(nonce))
        if nonce is not None and payload.get("enforce_nonce") is True:
            seen = self._nonces.get(key)
            if seen is not None and time.monotonic() - seen[0] <= self.nonce_window:
                existing = self._messages.get(seen[1])
                if existing is not None:
                    return existing
        if channel["type"] == 1:
            recipient = int(channel["recipients"][0]["id"])
            if recipient in self._dm_failures:
                code, status = self._dm_failures[recipient]
                raise ApiError(status, code, "Cannot send messages to this user")
        self._check_message(payload, files)
        message = self._new_message(
            int(channel_id), payload, files, author=self._public_user(self.bot_id)
        )
        message_id = int(message["id"])
        self._messages[message_id] = message
        self._posted.setdefault(int(channel_id), []).append(message_id)
        self._created.append((time.monotonic(), int(channel_id), message_id))
        if nonce is not None:
            self._nonces[key] = (time.monotonic(), message_id)
        channel["last_message_id"] = message["id"]
        await self._dispatch_message_create(message)
        return message

    async def _get_message(
        self, request: web.Request, channel_id: str, message_id: str
    ) -> dict[str, Any]:
        return self._stored_message(channel_id, message_id)

    async def _patch_message(
        self, request: web.Request, channel_id: str, message_id: str
    ) -> dict[str, Any]:
        message = self._stored_message(channel_id, message_id)
        if message["author"]["id"] != str(self.bot_id):
            raise ApiError(403, 50005, "Cannot edit a message authored by another user")
        payload, files = await self._body(request)
        return self._edit_message(message, payload or {}, files)

    async def _delete_message(self, request: web.Request, channel_id: str, message_id: str) -> None:
        self._stored_message(channel_id, message_id)
        del self._messages[int(message_id)]

    async def _typing(self, request: web.Request, channel_id: str) -> None:
        self._channel(channel_id)

    async def _get_guild(self, request: web.Request, guild_id: str) -> dict[str, Any]:
        self._check_guild(guild_id)
        return self._guild(full=False)

    async def _get_guild_channels(
        self, request: web.Request, guild_id: str
    ) -> list[dict[str, Any]]:
        self._check_guild(guild_id)
        return [self._text_channel()]

    async def _get_roles(self, request: web.Request, guild_id: str) -> list[dict[str, Any]]:
        self._check_guild(guild_id)
        return self._roles()

    async def _get_member(
        self, request: web.Request, guild_id: str, user_id: str
    ) -> dict[str, Any]:
        self._check_guild(guild_id)
        if int(user_id) == self.bot_id:
            return self._bot_member()
        member = self._members.get(int(user_id))
        if member is None:
            raise ApiError(404, 10007, "Unknown Member")
        return member

    # --- REST: interactions --------------------------------------------------------------

    def _record(
        self,
        record: _Interaction,
        kind: str,
        *,
        status: int,
        callback_type: int | None = None,
        data: Any = None,
        files: list[dict[str, Any]] | None = None,
        message: dict[str, Any] | None = None,
        target: str | None = None,
    ) -> None:
        record.responses.append(
            {
                "kind": kind,
                "type": callback_type,
                "data": copy.deepcopy(data),
                "files": [
                    {k: f[k] for k in ("filename", "content_type", "data")} for f in files or []
                ],
                "message": copy.deepcopy(message),
                "target": target,
                "status": status,
            }
        )

    def _interaction_message(
        self,
        record: _Interaction,
        payload: dict[str, Any],
        files: list[dict[str, Any]],
        *,
        followup: bool,
    ) -> dict[str, Any]:
        self._check_message(payload, files)
        metadata: dict[str, Any] = {
            "id": str(record.id),
            "type": record.type,
            "user": self._public_user(record.user_id),
            "authorizing_integration_owners": record.payload["authorizing_integration_owners"],
        }
        if record.type == APPLICATION_COMMAND:
            metadata.update(name=record.payload["data"]["name"], command_type=1)
        if record.message_id is not None:
            metadata["interacted_message_id"] = str(record.message_id)
        if followup and record.original_id is not None:
            metadata["original_response_message_id"] = str(record.original_id)
        # The original response to a slash command is a CHAT_INPUT_COMMAND message (type 20).
        message_type = 20 if record.type == APPLICATION_COMMAND and not followup else 0
        message = self._new_message(
            record.channel_id,
            payload,
            files,
            author=self._public_user(self.bot_id),
            message_type=message_type,
            allowed_flags=SENDABLE_FLAGS | FLAG_EPHEMERAL,
            extra={
                "webhook_id": str(self.application_id),
                "application_id": str(self.application_id),
                "interaction_metadata": metadata,
            },
        )
        if record.in_guild:
            message["guild_id"] = str(self.guild_id)
        self._messages[int(message["id"])] = message
        return message

    async def _callback(
        self, request: web.Request, interaction_id: str, token: str
    ) -> dict[str, Any] | None:
        record = self._interactions.get(int(interaction_id))
        payload, files = await self._body(request)
        payload = payload or {}
        if record is None or record.token != token:
            raise ApiError(404, 10062, "Unknown interaction")
        kind = payload.get("type")
        data = payload.get("data") or {}
        try:
            if record.callback_type is not None:
                raise ApiError(400, 40060, "Interaction has already been acknowledged.")
            if time.monotonic() - record.created > self.callback_deadline:
                raise ApiError(404, 10062, "Unknown interaction")
            allowed = ALLOWED_CALLBACKS.get(record.type, set())
            if record.type == MODAL_SUBMIT and record.message_id is None:
                allowed = allowed - {DEFERRED_UPDATE, UPDATE_MESSAGE}
            if kind not in allowed:
                raise _invalid_form(
                    "type", f"Callback type {kind} is not valid for interaction type {record.type}."
                )
            message = await self._acknowledge(record, kind, data, files)
        except ApiError as error:
            self._record(
                record, "callback", status=error.status, callback_type=kind, data=data, files=files
            )
            raise
        record.callback_type = kind
        self._record(
            record,
            "callback",
            status=200,
            callback_type=kind,
            data=data,
            files=files,
            message=message,
        )
        if request.query.get("with_response", "").lower() not in ("1", "true"):
            return None
        flags = int((message or {}).get("flags") or data.get("flags") or 0)
        callback: dict[str, Any] = {
            "id": str(record.id),
            "type": record.type,
            "activity_instance_id": None,
            "response_message_id": message["id"] if message else None,
            "response_message_loading": kind == DEFERRED_MESSAGE,
            "response_message_ephemeral": bool(flags & FLAG_EPHEMERAL),
        }
        resource: dict[str, Any] = {"type": kind}
        if message is not None and kind in (CHANNEL_MESSAGE, DEFERRED_MESSAGE, UPDATE_MESSAGE):
            resource["message"] = message
        return {"interaction": callback, "resource": resource}

    async def _acknowledge(
        self, record: _Interaction, kind: int, data: dict[str, Any], files: list[dict[str, Any]]
    ) -> dict[str, Any] | None:
        if kind == CHANNEL_MESSAGE:
            message = self._interaction_message(record, data, files, followup=False)
            record.original_id = int(message["id"])
            if not message["flags"] & FLAG_EPHEMERAL:
                await self._dispatch_message_create(message)
            return message
        if kind == DEFERRED_MESSAGE:
            flags = FLAG_LOADING | (int(data.get("flags") or 0) & FLAG_EPHEMERAL)
            placeholder = {"content": "", "flags": flags}
            message = self._new_message(
                record.channel_id,
                placeholder,
                [],
                author=self._public_user(self.bot_id),
                message_type=20 if record.type == APPLICATION_COMMAND else 0,
                allowed_flags=FLAG_LOADING | FLAG_EPHEMERAL,
                extra={
                    "webhook_id": str(self.application_id),
                    "application_id": str(self.application_id),
                },
            )
            self._messages[int(message["id"])] = message
            record.original_id = int(message["id"])
            return message
        if kind in (DEFERRED_UPDATE, UPDATE_MESSAGE):
            target = self._messages.get(record.message_id or 0)
            if target is None:
                raise ApiError(404, 10008, "Unknown Message")
            record.original_id = int(target["id"])
            if kind == UPDATE_MESSAGE:
                return self._edit_message(target, data, files)
            return None
        if kind == AUTOCOMPLETE_RESULT:
            choices = data.get("choices")
            if not isinstance(choices, list) or len(choices) > 25:
                raise _invalid_form("data.choices", "Must be 25 or fewer in length.")
            for choice in choices:
                if not 1 <= len(str(choice.get("name") or "")) <= 100 or "value" not in choice:
                    raise _invalid_form(
                        "data.choices", "Each choice needs a 1-100 character name and a value."
                    )
            return None
        if kind == MODAL:
            self._check_modal(data)
            modal = {**copy.deepcopy(data), "components": self._components(data["components"])}
            self._modals[data["custom_id"]] = (record, modal)
            return None
        raise _invalid_form("type", f"Callback type {kind} is not supported by the fake.")

    @staticmethod
    def _check_modal(data: dict[str, Any]) -> None:
        if not 1 <= len(data.get("custom_id") or "") <= 100:
            raise _invalid_form("data.custom_id", "Must be between 1 and 100 in length.")
        if not 1 <= len(data.get("title") or "") <= 45:
            raise _invalid_form("data.title", "Must be between 1 and 45 in length.")
        components = data.get("components") or []
        if not 1 <= len(components) <= 5:
            raise _invalid_form("data.components", "Must be between 1 and 5 in length.")
        for component in _walk_components(components):
            if component.get("type") == 4 and len(component.get("label") or "") > 45:
                raise _invalid_form(
                    "data.components", "A text input label is at most 45 characters."
                )
            if component.get("type") == 18 and not 1 <= len(component.get("label") or "") <= 45:
                raise _invalid_form("data.components", "A label is 1 to 45 characters.")

    def _hook_record(self, app_id: str, token: str) -> _Interaction:
        record = self._by_token.get(token)
        if record is None or int(app_id) != self.application_id:
            raise ApiError(404, 10015, "Unknown Webhook")
        return record

    def _hook_target(self, record: _Interaction, message_id: str) -> dict[str, Any]:
        if message_id == "@original":
            if record.callback_type is None or record.original_id is None:
                raise ApiError(404, 10008, "Unknown Message")
            wanted = record.original_id
        else:
            wanted = int(message_id)
        message = self._messages.get(wanted)
        if message is None:
            raise ApiError(404, 10008, "Unknown Message")
        return message

    async def _followup(self, request: web.Request, app_id: str, token: str) -> Any:
        record = self._hook_record(app_id, token)
        payload, files = await self._body(request)
        payload = payload or {}
        if record.callback_type is None or record.callback_type in (AUTOCOMPLETE_RESULT,):
            self._record(record, "followup", status=404, data=payload, files=files)
            raise ApiError(404, 10015, "Unknown Webhook")
        try:
            message = self._interaction_message(record, payload, files, followup=True)
        except ApiError as error:
            self._record(record, "followup", status=error.status, data=payload, files=files)
            raise
        if record.callback_type == DEFERRED_MESSAGE and record.original_id is not None:
            original = self._messages.get(record.original_id)
            if original is not None and original["flags"] & FLAG_LOADING:
                # The first follow-up after a "thinking" defer replaces the loading message.
                del self._messages[int(message["id"])]
                message["id"] = original["id"]
                message["type"] = original["type"]
                # ...and stays as ephemeral (or not) as the defer said.
                ephemeral = original["flags"] & FLAG_EPHEMERAL
                message["flags"] = (message["flags"] & ~FLAG_EPHEMERAL) | ephemeral
                original.clear()
                original.update(message)
                message = original
        self._record(record, "followup", status=200, data=payload, files=files, message=message)
        if not message["flags"] & FLAG_EPHEMERAL:
            await self._dispatch_message_create(message)
        wait = request.query.get("wait", "").lower() in ("1", "true")
        return message if wait else None

    async def _get_hook_msg(
        self, request: web.Request, app_id: str, token: str, message_id: str
    ) -> dict[str, Any]:
        return self._hook_target(self._hook_record(app_id, token), message_id)

    async def _edit_hook_msg(
        self, request: web.Request, app_id: str, token: str, message_id: str
    ) -> dict[str, Any]:
        record = self._hook_record(app_id, token)
        payload, files = await self._body(request)
        try:
            message = self._edit_message(
                self._hook_target(record, message_id), payload or {}, files
            )
        except ApiError as error:
            self._record(
                record, "edit", status=error.status, data=payload, files=files, target=message_id
            )
            raise
        self._record(
            record,
            "edit",
            status=200,
            data=payload,
            files=files,
            message=message,
            target=message_id,
        )
        return message

    async def _del_hook_msg(
        self, request: web.Request, app_id: str, token: str, message_id: str
    ) -> None:
        record = self._hook_record(app_id, token)
        message = self._hook_target(record, message_id)
        del self._messages[int(message["id"])]
        self._record(record, "delete", status=204, target=message_id)
