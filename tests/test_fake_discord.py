"""The fake Discord server against the real discord.py client (a small bot defined here)."""

from __future__ import annotations

import asyncio
import io
import json
import math
import zlib
from collections.abc import AsyncIterator

import aiohttp
import discord
import pytest
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
