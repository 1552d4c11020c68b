"""The fake Discord server against the real discord.py client (a small bot defined here)."""

from __future__ import annotations

import asyncio
import io
import json
import math
import time
import zlib
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest
import yarl
from discord import app_commands
from discord.ext import commands

from tests.fake_discord import FakeDiscord

ALICE = 700001
BOB = 700002  # has MANAGE_GUILD
TOPICS = ["gratitude", "gentle touch", "listening", "repair"]


class ReflectModal(discord.ui.Modal, title="Reflect"):
    """Components v1 layout: an action row holding the text input."""

    text: discord.ui.TextInput[ReflectModal] = discord.ui.TextInput(
        label="How did it go?", custom_id="reflect:text", max_length=200
    )

    def __init__(self) -> None:
        super().__init__(custom_id="reflect:modal")

    async def on_submit(self, interaction: discord.Interaction[ProbeBot]) -> None:
        interaction.client.reflections.append(self.text.value)
        await interaction.response.send_message("Thank you for sharing.", ephemeral=True)


class CheckInModal(discord.ui.Modal, title="Check in"):
    """The newer layout: a label component wrapping the text input."""

    def __init__(self) -> None:
        super().__init__(custom_id="checkin:modal")
        self.mood: discord.ui.TextInput[CheckInModal] = discord.ui.TextInput(
            custom_id="checkin:mood"
        )
        self.add_item(discord.ui.Label(text="Your mood", component=self.mood))

    async def on_submit(self, interaction: discord.Interaction[ProbeBot]) -> None:
        interaction.client.checkins.append(self.mood.value)
        await interaction.response.edit_message(content="Checked in.", view=None)


class ReflectView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Reflect", custom_id="reflect:open")
    async def reflect(
        self, interaction: discord.Interaction[ProbeBot], button: discord.ui.Button[ReflectView]
    ) -> None:
        interaction.client.presses.append(("view", interaction.user.id))
        await interaction.response.send_modal(ReflectModal())

    @discord.ui.button(label="Check in", custom_id="checkin:open")
    async def check_in(
        self, interaction: discord.Interaction[ProbeBot], button: discord.ui.Button[ReflectView]
    ) -> None:
        await interaction.response.send_modal(CheckInModal())


@app_commands.command(name="practice", description="Today's practice")
@app_commands.describe(topic="What to practise")
@app_commands.allowed_contexts(guilds=True, dms=True, private_channels=False)
async def practice(interaction: discord.Interaction[ProbeBot], topic: str) -> None:
    interaction.client.manage_guild_seen.append(interaction.permissions.manage_guild)
    await interaction.response.send_message(
        f"Today's practice: {topic}", ephemeral=True, view=ReflectView()
    )


@practice.autocomplete("topic")
async def practice_topics(
    interaction: discord.Interaction[ProbeBot], current: str
) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=t, value=t) for t in TOPICS if current.lower() in t]


@app_commands.command(name="export", description="Export your notes")
async def export(interaction: discord.Interaction[ProbeBot]) -> None:
    await interaction.response.defer(ephemeral=True, thinking=True)
    sent = await interaction.followup.send(
        "Your notes",
        file=discord.File(io.BytesIO(b"note one\n"), filename="notes.txt"),
        ephemeral=True,
        wait=True,
    )
    interaction.client.downloaded.append(await sent.attachments[0].read())
    await interaction.edit_original_response(
        content="Exported again",
        attachments=[discord.File(io.BytesIO(b"note two\n"), filename="notes-2.txt")],
    )


workshop = app_commands.Group(
    name="workshop",
    description="Group workshops",
    guild_only=True,
    default_permissions=discord.Permissions(manage_guild=True),
)


@workshop.command(name="open", description="Open a workshop")
@app_commands.describe(seats="How many seats", cohost="Who helps")
async def workshop_open(
    interaction: discord.Interaction[ProbeBot], seats: int, cohost: discord.Member | None = None
) -> None:
    interaction.client.workshops.append((seats, cohost.id if cohost else None))
    await interaction.response.send_message(f"Workshop open: {seats} seats", view=JoinView())


class JoinView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Join", custom_id="workshop:join")
    async def join(
        self, interaction: discord.Interaction[ProbeBot], button: discord.ui.Button[JoinView]
    ) -> None:
        await interaction.response.defer()  # a deferred update of the message
        await interaction.edit_original_response(content="Workshop full", view=None)
        await interaction.followup.send("You're in.", ephemeral=True)


class ProbeBot(commands.AutoShardedBot):
    def __init__(self) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        intents.dm_messages = True
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            help_command=None,
            guild_ready_timeout=0.05,
        )
        self.dm_messages: list[discord.Message] = []
        self.reflections: list[str] = []
        self.checkins: list[str] = []
        self.presses: list[tuple[str, int]] = []
        self.manage_guild_seen: list[bool] = []
        self.downloaded: list[bytes] = []
        self.workshops: list[tuple[int, int | None]] = []
        self.resumed_count = 0

    async def setup_hook(self) -> None:
        self.add_view(ReflectView())  # persistent: answers these custom_ids on any message
        self.tree.add_command(practice)
        self.tree.add_command(export)
        self.tree.add_command(workshop, guild=discord.Object(FakeDiscord.guild_id))

    async def on_message(self, message: discord.Message) -> None:
        if message.guild is None and not message.author.bot:
            self.dm_messages.append(message)

    async def on_resumed(self) -> None:
        self.resumed_count += 1


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord()
    server.add_member(ALICE, "Alice")
    server.add_member(BOB, "Bob", manage_guild=True)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
    assert server.errors == []
    assert server.unknown_routes == []


@pytest.fixture
async def bot(fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[ProbeBot]:
    monkeypatch.setattr(discord.http.Route, "BASE", f"{fake.url}/api/v10")
    client = ProbeBot()
    task = asyncio.create_task(client.start(fake.token))
    try:
        await fake.wait_for(lambda: client.is_ready() or task.done(), timeout=5)
        if task.done():
            task.result()
        yield client
    finally:
        await client.close()
        await asyncio.wait_for(task, timeout=5)


async def _responses(fake: FakeDiscord, interaction_id: str, count: int) -> list[dict]:
    await fake.wait_for(lambda: len(fake.responses(interaction_id)) >= count, timeout=3)
    return fake.responses(interaction_id)


async def test_client_connects_through_gateway_bot(fake: FakeDiscord, bot: ProbeBot) -> None:
    calls = [(method, path) for method, path, _ in fake.requests]
    assert calls[:3] == [
        ("GET", "/users/@me"),
        ("GET", "/oauth2/applications/@me"),
        ("GET", "/gateway/bot"),
    ]
    assert fake.ready.is_set()
    assert (fake.identifies, fake.resumes) == (1, 0)
    assert fake.intents == bot.intents.value
    assert bot.user is not None and bot.user.id == fake.bot_id
    assert bot.application_id == fake.application_id
    guild = bot.get_guild(fake.guild_id)
    assert guild is not None and guild.member_count == 3
    channel = guild.get_channel(fake.channel_id)
    assert isinstance(channel, discord.TextChannel) and channel.name == "workshop"
    assert guild.default_role.id == fake.guild_id
    manager = guild.get_role(fake.manager_role_id)
    assert manager is not None and manager.permissions.manage_guild
    assert guild.me is not None and guild.me.id == fake.bot_id
    await fake.wait_for(lambda: fake.heartbeats >= 1 and math.isfinite(bot.latency), timeout=3)


async def test_slash_command_sync_autocomplete_and_ephemeral_reply(
    fake: FakeDiscord, bot: ProbeBot
) -> None:
    synced = await bot.tree.sync()
    assert [c.name for c in synced] == ["practice", "export"]
    assert synced[0].id == int(fake.synced_commands[0]["id"])
    assert fake.synced_commands[0]["options"][0]["autocomplete"] is True

    asked = await fake.autocomplete(ALICE, "practice", "topic", "GRAT")
    (choices,) = await _responses(fake, asked, 1)
    assert choices["type"] == 8
    assert choices["data"]["choices"] == [{"name": "gratitude", "value": "gratitude"}]

    used = await fake.slash(ALICE, "practice", {"topic": "gratitude"})
    (reply,) = await _responses(fake, used, 1)
    assert reply["type"] == 4 and reply["status"] == 200
    assert reply["data"]["flags"] & 64
    assert reply["message"]["content"] == "Today's practice: gratitude"
    assert reply["message"]["components"][0]["components"][0]["custom_id"] == "reflect:open"

    bot.tree.copy_global_to(guild=discord.Object(fake.guild_id))
    await bot.tree.sync(guild=discord.Object(fake.guild_id))
    assert {c["guild_id"] for c in fake.synced_commands} == {str(fake.guild_id)}
    for user in (ALICE, BOB):
        used = await fake.slash(user, "practice", {"topic": "repair"}, in_guild=True)
        await _responses(fake, used, 1)
    assert bot.manage_guild_seen == [False, False, True]


async def test_button_opens_modal_and_submission_arrives(fake: FakeDiscord, bot: ProbeBot) -> None:
    await bot.tree.sync()
    used = await fake.slash(ALICE, "practice", {"topic": "listening"})
    (reply,) = await _responses(fake, used, 1)

    pressed = await fake.press(ALICE, "reflect:open", message=reply["message"])
    (modal,) = await _responses(fake, pressed, 1)
    assert modal["type"] == 9 and modal["data"]["custom_id"] == "reflect:modal"
    submitted = await fake.submit_modal(ALICE, "reflect:modal", {"reflect:text": "We laughed"})
    (thanks,) = await _responses(fake, submitted, 1)
    assert bot.reflections == ["We laughed"]
    assert thanks["type"] == 4 and thanks["data"]["flags"] & 64

    pressed = await fake.press(ALICE, "checkin:open", message=reply["message"])
    (modal,) = await _responses(fake, pressed, 1)
    assert modal["data"]["components"][0]["type"] == 18  # a label, not an action row
    submitted = await fake.submit_modal(ALICE, "checkin:modal", {"checkin:mood": "calm"})
    (update,) = await _responses(fake, submitted, 1)
    assert bot.checkins == ["calm"]
    assert update["type"] == 7
    assert update["message"]["id"] == reply["message"]["id"]
    assert update["message"]["content"] == "Checked in."
    assert update["message"]["components"] == []


async def test_direct_messages_in_and_out(fake: FakeDiscord, bot: ProbeBot) -> None:
    await fake.dm(ALICE, "hello bot")
    await fake.wait_for(lambda: bot.dm_messages, timeout=3)
    (received,) = bot.dm_messages
    assert received.content == "hello bot" and received.author.id == ALICE
    assert isinstance(received.channel, discord.DMChannel)

    user = await bot.fetch_user(ALICE)
    view = ReflectView()
    sent = await user.send("Tonight's practice is ready.", view=view)
    view.stop()  # forget the message-bound view: the persistent one must answer the press
    (stored,) = fake.dms(ALICE)
    assert int(stored["id"]) == sent.id
    assert stored["channel_id"] == str(fake.dm_channel_id(ALICE))
    assert stored["components"][0]["components"][0]["custom_id"] == "reflect:open"

    pressed = await fake.press(ALICE, "reflect:open", message=stored)
    (modal,) = await _responses(fake, pressed, 1)
    assert modal["type"] == 9
    assert bot.presses == [("view", ALICE)]
    assert len(bot.dm_messages) == 1  # the bot's own DM came back over the gateway, ignored


async def test_dm_to_a_user_who_blocks_the_bot_is_forbidden(
    fake: FakeDiscord, bot: ProbeBot
) -> None:
    fake.fail_dm(BOB)
    user = await bot.fetch_user(BOB)
    with pytest.raises(discord.Forbidden) as failure:
        await user.send("hello")
    assert failure.value.status == 403 and failure.value.code == 50007
    assert fake.dms(BOB) == []


async def test_rate_limit_is_waited_out(fake: FakeDiscord, bot: ProbeBot) -> None:
    channel = await (await bot.fetch_user(ALICE)).create_dm()
    fake.rate_limit_next("/messages", 0.3)
    await channel.send("after the wait")
    posts = [
        at
        for method, path, at in fake.requests
        if method == "POST" and path == f"/channels/{channel.id}/messages"
    ]
    assert len(posts) == 2
    assert posts[1] - posts[0] >= 0.3
    assert [m["content"] for m in fake.dms(ALICE)] == ["after the wait"]


async def test_reconnect_resumes_and_replays_missed_events(
    fake: FakeDiscord, bot: ProbeBot
) -> None:
    await fake.disconnect()
    await fake.dm(ALICE, "sent while you were away")  # no live socket: replayed on RESUME
    await fake.wait_for(lambda: bot.resumed_count == 1 and bot.dm_messages, timeout=4)
    assert (fake.identifies, fake.resumes) == (1, 1)
    assert fake.replayed >= 1
    await fake.dm(ALICE, "after the resume")
    await fake.wait_for(lambda: len(bot.dm_messages) == 2, timeout=3)
    assert [m.content for m in bot.dm_messages] == ["sent while you were away", "after the resume"]


async def test_deferred_reply_follow_up_and_edit_with_files(
    fake: FakeDiscord, bot: ProbeBot
) -> None:
    await bot.tree.sync()
    used = await fake.slash(ALICE, "export")
    defer, followup, edit = await _responses(fake, used, 3)
    assert defer["type"] == 5 and defer["data"] == {"flags": 64}
    assert followup["kind"] == "followup"
    assert followup["files"] == [
        {"filename": "notes.txt", "content_type": "application/octet-stream", "data": b"note one\n"}
    ]
    assert followup["message"]["flags"] & 64
    assert bot.downloaded == [b"note one\n"]
    assert edit["kind"] == "edit" and edit["target"] == "@original"
    assert [f["filename"] for f in edit["files"]] == ["notes-2.txt"]
    assert edit["message"]["content"] == "Exported again"
    assert [a["filename"] for a in edit["message"]["attachments"]] == ["notes-2.txt"]


async def test_guild_subcommand_and_deferred_button_update(
    fake: FakeDiscord, bot: ProbeBot
) -> None:
    await bot.tree.sync(guild=discord.Object(fake.guild_id))
    (command,) = fake.synced_commands
    assert command["default_member_permissions"] == str(
        discord.Permissions(manage_guild=True).value
    )
    with pytest.raises(PermissionError):  # Discord hides the command from Alice
        await fake.slash(ALICE, "workshop", {"seats": 4}, subcommand="open", in_guild=True)

    used = await fake.slash(
        BOB, "workshop", {"seats": 4, "cohost": ALICE}, subcommand="open", in_guild=True
    )
    (reply,) = await _responses(fake, used, 1)
    assert bot.workshops == [(4, ALICE)]
    assert reply["type"] == 4 and not reply["data"].get("flags", 0) & 64
    assert reply["message"]["guild_id"] == str(fake.guild_id)

    pressed = await fake.press(ALICE, "workshop:join", message=reply["message"], in_guild=True)
    deferred, edit, followup = await _responses(fake, pressed, 3)
    assert deferred["type"] == 6
    assert edit["message"]["id"] == reply["message"]["id"]
    assert fake.message(reply["message"]["id"])["content"] == "Workshop full"
    assert followup["message"]["flags"] & 64 and followup["message"]["content"] == "You're in."


async def test_unknown_route_is_a_404_and_recorded(fake: FakeDiscord, bot: ProbeBot) -> None:
    with pytest.raises(discord.NotFound) as failure:
        await bot.http.request(discord.http.Route("GET", "/users/@me/guilds/nowhere"))
    assert failure.value.code == 0 and failure.value.text == "404: Not Found"
    assert fake.unknown_routes == [("GET", "/users/@me/guilds/nowhere")]
    fake.unknown_routes.clear()


async def test_gateway_wire_format(fake: FakeDiscord) -> None:
    async with aiohttp.ClientSession() as session:
        url = f"{fake.ws_url}?v=10&encoding=json&compress=zlib-stream"
        async with session.ws_connect(url) as ws:
            frame = await ws.receive_bytes()
            assert frame.endswith(b"\x00\x00\xff\xff")
            inflater = zlib.decompressobj()
            hello = json.loads(inflater.decompress(frame))
            assert hello["op"] == 10 and hello["d"]["heartbeat_interval"] > 0
            await ws.send_json({"op": 1, "d": None})
            ack = json.loads(inflater.decompress(await ws.receive_bytes()))
            assert ack["op"] == 11
            await ws.send_json({"op": 2, "d": {"token": "wrong", "intents": 1}})
            closed = await ws.receive()
            assert closed.type is aiohttp.WSMsgType.CLOSE and closed.data == 4004

        url = f"{fake.ws_url}?v=10&encoding=json&compress=zstd-stream"
        async with session.ws_connect(url) as ws:
            closed = await ws.receive()
            assert closed.type is aiohttp.WSMsgType.CLOSE and closed.data == 4012
    assert any("wrong token" in e for e in fake.errors)
    assert any("zstd-stream" in e for e in fake.errors)
    fake.errors.clear()


# --- delivery strictness: nonces, rate limits, faults, shards ------------------------------


def _rest(fake: FakeDiscord) -> aiohttp.ClientSession:
    """A bare HTTP client logged in as the bot, for what discord.py would hide or pace."""
    return aiohttp.ClientSession(
        base_url=f"{fake.url}/api/v10/", headers={"Authorization": f"Bot {fake.token}"}
    )


async def _dm(bot: ProbeBot, user_id: int) -> discord.DMChannel:
    return await (await bot.fetch_user(user_id)).create_dm()


def _posts(fake: FakeDiscord, channel_id: int) -> list[float]:
    """When each POST /channels/{channel_id}/messages reached the fake (answered or not)."""
    path = f"/channels/{channel_id}/messages"
    return [at for method, p, at in fake.requests if method == "POST" and p == path]


async def test_nonce_returns_the_existing_message_instead_of_a_duplicate(
    fake: FakeDiscord, bot: ProbeBot
) -> None:
    fake.channel_message_period = 0.1  # this test is not about the message bucket
    channel = await _dm(bot, ALICE)
    first = await channel.send("Tonight's practice", nonce="practice-1")
    again = await channel.send("Tonight's practice", nonce="practice-1")
    assert again.id == first.id and again.nonce == "practice-1"
    other = await channel.send("Another practice", nonce="practice-2")
    assert other.id != first.id
    assert [m["content"] for m in fake.dms(ALICE)] == ["Tonight's practice", "Another practice"]
    assert len(_posts(fake, channel.id)) == 3

    workshop = bot.get_channel(fake.channel_id)
    assert isinstance(workshop, discord.TextChannel)
    elsewhere = await workshop.send("Same nonce, other channel", nonce="practice-1")
    assert elsewhere.id != first.id

    async with _rest(fake) as http:  # a nonce without enforce_nonce is only echoed
        for _ in range(2):
            async with http.post(
                f"channels/{fake.channel_id}/messages", json={"content": "raw", "nonce": "raw-1"}
            ) as response:
                assert response.status == 200
                assert (await response.json())["nonce"] == "raw-1"
    assert [m["content"] for m in fake.channel_messages(fake.channel_id)].count("raw") == 2

    fake.nonce_window = 0.2
    await asyncio.sleep(0.25)
    later = await channel.send("Tonight's practice", nonce="practice-1")
    assert later.id != first.id
    assert fake.dm_counts() == Counter({ALICE: 3})

    with pytest.raises(discord.HTTPException) as failure:
        await channel.send("too long a nonce", nonce="n" * 26)
    assert failure.value.status == 400 and failure.value.code == 50035
    assert fake.dm_counts() == Counter({ALICE: 3})


async def test_global_rate_limit_is_answered_like_discord(fake: FakeDiscord) -> None:
    fake.global_rate_limit = 3.0
    async with _rest(fake) as http:
        statuses: list[int] = []
        while len(statuses) < 10:  # the bucket holds 3 requests and gains one every 1/3 s
            async with http.get("users/@me") as response:
                statuses.append(response.status)
                if response.status == 429:
                    break
        async with http.get("users/@me") as response:
            assert statuses[:3] == [200, 200, 200] and response.status == 429
            body = await response.json()
            assert body["message"] == "You are being rate limited." and body["global"] is True
            assert 0 < body["retry_after"] <= 1 / 3 + 0.001
            assert response.headers["Retry-After"] == "1"
            assert response.headers["X-RateLimit-Global"] == "true"
            assert response.headers["X-RateLimit-Scope"] == "global"
        # Interaction endpoints are not bound by the bot's global limit.
        async with http.post("interactions/1/nope/callback", json={"type": 1}) as response:
            assert response.status == 404 and (await response.json())["code"] == 10062
        await asyncio.sleep(body["retry_after"])
        async with http.get("users/@me") as response:
            assert response.status == 200
    assert fake.served_429 == 2


async def test_discord_py_waits_out_a_global_429_and_retries(
    fake: FakeDiscord, bot: ProbeBot
) -> None:
    alice = await _dm(bot, ALICE)
    # Four routes (discord.py paces each one by its own bucket), three requests each: twelve
    # requests through a global bucket of 8 refilled at 8/s.
    fake.global_rate_limit = 8.0
    asked = len(fake.requests)
    started = time.monotonic()
    calls = [
        call()
        for _ in range(3)
        for call in (
            lambda: bot.fetch_user(ALICE),
            lambda: bot.fetch_channel(fake.channel_id),
            lambda: bot.fetch_channel(alice.id),
            bot.application_info,
        )
    ]
    results = await asyncio.gather(*calls)
    assert len(results) == 12 and fake.served_429 >= 1
    assert time.monotonic() - started >= 0.45  # four requests waited for tokens
    assert len(fake.requests) - asked == 12 + fake.served_429  # every 429 was retried


async def test_message_bucket_headers_are_truthful_and_429_past_them(fake: FakeDiscord) -> None:
    fake.channel_message_period = 1.0
    dm_channel = fake.dm_channel_id(ALICE)
    async with _rest(fake) as http:
        seen: list[tuple[str, str, float]] = []
        for n in range(5):
            async with http.post(
                f"channels/{fake.channel_id}/messages", json={"content": f"n{n}"}
            ) as response:
                assert response.status == 200
                h = response.headers
                assert h["X-RateLimit-Limit"] == "5"
                seen.append(
                    (
                        h["X-RateLimit-Remaining"],
                        h["X-RateLimit-Bucket"],
                        float(h["X-RateLimit-Reset-After"]),
                    )
                )
        assert [remaining for remaining, _, _ in seen] == ["4", "3", "2", "1", "0"]
        assert len({bucket for _, bucket, _ in seen}) == 1
        assert all(0 < reset_after <= 1.0 for _, _, reset_after in seen)
        async with http.post(
            f"channels/{fake.channel_id}/messages", json={"content": "one too many"}
        ) as response:
            assert response.status == 429
            body = await response.json()
            assert body["global"] is False and 0 < body["retry_after"] <= 1.0
            assert response.headers["X-RateLimit-Scope"] == "user"
            assert response.headers["X-RateLimit-Remaining"] == "0"
        # Another channel has its own bucket (same route hash; the channel is the key).
        async with http.post(f"channels/{dm_channel}/messages", json={"content": "hi"}) as response:
            assert response.status == 200
            assert response.headers["X-RateLimit-Remaining"] == "4"
            assert response.headers["X-RateLimit-Bucket"] == seen[0][1]
        await asyncio.sleep(body["retry_after"])
        async with http.post(
            f"channels/{fake.channel_id}/messages", json={"content": "after the reset"}
        ) as response:
            assert response.status == 200 and response.headers["X-RateLimit-Remaining"] == "4"
    assert fake.served_429 == 1
    assert len(fake.channel_messages(fake.channel_id)) == 6

    fake.rate_limit_next("/users/@me", 0.05, scope="shared")
    async with _rest(fake) as http, http.get("users/@me") as response:
        assert response.status == 429 and response.headers["X-RateLimit-Scope"] == "shared"
    assert fake.served_429 == 2


async def test_discord_py_paces_itself_by_the_message_bucket(
    fake: FakeDiscord, bot: ProbeBot
) -> None:
    fake.channel_message_period = 0.5
    workshop = bot.get_channel(fake.channel_id)
    assert isinstance(workshop, discord.TextChannel)
    await asyncio.gather(*(workshop.send(f"seat {n}") for n in range(7)))
    times = fake.message_times(fake.channel_id)
    assert len(times) == 7 and fake.served_429 == 0
    assert times[5] - times[0] >= 0.45  # the sixth waited for the bucket to reset
    assert fake.message_times() == times  # no other channel was written to


async def test_proxy_502_creates_nothing_and_discord_py_retries(
    fake: FakeDiscord, bot: ProbeBot
) -> None:
    channel = await _dm(bot, ALICE)
    fake.fault("5xx_before", calls=1, paths="/messages")
    async with _rest(fake) as http:
        async with http.post(f"channels/{channel.id}/messages", json={"content": "x"}) as response:
            assert response.status == 502
            assert response.content_type == "text/html"
            assert "502 Bad Gateway" in await response.text()
        async with http.get("users/@me") as response:  # the fault's calls are spent
            assert response.status == 200
    assert fake.dms(ALICE) == []

    fake.fault("5xx_before", calls=1, paths="/messages")
    sent = await channel.send("after the proxy hiccup")  # discord.py retries a 502 after 1 s
    assert [int(m["id"]) for m in fake.dms(ALICE)] == [sent.id]
    assert len(_posts(fake, channel.id)) == 3
    assert fake.faults_served["5xx_before"] == 2


async def test_500_after_the_work_duplicates_a_message_unless_it_has_a_nonce(
    fake: FakeDiscord, bot: ProbeBot
) -> None:
    """Why messages must carry nonces: discord.py's HTTPClient itself retries a 500 (after 1 s),
    and Discord had already created the message before it failed to answer.

    ``channel.send()`` always sends a nonce with ``enforce_nonce`` (a random one unless
    ``nonce=`` is given), so its own retries are deduplicated; a request without any nonce
    (here ``http.send_message`` with plain parameters) is created twice."""
    channel = await _dm(bot, ALICE)
    fake.fault("5xx_after", calls=1, paths="/messages")
    sent = await channel.send("Today's practice", nonce="daily-2026-11-23")
    assert len(_posts(fake, channel.id)) == 2  # the failed one and discord.py's retry
    assert [int(m["id"]) for m in fake.dms(ALICE)] == [sent.id]
    assert fake.dm_counts() == Counter({ALICE: 1})

    fake.fault("5xx_after", calls=1, paths="/messages")
    params = discord.http.handle_message_parameters(content="Today's practice, no nonce")
    await bot.http.send_message(channel.id, params=params)
    assert len(_posts(fake, channel.id)) == 4
    assert fake.dm_counts() == Counter({ALICE: 3})  # one send, two messages
    assert fake.faults_served["5xx_after"] == 2

    fake.fault("5xx_after", calls=1)
    async with _rest(fake) as http, http.get("users/@me") as response:
        assert response.status == 500
        assert await response.json() == {"message": "500: Internal Server Error", "code": 0}


async def test_timeout_after_holds_the_answer_and_only_a_stable_nonce_dedupes_a_resend(
    fake: FakeDiscord, bot: ProbeBot
) -> None:
    """A send that timed out on the bot's side may have created the message: re-sending with
    the same ``nonce=`` finds it; re-sending without one (discord.py draws a fresh random
    nonce per ``send()``) duplicates it."""
    channel = await _dm(bot, ALICE)
    fake.fault("timeout_after", calls=1, paths="/messages", hold=0.5)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(channel.send("Tonight's practice", nonce="tonight"), 0.1)
    assert fake.dm_counts() == Counter({ALICE: 1})  # created before the answer was held
    again = await channel.send("Tonight's practice", nonce="tonight")
    assert [int(m["id"]) for m in fake.dms(ALICE)] == [again.id]

    fake.fault("timeout_after", calls=1, paths="/messages", hold=0.5)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(channel.send("Tomorrow's practice"), 0.1)
    await channel.send("Tomorrow's practice")
    assert fake.dm_counts() == Counter({ALICE: 3})
    assert fake.faults_served["timeout_after"] == 2


async def test_faults_by_seconds_paths_and_clear(fake: FakeDiscord) -> None:
    async def status(http: aiohttp.ClientSession, path: str) -> int:
        async with http.get(path) as response:
            return response.status

    async with _rest(fake) as http:
        fake.fault("5xx_before", seconds=0.2, paths="/users/@me")
        assert await status(http, "users/@me") == 502
        assert await status(http, "gateway/bot") == 200
        assert await status(http, "users/@me") == 502
        await asyncio.sleep(0.25)
        assert await status(http, "users/@me") == 200
        fake.fault("5xx_after")  # until cleared
        assert [await status(http, "users/@me") for _ in range(2)] == [500, 500]
        fake.clear_faults()
        assert await status(http, "users/@me") == 200
    assert fake.faults_served == {"5xx_before": 2, "5xx_after": 2, "timeout_after": 0, "refuse": 0}
    with pytest.raises(ValueError):
        fake.fault("slow")
    with pytest.raises(ValueError):
        fake.fault("refuse", calls=1)


async def test_refused_port_fails_requests_then_listens_on_the_same_port(
    fake: FakeDiscord, bot: ProbeBot
) -> None:
    url = fake.url
    await bot.fetch_user(ALICE)  # a kept-alive connection that the refusal must close
    fake.fault("refuse", seconds=0.3)
    assert not fake.listening
    with pytest.raises(aiohttp.ClientConnectorError):
        await bot.fetch_user(ALICE)
    await fake.wait_for(lambda: fake.listening, timeout=2)
    assert fake.url == url
    assert (await bot.fetch_user(ALICE)).id == ALICE
    assert fake.faults_served["refuse"] == 1
    await fake.dm(ALICE, "the gateway stayed up")
    await fake.wait_for(lambda: bot.dm_messages, timeout=3)
    assert (fake.identifies, fake.resumes) == (1, 0)

    fake.fault("refuse", seconds=30)
    fake.clear_faults()  # listens again at once
    await fake.wait_for(lambda: fake.listening, timeout=2)
    assert (await bot.fetch_user(ALICE)).id == ALICE


async def test_dm_counts_and_message_times(fake: FakeDiscord, bot: ProbeBot) -> None:
    alice, bob = await _dm(bot, ALICE), await _dm(bot, BOB)
    before = time.monotonic()
    first = await alice.send("one")
    await bob.send("two")
    await alice.send("three")
    await first.delete()
    await fake.dm(ALICE, "a user's own message is not counted")
    assert fake.dm_counts() == Counter({ALICE: 2, BOB: 1})
    times = fake.message_times()
    assert len(times) == 3 and before <= times[0] <= times[1] <= times[2] <= time.monotonic()
    assert fake.message_times(bob.id) == [times[1]]


class GuildOnShardOne(FakeDiscord):
    guild_id = (1 << 22) | 500100  # (guild_id >> 22) % 2 == 1


class ShardProbe(discord.AutoShardedClient):
    def __init__(self, shard_id: int) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        intents.dm_messages = True
        super().__init__(
            intents=intents, shard_ids=[shard_id], shard_count=2, guild_ready_timeout=0.05
        )
        self.dm_messages: list[str] = []
        self.interactions: list[tuple[str, int | None]] = []

    async def on_message(self, message: discord.Message) -> None:
        if message.guild is None and not message.author.bot:
            self.dm_messages.append(message.content)

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        assert interaction.command is None and interaction.data is not None
        self.interactions.append((str(interaction.data.get("name")), interaction.guild_id))


async def test_shards_get_dms_on_shard_zero_and_guild_events_on_their_shard(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = GuildOnShardOne()
    fake.shard_count = 2
    fake.add_member(ALICE, "Alice")
    await fake.start()
    monkeypatch.setattr(discord.http.Route, "BASE", f"{fake.url}/api/v10")
    monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(fake.ws_url))
    clients = [ShardProbe(0), ShardProbe(1)]
    tasks = [asyncio.create_task(c.start(fake.token)) for c in clients]
    try:
        await fake.wait_for(
            lambda: all(c.is_ready() for c in clients) or any(t.done() for t in tasks), 5
        )
        for task in tasks:
            if task.done():
                task.result()
        shard0, shard1 = clients
        assert sorted(fake.identified_shards) == [(0, 2), (1, 2)]
        gateway = await shard0.http.get_bot_gateway()
        assert gateway[0] == 2  # the recommended shard count
        assert shard0.get_guild(fake.guild_id) is None
        assert shard1.get_guild(fake.guild_id) is not None

        await fake.dm(ALICE, "hello shards")
        await fake.wait_for(lambda: shard0.dm_messages, 3)
        payload = [{"name": "ping", "description": "Ping", "type": 1}]
        await shard0.http.bulk_upsert_global_commands(fake.application_id, payload)
        await fake.slash(ALICE, "ping")
        await fake.slash(ALICE, "ping", in_guild=True)
        await fake.wait_for(lambda: shard0.interactions and shard1.interactions, 3)
        sent = await (await shard0.fetch_user(ALICE)).send("the bot's own DM")
        await asyncio.sleep(0.1)  # time for anything misrouted to arrive
        assert shard0.dm_messages == ["hello shards"] and shard1.dm_messages == []
        assert shard0.interactions == [("ping", None)]
        assert shard1.interactions == [("ping", fake.guild_id)]
        assert fake.undelivered == [] and sent.channel.id == fake.dm_channel_id(ALICE)

        await fake.disconnect(shard_id=1)  # one shard resumes, the other is untouched
        await fake.wait_for(lambda: fake.resumes == 1, 3)
        assert sorted(fake.identified_shards) == [(0, 2), (1, 2)]
    finally:
        for client in clients:
            await client.close()
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 5)
        await fake.stop()
    assert fake.errors == [] and fake.unknown_routes == []


async def test_identify_with_an_invalid_shard_is_closed_4010(fake: FakeDiscord) -> None:
    url = f"{fake.ws_url}?v=10&encoding=json"
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        assert (await ws.receive_json())["op"] == 10
        await ws.send_json({"op": 2, "d": {"token": fake.token, "intents": 1, "shard": [2, 2]}})
        closed = await ws.receive()
        assert closed.type is aiohttp.WSMsgType.CLOSE and closed.data == 4010
    assert fake.identified_shards == [] and fake.errors == ["IDENTIFY with an invalid shard [2, 2]"]
    fake.errors.clear()
